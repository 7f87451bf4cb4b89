import type { Kernel } from '../kernel.js';
import { appendAudit } from '../audit/store.js';

const DAY = 86_400_000;

/** What one maintenance pass removed. */
export interface PurgeCounts {
  apiTokens: number;
  sessions: number;
  oneTimeTokens: number;
  outboxEvents: number;
}

/**
 * Removes credentials and bookkeeping that can no longer be used: API tokens
 * and sessions expired or revoked more than `graceDays` ago (kept that long so
 * "why was I logged out" can still be answered), used or expired one-time
 * tokens, and delivered outbox events older than a week. A pass that removed
 * anything is audited as `system.purge`.
 */
export async function purgeExpired(k: Kernel, graceDays = 30): Promise<PurgeCounts> {
  const em = k.systemEm();
  const cutoff = new Date(k.now() - graceDays * DAY);
  return em.transactional(async (tem) => {
    const t = tem as unknown as typeof em;
    const count = async (sql: string, params: unknown[]) => {
      const rows = await t.execute<Array<{ n: string }>>(`with d as (${sql} returning 1) select count(*) as n from d`, params);
      return Number(rows[0]?.n ?? 0);
    };
    const result: PurgeCounts = {
      apiTokens: await count('delete from api_token where expires_at < ? or revoked_at < ?', [cutoff, cutoff]),
      sessions: await count('delete from session where expires_at < ? or revoked_at < ?', [cutoff, cutoff]),
      oneTimeTokens: await count('delete from one_time_token where expires_at < ? or used_at < ?', [new Date(k.now() - DAY), new Date(k.now() - DAY)]),
      outboxEvents: await count('delete from outbox_event where delivered_at < ?', [new Date(k.now() - 7 * DAY)]),
    };
    if (Object.values(result).some((n) => n > 0)) {
      await appendAudit(t, { actorType: 'system', actorId: 'maintenance', actorLabel: 'maintenance', action: 'system.purge', outcome: 'success', details: { ...result, graceDays } });
    }
    return result;
  });
}

/** Runs `purgeExpired` now and then every `intervalMs`; returns the stop function. */
export function scheduleMaintenance(k: Kernel, intervalMs = 3_600_000): () => void {
  const run = () =>
    purgeExpired(k).then(
      (counts) => k.log.debug({ counts }, 'maintenance pass'),
      (err) => k.log.warn({ err }, 'maintenance pass failed'),
    );
  const first = setTimeout(run, 10_000);
  const timer = setInterval(run, intervalMs);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
