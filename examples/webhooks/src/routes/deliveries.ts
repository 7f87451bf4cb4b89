import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { DeliverySchema, Delivery, DELIVERY_STATES, type DeliveryState } from '../entities/delivery.js';
import { QUEUED_EVENT } from '../delivery/dispatcher.js';
import type { WebhooksSettings } from '../settings.js';
import { assertManage, findEndpoint } from './endpoints.js';
import { beforeCursor, decodeCursor, page, pageOf, pageQuery } from './pagination.js';
import { deliverySchema, deliveryView, deliveryWithBodySchema } from './views.js';

const uuid = { type: 'string', format: 'uuid' };
const idParams = { type: 'object', required: ['id'], properties: { id: uuid } };

interface DeliveryQuery { endpointId?: string; state?: DeliveryState; eventType?: string; limit: number; cursor?: string }

/** The delivery log and replay under /api/v1/p/webhooks/deliveries. */
export function registerDeliveryRoutes(ctx: PluginContext<WebhooksSettings>): void {
  ctx.routes.add<{}, DeliveryQuery>({
    method: 'GET',
    path: '/deliveries',
    summary: 'The delivery log of the endpoints you can see, newest first; filter by endpoint, state and event type (`tenant.*` for a prefix).',
    permission: 'webhooks.read',
    schema: {
      query: {
        type: 'object',
        properties: {
          endpointId: uuid,
          state: { type: 'string', enum: [...DELIVERY_STATES] },
          eventType: { type: 'string', maxLength: 200, pattern: '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*(\\.\\*)?$' },
          ...pageQuery,
        },
      },
      response: pageOf(deliverySchema),
    },
    handler: async (req) => {
      const q = req.query;
      const where: Record<string, unknown> = { ...beforeCursor(decodeCursor(q.cursor)) };
      if (q.endpointId) where.endpointId = q.endpointId;
      if (q.state) where.state = q.state;
      if (q.eventType) where.eventType = q.eventType.endsWith('.*') ? { $like: `${q.eventType.slice(0, -1)}%` } : q.eventType;
      const rows = await req.em.find<Delivery>(DeliverySchema, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: q.limit + 1 });
      return page(rows, q.limit, deliveryView);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/deliveries/:id',
    summary: 'One delivery, with the JSON body that is sent.',
    permission: 'webhooks.read',
    tenantScoped: true,
    schema: { params: idParams, response: deliveryWithBodySchema },
    handler: async (req) => {
      const d = await req.em.findOne<Delivery>(DeliverySchema, { id: req.params.id });
      if (!d) throw new ProblemError('not-found', `No webhook delivery ${req.params.id}`, { status: 404 });
      return { ...deliveryView(d), body: d.body };
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'POST',
    path: '/deliveries/:id/replay',
    summary: 'Send a finished delivery again, as a new delivery with the same body (signed afresh).',
    permission: 'webhooks.manage',
    audit: 'webhooks.delivery.replay',
    tenantScoped: true,
    status: 202,
    schema: { params: idParams, response: deliverySchema },
    handler: async (req) => {
      const original = await req.em.findOne<Delivery>(DeliverySchema, { id: req.params.id });
      if (!original) throw new ProblemError('not-found', `No webhook delivery ${req.params.id}`, { status: 404 });
      const e = await findEndpoint(req, original.endpointId);
      assertManage(req, e.tenantPath);
      if (original.state === 'pending') throw new ProblemError('delivery-pending', 'The delivery is still being attempted; replay it once it is delivered or failed', { status: 409 });
      if (!e.active) throw new ProblemError('endpoint-inactive', 'The endpoint is inactive; activate it first', { status: 409 });
      const now = new Date();
      const d = req.em.create<Delivery>(DeliverySchema, {
        id: randomUUID(), endpointId: e.id, tenantId: e.tenantId, eventId: original.eventId, eventType: original.eventType, body: original.body,
        state: 'pending', attempts: 0, nextAttemptAt: now, replayOf: original.id, createdAt: now, updatedAt: now,
      });
      await req.em.flush();
      req.audit.target = `delivery:${original.id}`;
      req.audit.tenantId = e.tenantId;
      req.audit.tenantPath = e.tenantPath;
      req.audit.details = { replay: d.id, endpointId: e.id, eventType: d.eventType };
      await req.publish(QUEUED_EVENT, { id: d.id, endpointId: e.id }, { tenantId: e.tenantId, tenantPath: e.tenantPath, permission: 'webhooks.read' });
      return deliveryView(d);
    },
  });
}
