import { defineEntity, p, tenantScoped } from '@mpanel/sdk';

/** Where a delivery is in its life: waiting for an attempt, done, or given up. */
export const DELIVERY_STATES = ['pending', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * One event (or ping) on its way to one endpoint: written before the first
 * attempt, so a restart loses nothing; every attempt updates it. `tenantId`
 * is the endpoint's tenant, so whoever sees the endpoint sees its log.
 */
const DeliverySchema = defineEntity({
  name: 'WebhookDelivery',
  tableName: 'delivery',
  properties: {
    id: p.uuid().primary(),
    endpointId: p.uuid(),
    tenantId: p.uuid(),
    /** Id of the event (the `id` of the JSON body). */
    eventId: p.text(),
    eventType: p.text(),
    /** The exact JSON body that is sent (and signed) on every attempt. */
    body: p.text(),
    state: p.enum(DELIVERY_STATES),
    attempts: p.integer(),
    statusCode: p.integer().nullable(),
    lastError: p.text().nullable(),
    durationMs: p.integer().nullable(),
    nextAttemptAt: p.datetime().nullable(),
    /** Lease of the worker that is sending it right now (several panel processes may share the table). */
    lockedUntil: p.datetime().nullable(),
    /** The delivery this one replays, if any. */
    replayOf: p.uuid().nullable(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
    deliveredAt: p.datetime().nullable(),
  },
  filters: tenantScoped('tenantId'),
});
export class Delivery extends DeliverySchema.class {}
DeliverySchema.setClass(Delivery);
export { DeliverySchema };
