import type { WebhooksSettings } from '../settings.js';

/**
 * Delay before the next attempt after `attempts` failed ones: base · 2^(attempts−1),
 * ±20 % jitter so endpoints that failed together don't retry in lock-step,
 * capped at `maxDelayMs`. With the defaults: ~1 s, 2 s, 4 s, 8 s …
 */
export function retryDelay(attempts: number, settings: Pick<WebhooksSettings, 'baseDelayMs' | 'maxDelayMs'>, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempts - 1, 0), 30);
  const nominal = settings.baseDelayMs * 2 ** exponent;
  const jittered = nominal * (0.8 + 0.4 * random());
  return Math.round(Math.min(settings.maxDelayMs, jittered));
}
