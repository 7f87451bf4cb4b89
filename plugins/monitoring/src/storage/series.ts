import { ProblemError, type PluginEntityManager } from '@mpanel/sdk';
import { S, rows } from '../db.js';
import type { MonitoringSettings } from '../settings.js';

export type Resolution = 'raw' | '1m' | '1h';

export interface SeriesQuery { agentId: string; metrics: string[]; from: Date; to: Date; resolution: Resolution | 'auto' }
export interface Series { metric: string; points: Array<[number, number | null, number | null, number | null]> }

/** Most points a raw query returns (a longer range should use a rollup). */
const MAX_RAW_ROWS = 20_000;

/**
 * Picks the resolution for a range: raw up to 6 hours, 1-minute rollups up
 * to 7 days, hourly beyond — and never a level whose retention no longer
 * covers the start of the range.
 */
export function pickResolution(from: Date, to: Date, s: MonitoringSettings, now = Date.now()): Resolution {
  const span = to.getTime() - from.getTime();
  const age = now - from.getTime();
  if (span <= 6 * 3600_000 && age <= s.rawRetentionHours * 3600_000) return 'raw';
  if (span <= 7 * 86400_000 && age <= s.minuteRetentionDays * 86400_000) return '1m';
  return '1h';
}

function matcher(metrics: string[]): (name: string) => boolean {
  const exact = new Set(metrics.filter((m) => !m.endsWith('*')));
  const prefixes = metrics.filter((m) => m.endsWith('*')).map((m) => m.slice(0, -1));
  return (n) => exact.has(n) || prefixes.some((p) => n.startsWith(p));
}

/** Points of the asked metrics (exact names or `prefix*`): `[t, value, min, max]`, ms timestamps. */
export async function querySeries(em: PluginEntityManager, q: SeriesQuery, settings: MonitoringSettings): Promise<{ resolution: Resolution; series: Series[] }> {
  if (q.to <= q.from) throw new ProblemError('invalid-range', '`to` must be after `from`', { status: 400 });
  const resolution = q.resolution === 'auto' ? pickResolution(q.from, q.to, settings) : q.resolution;
  const match = matcher(q.metrics);
  const out = new Map<string, Series>();
  const series = (metric: string) => {
    let s = out.get(metric);
    if (!s) out.set(metric, (s = { metric, points: [] }));
    return s;
  };
  if (resolution === 'raw') {
    const data = await rows(em,
      `select (extract(epoch from s.ts) * 1000)::float8 as t, s.layout_id, s.vals from ${S}.sample s
       where s.agent_id = ? and s.ts >= ?::timestamptz and s.ts < ?::timestamptz order by s.ts, s.seq limit ${MAX_RAW_ROWS + 1}`,
      [q.agentId, q.from.toISOString(), q.to.toISOString()]);
    if (data.length > MAX_RAW_ROWS) throw new ProblemError('range-too-large', `More than ${MAX_RAW_ROWS} raw samples in the range; use resolution=1m or a shorter range`, { status: 422 });
    const layoutIds = [...new Set(data.map((d) => d.layout_id as number))];
    const layouts = new Map<number, Array<[string, number]>>();
    if (layoutIds.length) {
      for (const l of await rows(em, `select id, names from ${S}.layout where id in (${layoutIds.map(() => '?').join(',')})`, layoutIds)) {
        layouts.set(l.id, (l.names as string[]).map((n, i) => [n, i] as [string, number]).filter(([n]) => match(n)));
      }
    }
    for (const d of data) {
      for (const [name, i] of layouts.get(d.layout_id) ?? []) {
        const v = d.vals[i] === null ? null : Number(d.vals[i]);
        series(name).points.push([Number(d.t), v, v, v]);
      }
    }
  } else {
    const table = resolution === '1m' ? 'rollup_1m' : 'rollup_1h';
    const exact = q.metrics.filter((m) => !m.endsWith('*'));
    const prefixes = q.metrics.filter((m) => m.endsWith('*')).map((m) => `${m.slice(0, -1).replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    const conds = [...exact.map(() => 'metric = ?'), ...prefixes.map(() => 'metric like ?')].join(' or ');
    const data = await rows(em,
      `select metric, (extract(epoch from bucket) * 1000)::float8 as t, avg, min, max from ${S}.${table}
       where agent_id = ? and bucket >= ?::timestamptz and bucket < ?::timestamptz and (${conds}) order by metric, bucket limit 200000`,
      [q.agentId, q.from.toISOString(), q.to.toISOString(), ...exact, ...prefixes]);
    for (const d of data) series(d.metric).points.push([Number(d.t), d.avg === null ? null : Number(d.avg), d.min === null ? null : Number(d.min), d.max === null ? null : Number(d.max)]);
  }
  return { resolution, series: [...out.values()].sort((a, b) => a.metric.localeCompare(b.metric)) };
}
