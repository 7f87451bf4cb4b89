import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { S, rows, idParams, uuidArray, assertCan, visibleAgent } from '../db.js';
import { commandView, type CommandService } from '../commands/command-service.js';
import type { MonitoringSettings } from '../settings.js';

/** Remote commands: run one (signed, allowlisted on the agent), list, follow. */
export function registerCommandRoutes(ctx: PluginContext<MonitoringSettings>, commands: CommandService): void {
  ctx.routes.add<{ id: string }, {}, { name: string; timeoutMs?: number }>({
    method: 'POST',
    path: '/agents/:id/commands',
    summary: 'Run a command from the agent\'s allowlist (by name). Output streams live to subscribers and is kept with the command.',
    permission: 'monitoring.command',
    audit: 'monitoring.command.run',
    tenantScoped: true,
    status: 202,
    schema: {
      params: idParams,
      body: { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,100}$' }, timeoutMs: { type: 'integer', minimum: 100, maximum: 3600000 } } },
    },
    handler: async (req) => {
      const a = await visibleAgent(req, req.params.id);
      assertCan(req, 'monitoring.command', a.tenant_path);
      req.audit.target = `monitoring-agent:${a.id}`;
      req.audit.tenantId = a.tenant_id;
      req.audit.tenantPath = a.tenant_path;
      req.audit.details = { command: req.body.name };
      const c = await commands.run(req, a, req.body.name, req.body.timeoutMs ?? ctx.settings.get().commandTimeoutMs);
      req.audit.details = { command: req.body.name, commandId: c.id };
      return commandView(c);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/agents/:id/commands',
    summary: 'Commands run on an agent, newest first.',
    permission: 'monitoring.read',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => {
      const a = await visibleAgent(req, req.params.id);
      const list = await rows(req.em, `select * from ${S}.command where agent_id = ? order by created_at desc limit 200`, [a.id]);
      return { items: list.map(commandView) };
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/commands/:id',
    summary: 'One command with its output so far.',
    permission: 'monitoring.read',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => {
      const [c] = await rows(req.em, `select * from ${S}.command where id = ? and tenant_id = any(?::uuid[])`, [req.params.id, uuidArray(req.visibleTenantIds)]);
      if (!c) throw new ProblemError('not-found', `No command ${req.params.id}`, { status: 404 });
      return commandView(c);
    },
  });
}
