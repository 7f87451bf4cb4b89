import type { PluginContext } from '@mpanel/sdk';
import { S, rows, uuidArray } from '../db.js';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** `cpu_core_usage_percent{core="0"}` → base name and label text. */
function split(metric: string): { base: string; labels: string } {
  const i = metric.indexOf('{');
  if (i < 0) return { base: metric, labels: '' };
  return { base: metric.slice(0, i), labels: metric.slice(i + 1, metric.endsWith('}') ? -1 : undefined) };
}

/**
 * The newest reading of every visible agent in the Prometheus text format
 * (0.0.4), for users who already run Prometheus: scrape with an API token
 * that holds `monitoring.read`.
 */
export function registerPrometheusRoute(ctx: PluginContext<any>): void {
  ctx.routes.add({
    method: 'GET',
    path: '/metrics',
    summary: 'Latest agent metrics in the Prometheus text exposition format.',
    permission: 'monitoring.read',
    raw: true,
    handler: async (req) => {
      const data = await rows(req.em,
        `select a.id, a.name, a.online, a.revoked_at, extract(epoch from a.last_seen_at)::float8 as seen, s.ts_ms, s.names, s.vals
         from ${S}.agent a
         left join lateral (
           select (extract(epoch from x.ts) * 1000)::bigint as ts_ms, l.names, x.vals
           from ${S}.sample x join ${S}.layout l on l.id = x.layout_id where x.agent_id = a.id order by x.seq desc limit 1) s on true
         where a.tenant_id = any(?::uuid[]) and a.revoked_at is null order by a.name, a.id`,
        [uuidArray(req.visibleTenantIds)]);
      const families = new Map<string, string[]>();
      const add = (name: string, line: string) => {
        let f = families.get(name);
        if (!f) families.set(name, (f = []));
        f.push(line);
      };
      for (const a of data) {
        const agentLabels = `agent_id="${a.id}",agent="${esc(a.name)}"`;
        add('mpanel_agent_up', `mpanel_agent_up{${agentLabels}} ${a.online ? 1 : 0}`);
        if (a.seen !== null) add('mpanel_agent_last_seen_timestamp_seconds', `mpanel_agent_last_seen_timestamp_seconds{${agentLabels}} ${a.seen}`);
        if (!a.names) continue;
        (a.names as string[]).forEach((metric, i) => {
          const v = a.vals[i];
          if (v === null || v === undefined) return;
          const { base, labels } = split(metric);
          if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(base)) return;
          const name = `mpanel_agent_${base}`;
          add(name, `${name}{${agentLabels}${labels ? `,${labels}` : ''}} ${Number(v)} ${a.ts_ms}`);
        });
      }
      let body = '';
      for (const [name, lines] of families) body += `# TYPE ${name} gauge\n${lines.join('\n')}\n`;
      const res = req.raw.res as { status(n: number): unknown; setHeader(k: string, v: string): void; end(b: string): void };
      res.status(200);
      res.setHeader('content-type', 'text/plain; version=0.0.4; charset=utf-8');
      res.end(body);
    },
  });
}
