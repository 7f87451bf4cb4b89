import type { PluginContext } from '@mpanel/sdk';
import { OperationSchema, type Operation } from '../entities/operation.js';
import type { SagaRunner } from '../provisioning/saga.js';
import type { DatabaseSettings } from '../settings.js';
import { iso } from './views.js';

/** The saga log, for transparency, and a way for admins to settle interrupted operations now. */
export function registerOperationRoutes(ctx: PluginContext<DatabaseSettings>, runner: SagaRunner): void {
  ctx.routes.add({
    method: 'GET',
    path: '/operations',
    summary: 'Recent provisioning operations of the tenants you can see, with their steps.',
    permission: 'database.read',
    schema: {
      response: {
        type: 'array',
        items: {
          type: 'object', required: ['id', 'tenantId', 'kind', 'status', 'steps'],
          properties: {
            id: { type: 'string' }, tenantId: { type: 'string' }, kind: { type: 'string' }, status: { type: 'string' }, error: { type: ['string', 'null'] },
            failedStep: { type: ['string', 'null'] }, createdAt: { type: ['string', 'null'] },
            steps: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, status: { type: 'string' }, error: { type: ['string', 'null'] } } } },
          },
        },
      },
    },
    handler: async (req) => {
      const ops = await req.em.find<Operation>(OperationSchema, {}, { orderBy: { createdAt: 'desc' }, limit: 100 });
      if (!ops.length) return [];
      const ids = ops.map((o) => o.id);
      const steps = await ctx.db.em().execute<Array<{ operation_id: string; name: string; status: string; error: string | null }>>(
        `select operation_id, name, status, error from ${ctx.db.schema}.operation_step where operation_id in (${ids.map(() => '?').join(', ')}) order by seq`,
        ids,
      );
      return ops.map((o) => ({
        id: o.id, tenantId: o.tenantId, kind: o.kind, status: o.status, error: o.error ?? null, failedStep: o.failedStep ?? null, createdAt: iso(o.createdAt),
        steps: steps.filter((s) => s.operation_id === o.id).map((s) => ({ name: s.name, status: s.status, error: s.error })),
      }));
    },
  });

  ctx.routes.add<{}, {}, { olderThanSeconds?: number }>({
    method: 'POST',
    path: '/operations/recover',
    summary: 'Settle interrupted operations now (undo them, or finish them past an irreversible step). The recovery job does this on its own.',
    permission: 'database.servers',
    audit: 'database.operation.recover',
    schema: {
      body: { type: 'object', additionalProperties: false, properties: { olderThanSeconds: { type: 'integer', minimum: 0, maximum: 86400 } } },
      response: { type: 'object', required: ['recovered', 'failed'], properties: { recovered: { type: 'array', items: { type: 'string' } }, failed: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, error: { type: 'string' } } } } } },
    },
    handler: async (req) => {
      const result = await runner.recover(req.body.olderThanSeconds ?? ctx.settings.get().recoverAfterSeconds);
      req.audit.details = { recovered: result.recovered.length, failed: result.failed.length };
      return result;
    },
  });
}
