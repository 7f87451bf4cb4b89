import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext, type PluginRequest } from '@mpanel/sdk';
import { S, rows, idParams, uuidSchema, uuidArray, assertCan, targetTenant, visibleAgent, type Row } from '../db.js';
import type { MonitoringSettings } from '../settings.js';
import { alertView, ruleView } from './views.js';

interface RuleBody {
  name?: string; metric?: string; comparison?: string; threshold?: number; durationSeconds?: number; severity?: string;
  agentId?: string | null; notify?: string[]; enabled?: boolean; tenantId?: string;
}

const ruleProps = {
  name: { type: 'string', minLength: 1, maxLength: 200 },
  metric: { type: 'string', minLength: 1, maxLength: 300 },
  comparison: { enum: ['>', '>=', '<', '<='] },
  threshold: { type: 'number' },
  durationSeconds: { type: 'integer', minimum: 0, maximum: 86400 },
  severity: { enum: ['info', 'warning', 'critical'] },
  agentId: { anyOf: [uuidSchema, { type: 'null' }] },
  notify: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', format: 'email', maxLength: 320 } },
  enabled: { type: 'boolean' },
};

async function visibleRule(req: PluginRequest<any, any, any>, id: string): Promise<Row> {
  const [r] = await rows(req.em, `select * from ${S}.alert_rule where id = ? and tenant_id = any(?::uuid[])`, [id, uuidArray(req.visibleTenantIds)]);
  if (!r) throw new ProblemError('not-found', `No alert rule ${id}`, { status: 404 });
  return r;
}

/** A rule for one agent must live in (or above) that agent's tenant. */
async function checkAgent(req: PluginRequest<any, any, any>, agentId: string | null | undefined, tenantPath: string): Promise<void> {
  if (!agentId) return;
  const a = await visibleAgent(req, agentId);
  if (!String(a.tenant_path).startsWith(tenantPath)) throw new ProblemError('agent-outside-tenant', 'The agent is not in the rule\'s tenant', { status: 422 });
}

/** Alert rules (CRUD) and alert history. */
export function registerAlertRoutes(ctx: PluginContext<MonitoringSettings>): void {
  ctx.routes.add({
    method: 'GET',
    path: '/alert-rules',
    summary: 'Alert rules of the tenants you can see.',
    permission: 'monitoring.read',
    handler: async (req) => ({ items: (await rows(req.em, `select * from ${S}.alert_rule where tenant_id = any(?::uuid[]) order by name, id`, [uuidArray(req.visibleTenantIds)])).map(ruleView) }),
  });

  ctx.routes.add<{}, {}, RuleBody>({
    method: 'POST',
    path: '/alert-rules',
    summary: 'Create an alert rule: metric, comparison, threshold, how long it must hold, severity; for one agent or every agent of the tenant.',
    permission: 'monitoring.manage',
    audit: 'monitoring.alert-rule.create',
    status: 201,
    schema: { body: { type: 'object', required: ['name', 'metric', 'comparison', 'threshold', 'severity'], properties: { ...ruleProps, tenantId: uuidSchema } } },
    handler: async (req) => {
      const tenant = await targetTenant(req, ctx.tenants, req.body.tenantId);
      assertCan(req, 'monitoring.manage', tenant.path);
      await checkAgent(req, req.body.agentId, tenant.path);
      const b = req.body;
      const [r] = await rows(req.em,
        `insert into ${S}.alert_rule (id, tenant_id, tenant_path, name, metric, comparison, threshold, duration_s, severity, agent_id, notify, enabled)
         values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?) returning *`,
        [randomUUID(), tenant.id, tenant.path, b.name, b.metric, b.comparison, b.threshold, b.durationSeconds ?? 0, b.severity, b.agentId ?? null, JSON.stringify(b.notify ?? []), b.enabled ?? true]);
      req.audit.target = `monitoring-alert-rule:${r!.id}`;
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      req.audit.details = { name: b.name, metric: b.metric, comparison: b.comparison, threshold: b.threshold };
      return ruleView(r!);
    },
  });

  ctx.routes.add<{ id: string }, {}, RuleBody>({
    method: 'PATCH',
    path: '/alert-rules/:id',
    summary: 'Change an alert rule.',
    permission: 'monitoring.manage',
    audit: 'monitoring.alert-rule.update',
    tenantScoped: true,
    schema: { params: idParams, body: { type: 'object', minProperties: 1, properties: ruleProps } },
    handler: async (req) => {
      const r = await visibleRule(req, req.params.id);
      assertCan(req, 'monitoring.manage', r.tenant_path);
      const b = req.body;
      if (b.agentId !== undefined) await checkAgent(req, b.agentId, r.tenant_path);
      const [u] = await rows(req.em,
        `update ${S}.alert_rule set name = ?, metric = ?, comparison = ?, threshold = ?, duration_s = ?, severity = ?, agent_id = ?, notify = ?::jsonb, enabled = ?, updated_at = now()
         where id = ? returning *`,
        [b.name ?? r.name, b.metric ?? r.metric, b.comparison ?? r.comparison, b.threshold ?? r.threshold, b.durationSeconds ?? r.duration_s, b.severity ?? r.severity,
          b.agentId !== undefined ? b.agentId : r.agent_id, JSON.stringify(b.notify ?? r.notify ?? []), b.enabled ?? r.enabled, r.id]);
      req.audit.target = `monitoring-alert-rule:${r.id}`;
      req.audit.tenantId = r.tenant_id;
      req.audit.tenantPath = r.tenant_path;
      req.audit.details = { changes: Object.keys(b) };
      return ruleView(u!);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'DELETE',
    path: '/alert-rules/:id',
    summary: 'Delete an alert rule and its alert history.',
    permission: 'monitoring.manage',
    audit: 'monitoring.alert-rule.delete',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => {
      const r = await visibleRule(req, req.params.id);
      assertCan(req, 'monitoring.manage', r.tenant_path);
      await rows(req.em, `delete from ${S}.alert_rule where id = ? returning id`, [r.id]);
      req.audit.target = `monitoring-alert-rule:${r.id}`;
      req.audit.tenantId = r.tenant_id;
      req.audit.tenantPath = r.tenant_path;
      req.audit.details = { name: r.name };
      return undefined;
    },
  });

  ctx.routes.add<{}, { state?: string; agentId?: string; limit: number }>({
    method: 'GET',
    path: '/alerts',
    summary: 'Alert history (pending, firing, resolved), newest first.',
    permission: 'monitoring.read',
    schema: { query: { type: 'object', properties: { state: { enum: ['pending', 'firing', 'resolved'] }, agentId: uuidSchema, limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } } } },
    handler: async (req) => {
      const list = await rows(req.em,
        `select al.*, r.name as rule_name, a.name as agent_name from ${S}.alert al join ${S}.alert_rule r on r.id = al.rule_id join ${S}.agent a on a.id = al.agent_id
         where al.tenant_id = any(?::uuid[]) and (?::text is null or al.state = ?) and (?::uuid is null or al.agent_id = ?)
         order by coalesce(al.fired_at, al.pending_since) desc limit ?`,
        [uuidArray(req.visibleTenantIds), req.query.state ?? null, req.query.state ?? null, req.query.agentId ?? null, req.query.agentId ?? null, req.query.limit ?? 100]);
      return { items: list.map(alertView) };
    },
  });
}
