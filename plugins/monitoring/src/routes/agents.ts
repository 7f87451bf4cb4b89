import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { S, rows, idParams, uuidArray, assertCan, visibleAgent, iso } from '../db.js';
import type { AgentHub } from '../ingest/agent-hub.js';
import { querySeries, type Resolution } from '../storage/series.js';
import type { MonitoringSettings } from '../settings.js';
import { agentView } from './views.js';

const METRIC = { type: 'string', minLength: 1, maxLength: 300 };

/** Agents: list with live status, details, rename/interval, revoke; their metrics and logs. */
export function registerAgentRoutes(ctx: PluginContext<MonitoringSettings>, hub: AgentHub): void {
  ctx.routes.add<{}, { status?: string }>({
    method: 'GET',
    path: '/agents',
    summary: 'Agents of the tenants you can see, with their online/offline status.',
    permission: 'monitoring.read',
    schema: { query: { type: 'object', properties: { status: { enum: ['online', 'offline', 'revoked'] } } } },
    handler: async (req) => {
      const list = await rows(req.em, `select * from ${S}.agent where tenant_id = any(?::uuid[]) order by name, id limit 10000`, [uuidArray(req.visibleTenantIds)]);
      const items = list.map(agentView).filter((a) => !req.query.status || a.status === req.query.status);
      return { items };
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/agents/:id',
    summary: 'One agent.',
    permission: 'monitoring.read',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => agentView(await visibleAgent(req, req.params.id)),
  });

  ctx.routes.add<{ id: string }, {}, { name?: string; intervalMs?: number | null }>({
    method: 'PATCH',
    path: '/agents/:id',
    summary: 'Rename an agent or set its collection interval (null: the panel default); a connected agent switches at once.',
    permission: 'monitoring.manage',
    audit: 'monitoring.agent.update',
    tenantScoped: true,
    schema: {
      params: idParams,
      body: { type: 'object', minProperties: 1, properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, intervalMs: { type: ['integer', 'null'], minimum: 100, maximum: 3600000 } } },
    },
    handler: async (req) => {
      const a = await visibleAgent(req, req.params.id);
      assertCan(req, 'monitoring.manage', a.tenant_path);
      const [u] = await rows(req.em,
        `update ${S}.agent set name = coalesce(?, name), interval_ms = case when ? then ? else interval_ms end where id = ? returning *`,
        [req.body.name ?? null, req.body.intervalMs !== undefined, req.body.intervalMs ?? null, a.id]);
      req.audit.target = `monitoring-agent:${a.id}`;
      req.audit.tenantId = a.tenant_id;
      req.audit.tenantPath = a.tenant_path;
      req.audit.details = { changes: Object.keys(req.body), name: u!.name };
      if (req.body.intervalMs !== undefined) req.afterCommit(() => hub.push(a.id, { intervalMs: u!.interval_ms ?? ctx.settings.get().defaultIntervalMs }));
      return agentView(u!);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'POST',
    path: '/agents/:id/revoke',
    summary: 'Revoke an agent: its credential stops working and it is disconnected now. Its data stays.',
    permission: 'monitoring.manage',
    audit: 'monitoring.agent.revoke',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => {
      const a = await visibleAgent(req, req.params.id);
      assertCan(req, 'monitoring.manage', a.tenant_path);
      if (a.revoked_at) throw new ProblemError('agent-revoked', 'The agent is revoked already', { status: 409 });
      const [u] = await rows(req.em, `update ${S}.agent set revoked_at = now(), online = false, connected_node = null where id = ? returning *`, [a.id]);
      req.audit.target = `monitoring-agent:${a.id}`;
      req.audit.tenantId = a.tenant_id;
      req.audit.tenantPath = a.tenant_path;
      req.audit.details = { name: a.name };
      await req.publish('monitoring.agent.revoked', { agentId: a.id, name: a.name }, { tenantId: a.tenant_id, tenantPath: a.tenant_path, permission: 'monitoring.read' });
      req.afterCommit(() => hub.disconnect(a.id));
      return agentView(u!);
    },
  });

  ctx.routes.add<{ id: string }, { metrics: string; from?: string; to?: string; resolution: Resolution | 'auto' }>({
    method: 'GET',
    path: '/agents/:id/series',
    summary: 'Time series of metrics (comma-separated names, `prefix*` allowed) over a range; the resolution (raw, 1m, 1h) is picked for the range unless given.',
    permission: 'monitoring.read',
    tenantScoped: true,
    schema: {
      params: idParams,
      query: {
        type: 'object', required: ['metrics'],
        properties: {
          metrics: { type: 'string', minLength: 1, maxLength: 3000 }, from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' },
          resolution: { enum: ['auto', 'raw', '1m', '1h'], default: 'auto' },
        },
      },
    },
    handler: async (req) => {
      const a = await visibleAgent(req, req.params.id);
      const metrics = req.query.metrics.split(',').map((m) => m.trim()).filter(Boolean);
      if (!metrics.length || metrics.length > 50) throw new ProblemError('invalid-metrics', 'Name 1 to 50 metrics', { status: 400 });
      const to = req.query.to ? new Date(req.query.to) : new Date();
      const from = req.query.from ? new Date(req.query.from) : new Date(to.getTime() - 3600_000);
      return { agentId: a.id, from: from.toISOString(), to: to.toISOString(), ...(await querySeries(req.em, { agentId: a.id, metrics, from, to, resolution: req.query.resolution ?? 'auto' }, ctx.settings.get())) };
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/agents/:id/latest',
    summary: 'The newest snapshot of an agent: every metric and its value.',
    permission: 'monitoring.read',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => {
      const a = await visibleAgent(req, req.params.id);
      const [s] = await rows(req.em,
        `select s.seq, s.ts, l.names, s.vals from ${S}.sample s join ${S}.layout l on l.id = s.layout_id where s.agent_id = ? order by s.seq desc limit 1`, [a.id]);
      if (!s) return { agentId: a.id, seq: null, ts: null, metrics: {} };
      const metrics: Record<string, number | null> = {};
      (s.names as string[]).forEach((n, i) => (metrics[n] = s.vals[i] === null ? null : Number(s.vals[i])));
      return { agentId: a.id, seq: Number(s.seq), ts: iso(s.ts), metrics };
    },
  });

  ctx.routes.add<{ id: string }, { file?: string; limit: number; before?: number }>({
    method: 'GET',
    path: '/agents/:id/logs',
    summary: 'Shipped log lines of an agent, newest first.',
    permission: 'monitoring.read',
    tenantScoped: true,
    schema: {
      params: idParams,
      query: { type: 'object', properties: { file: METRIC, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 }, before: { type: 'integer', minimum: 1 } } },
    },
    handler: async (req) => {
      const a = await visibleAgent(req, req.params.id);
      const list = await rows(req.em,
        `select id, file, ts, line from ${S}.log_line where agent_id = ? and (?::text is null or file = ?) and (?::bigint is null or id < ?) order by id desc limit ?`,
        [a.id, req.query.file ?? null, req.query.file ?? null, req.query.before ?? null, req.query.before ?? null, req.query.limit ?? 200]);
      return { items: list.map((l) => ({ id: Number(l.id), file: l.file, ts: iso(l.ts), line: l.line })) };
    },
  });

  ctx.routes.add({
    method: 'GET',
    path: '/fleet',
    summary: 'Fleet health for the dashboard widget: agents by status and firing alerts.',
    permission: 'monitoring.read',
    handler: async (req) => {
      const vis = uuidArray(req.visibleTenantIds);
      const [c] = await rows(req.em,
        `select count(*) filter (where revoked_at is null)::int as total, count(*) filter (where revoked_at is null and online)::int as online from ${S}.agent where tenant_id = any(?::uuid[])`, [vis]);
      const alerts = await rows(req.em,
        `select severity, count(*)::int as n from ${S}.alert where state = 'firing' and tenant_id = any(?::uuid[]) group by severity`, [vis]);
      return { agents: { total: c!.total, online: c!.online, offline: c!.total - c!.online }, firing: Object.fromEntries(alerts.map((a) => [a.severity, a.n])) };
    },
  });
}
