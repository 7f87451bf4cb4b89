import type { PluginContext } from '@mpanel/sdk';
import { S, rows } from '../db.js';
import type { MonitoringSettings } from '../settings.js';

/**
 * Downsampling raw → 1 min → 1 h. Each run recomputes every (agent, bucket)
 * that received samples since the last run — found by `received_at`, so
 * samples replayed late by an agent after an outage land in their rollups
 * too — and upserts it from the full data of that bucket.
 */
export async function computeRollups(ctx: PluginContext<MonitoringSettings>): Promise<{ minutes: number; hours: number }> {
  return ctx.db.transaction(async (em) => {
    // One runner at a time across nodes.
    const [lock] = await rows(em, `select pg_try_advisory_xact_lock(hashtext('${S}.rollup')) as ok`);
    if (!lock?.ok) return { minutes: 0, hours: 0 };
    const [state] = await rows(em, `select watermark from ${S}.rollup_state where name = 'rollup'`);
    const from = state?.watermark ? new Date(state.watermark).toISOString() : '-infinity';
    // Leave a margin: an insert that started before `upto` may commit a moment later.
    const [{ upto }] = (await rows(em, `select now() - interval '5 seconds' as upto`)) as [{ upto: Date }];
    const to = new Date(upto).toISOString();
    const touched = `select distinct agent_id, date_trunc(?, ts) as b from ${S}.sample where received_at > ?::timestamptz and received_at <= ?::timestamptz`;
    const minutes = await rows(em,
      `insert into ${S}.rollup_1m (agent_id, metric, bucket, avg, min, max, n)
       select s.agent_id, m.name, date_trunc('minute', s.ts), avg(m.v), min(m.v), max(m.v), count(m.v)
       from ${S}.sample s join ${S}.layout l on l.id = s.layout_id
       cross join lateral unnest(l.names, s.vals) as m(name, v)
       where (s.agent_id, date_trunc('minute', s.ts)) in (${touched}) and m.v is not null
       group by 1, 2, 3
       on conflict (agent_id, metric, bucket) do update set avg = excluded.avg, min = excluded.min, max = excluded.max, n = excluded.n
       returning 1`, ['minute', from, to]);
    const hours = await rows(em,
      `insert into ${S}.rollup_1h (agent_id, metric, bucket, avg, min, max, n)
       select agent_id, metric, date_trunc('hour', bucket), sum(avg * n) / nullif(sum(n), 0), min(min), max(max), sum(n)
       from ${S}.rollup_1m
       where (agent_id, date_trunc('hour', bucket)) in (${touched})
       group by 1, 2, 3
       on conflict (agent_id, metric, bucket) do update set avg = excluded.avg, min = excluded.min, max = excluded.max, n = excluded.n
       returning 1`, ['hour', from, to]);
    await rows(em, `insert into ${S}.rollup_state (name, watermark) values ('rollup', ?::timestamptz) on conflict (name) do update set watermark = excluded.watermark`, [to]);
    return { minutes: minutes.length, hours: hours.length };
  });
}

/** Deletes what is older than each level's retention. */
export async function applyRetention(ctx: PluginContext<MonitoringSettings>): Promise<Record<string, number>> {
  const s = ctx.settings.get();
  const em = ctx.db.em();
  const del = async (sql: string, n: number) => (await rows(em, `${sql} returning 1`, [n])).length;
  return {
    raw: await del(`delete from ${S}.sample where ts < now() - ? * interval '1 hour'`, s.rawRetentionHours),
    minute: await del(`delete from ${S}.rollup_1m where bucket < now() - ? * interval '1 day'`, s.minuteRetentionDays),
    hour: await del(`delete from ${S}.rollup_1h where bucket < now() - ? * interval '1 day'`, s.hourRetentionDays),
    logs: await del(`delete from ${S}.log_line where ts < now() - ? * interval '1 hour'`, s.logRetentionHours),
  };
}
