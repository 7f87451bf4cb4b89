import { ProblemError, type PluginContext } from '@mpanel/sdk';
import type { LiveHub } from '../live/live-hub.js';
import { applyRetention, computeRollups } from '../storage/rollups.js';
import type { AlertEngine } from '../alerts/engine.js';
import type { MonitoringSettings } from '../settings.js';

/** The live-view ticket, and running the scheduled maintenance on demand. */
export function registerMaintenanceRoutes(ctx: PluginContext<MonitoringSettings>, live: LiveHub, alerts: AlertEngine): void {
  ctx.routes.add({
    method: 'GET',
    path: '/live-ticket',
    summary: 'A short-lived ticket to connect to the live namespace (/p/monitoring/live) for charts and command output.',
    permission: 'monitoring.read',
    handler: (req) => {
      if (!req.actor.userId) throw new ProblemError('user-required', 'Live views are for logged-in users', { status: 403 });
      return live.ticket(req.actor.userId);
    },
  });

  ctx.routes.add<{}, {}, { task: 'rollup' | 'retention' | 'alerts' }>({
    method: 'POST',
    path: '/maintenance',
    summary: 'Run a scheduled task now: rollup (downsampling), retention or alerts (evaluation).',
    permission: 'monitoring.manage',
    audit: 'monitoring.maintenance.run',
    schema: { body: { type: 'object', required: ['task'], properties: { task: { enum: ['rollup', 'retention', 'alerts'] } } } },
    handler: async (req) => {
      // Platform-wide work: only for those who manage monitoring at the top of the tree.
      if (!req.actor.tenantPath || !req.can('monitoring.manage', req.actor.tenantPath) || req.actor.tenantPath.split('/').filter(Boolean).length > 1) {
        throw new ProblemError('forbidden', 'Only platform administrators run maintenance', { status: 403 });
      }
      req.audit.details = { task: req.body.task };
      if (req.body.task === 'rollup') return { task: 'rollup', result: await computeRollups(ctx) };
      if (req.body.task === 'retention') return { task: 'retention', result: await applyRetention(ctx) };
      await alerts.evaluate();
      return { task: 'alerts', result: {} };
    },
  });
}
