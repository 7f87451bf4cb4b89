import type { PluginContext, PluginEvent } from '@mpanel/sdk';
import type { WebhooksSettings } from '../settings.js';
import { retryDelay } from './backoff.js';
import { endpointReceives } from './event-filter.js';
import { sendWebhook, type AttemptResult } from './sender.js';
import { DeliveryStore, type ClaimedDelivery } from './store.js';

/** Deliveries sent at the same time by one panel process. */
const MAX_IN_FLIGHT = 16;
/** Events of this plugin itself are never fanned out (no loops, no noise). */
const OWN_EVENTS = 'webhooks.';
/** Published (after commit) when a route queued a delivery, so the worker starts at once. */
export const QUEUED_EVENT = 'webhooks.delivery.queued';

/** The JSON body every endpoint receives. */
export function deliveryBody(e: { id: string; type: string; createdAt: string; tenantId: string | null; payload: Record<string, unknown> }): string {
  return JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt, tenantId: e.tenantId, payload: e.payload });
}

/**
 * Fans events out to matching endpoints (persisting one delivery each before
 * anything is sent) and works the queue: claims due deliveries, sends them,
 * and records success, a retry with backoff, or the final failure. Stops when
 * `signal` aborts (the plugin is disabled); unfinished deliveries stay pending
 * for the next start.
 */
export class WebhookDispatcher {
  readonly store: DeliveryStore;
  private inFlight = 0;
  private pumping = false;
  private again = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly idle = new Set<Promise<void>>();

  constructor(
    private readonly ctx: PluginContext<WebhooksSettings>,
    private readonly signal: AbortSignal,
  ) {
    this.store = new DeliveryStore(ctx.db);
    signal.addEventListener('abort', () => {
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
    }, { once: true });
  }

  /** Event-bus subscriber for `*`. */
  async onEvent(event: PluginEvent): Promise<void> {
    if (event.type.startsWith(OWN_EVENTS)) {
      if (event.type === QUEUED_EVENT) this.kick();
      return;
    }
    let tenantPath = event.tenantPath;
    if (event.tenantId && !tenantPath) tenantPath = await this.store.tenantPath(event.tenantId);
    const routable = { type: event.type, tenantPath };
    const targets = (await this.store.candidateEndpoints(tenantPath)).filter((e) => endpointReceives(e, routable));
    if (targets.length === 0) return;
    const body = deliveryBody({ id: String(event.id), type: event.type, createdAt: event.createdAt, tenantId: event.tenantId, payload: event.payload });
    await this.store.insert(targets.map((e) => ({ endpointId: e.id, tenantId: e.tenantId, eventId: String(event.id), eventType: event.type, body })));
    this.kick();
  }

  /** Starts working the queue (coalesces: calls while it works make it look again). */
  kick(): void {
    if (this.signal.aborted) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    void this.pump().finally(() => {
      this.pumping = false;
    });
  }

  /** Resolves when nothing is being sent (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.idle.size) await Promise.allSettled([...this.idle]);
  }

  private async pump(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.signal.aborted && this.inFlight < MAX_IN_FLIGHT) {
          const { timeoutMs } = this.ctx.settings.get();
          const batch = await this.store.claimDue(MAX_IN_FLIGHT - this.inFlight, timeoutMs + 30_000);
          if (batch.length === 0) break;
          for (const d of batch) this.start(d);
        }
      } while (this.again && !this.signal.aborted);
    } catch (err) {
      this.ctx.log.error({ err }, 'claiming due webhook deliveries failed');
    }
  }

  private start(d: ClaimedDelivery): void {
    this.inFlight++;
    const p: Promise<void> = this.attempt(d)
      .catch((err) => this.ctx.log.error({ err, delivery: d.id }, 'webhook delivery attempt failed unexpectedly'))
      .finally(() => {
        this.inFlight--;
        this.idle.delete(p);
        this.kick();
      });
    this.idle.add(p);
  }

  private async attempt(d: ClaimedDelivery): Promise<void> {
    const settings = this.ctx.settings.get();
    if (!d.active) {
      await this.store.markFailed(d.id, d.attempts, null, 'the endpoint is inactive', null);
      return;
    }
    const result = await sendWebhook(
      { url: d.url, secret: d.secret, deliveryId: d.id, eventType: d.eventType, body: d.body },
      { timeoutMs: settings.timeoutMs, allowPrivateNetworks: settings.allowPrivateNetworks, userAgent: `mpanel-webhooks/${this.ctx.version}`, signal: this.signal },
    );
    if (result.aborted) {
      await this.store.release(d.id);
      return;
    }
    if (result.ok) {
      await this.store.markDelivered(d.id, result.statusCode!, result.durationMs);
      return;
    }
    const attempts = d.attempts + 1;
    if (attempts >= settings.maxAttempts) {
      await this.store.markFailed(d.id, attempts, result.statusCode, result.error ?? 'failed', result.durationMs);
      await this.auditFailure(d, attempts, result);
      return;
    }
    const delay = retryDelay(attempts, settings);
    await this.store.scheduleRetry(d.id, attempts, result.statusCode, result.error ?? 'failed', result.durationMs, delay);
    this.later(delay);
  }

  /** Wakes the worker when a retry is due (the periodic job covers restarts and other processes). */
  private later(ms: number): void {
    if (this.signal.aborted) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      this.kick();
    }, ms + 5);
    t.unref();
    this.timers.add(t);
  }

  private async auditFailure(d: ClaimedDelivery, attempts: number, r: AttemptResult): Promise<void> {
    await this.ctx.audit.write({
      action: 'webhooks.delivery.failed',
      outcome: 'failure',
      target: `delivery:${d.id}`,
      tenantId: d.tenantId,
      tenantPath: d.tenantPath,
      details: { endpointId: d.endpointId, eventType: d.eventType, attempts, statusCode: r.statusCode, error: r.error },
    });
  }
}
