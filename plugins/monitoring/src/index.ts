import { definePlugin, type JobHandle } from '@mpanel/sdk';
import { migrations } from './migrations/index.js';
import { PanelKeys } from './keys/panel-keys.js';
import { AgentHub } from './ingest/agent-hub.js';
import { LiveHub } from './live/live-hub.js';
import { CommandService } from './commands/command-service.js';
import { AlertEngine } from './alerts/engine.js';
import { applyRetention, computeRollups } from './storage/rollups.js';
import { S, rows, uuidArray } from './db.js';
import { registerEnrollmentRoutes } from './routes/enrollment.js';
import { registerAgentRoutes } from './routes/agents.js';
import { registerCommandRoutes } from './routes/commands.js';
import { registerAlertRoutes } from './routes/alerts.js';
import { registerPrometheusRoute } from './routes/prometheus.js';
import { registerMaintenanceRoutes } from './routes/maintenance.js';
import type { MonitoringSettings } from './settings.js';

export type { MonitoringSettings } from './settings.js';
export type { AlertEventPayload } from './alerts/engine.js';

export default definePlugin<MonitoringSettings>({
  migrations,
  async setup(ctx) {
    const keys = await PanelKeys.load(ctx);
    const live = new LiveHub(ctx);
    // eslint-disable-next-line prefer-const
    let commands: CommandService;
    const hub = new AgentHub(ctx, {
      onSnapshot: (agentId, ts, names, vals) => live.snapshot(agentId, ts, names, vals),
      onCommandEvent: (agentId, e) => void commands.onEvent(agentId, e),
      onStatus: (agent, online) => {
        ctx.events.publish(online ? 'monitoring.agent.online' : 'monitoring.agent.offline', { agentId: agent.agentId, name: agent.name },
          { tenantId: agent.tenantId, tenantPath: agent.tenantPath, permission: 'monitoring.read' })
          .catch((err) => ctx.log.warn({ err }, 'status event failed'));
      },
    });
    // Disable: write what is queued before the database goes away.
    ctx.signal.addEventListener('abort', () => void hub.writer.drain().catch(() => undefined), { once: true });
    commands = new CommandService(ctx, keys, hub, live);
    const alerts = new AlertEngine(ctx);
    hub.open();
    live.open();

    registerEnrollmentRoutes(ctx, keys);
    registerAgentRoutes(ctx, hub);
    registerCommandRoutes(ctx, commands);
    registerAlertRoutes(ctx);
    registerPrometheusRoute(ctx);
    registerMaintenanceRoutes(ctx, live, alerts);

    // Intervals come from the settings: re-schedule when an admin changes them.
    let timed: JobHandle[] = [];
    const schedule = (s: MonitoringSettings) => {
      for (const j of timed) j.stop();
      timed = [
        ctx.jobs.every('alerts', s.alertEvaluationMs, () => alerts.evaluate()),
        ctx.jobs.every('rollups', s.rollupEveryMs, async () => {
          await computeRollups(ctx);
        }),
      ];
    };
    schedule(ctx.settings.get());
    ctx.settings.onChange(schedule);
    ctx.jobs.every('retention', 3600_000, async () => {
      const removed = await applyRetention(ctx);
      ctx.log.info({ removed }, 'monitoring retention applied');
    });
    ctx.jobs.every('commands-lost', 5000, () => commands.expireLost());
    // Agents marked online whose connection is not on this node and that stayed silent for three intervals
    // (a node that died without closing its sockets) go offline.
    ctx.jobs.every('offline', 5000, async () => {
      const here = hub.connectedIds();
      const gone = await rows(ctx.db.em(),
        `update ${S}.agent set online = false
         where online and not (id = any(?::uuid[])) and last_seen_at < now() - 3 * coalesce(interval_ms, ?) * interval '1 millisecond'
         returning id, name, tenant_id, tenant_path`,
        [uuidArray(here), ctx.settings.get().defaultIntervalMs]);
      for (const a of gone) {
        await ctx.events.publish('monitoring.agent.offline', { agentId: a.id, name: a.name }, { tenantId: a.tenant_id, tenantPath: a.tenant_path, permission: 'monitoring.read' });
      }
    });
    ctx.log.info({ fingerprint: keys.fingerprint }, 'monitoring plugin ready');
  },
});
