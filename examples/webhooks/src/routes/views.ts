import type { Delivery } from '../entities/delivery.js';
import type { Endpoint } from '../entities/endpoint.js';
import { secretHint } from '../delivery/signature.js';

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : null);
const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const intOrNull = { type: ['integer', 'null'] };

/** An endpoint as the API shows it: never the secret, only a hint of it. */
export const endpointView = (e: Endpoint) => ({
  id: e.id, tenantId: e.tenantId, url: e.url, description: e.description, events: e.events, active: e.active,
  secretHint: secretHint(e.secret), createdBy: e.createdBy ?? null, createdAt: iso(e.createdAt)!, updatedAt: iso(e.updatedAt)!,
});

export const endpointSchema = {
  type: 'object',
  required: ['id', 'tenantId', 'url', 'description', 'events', 'active', 'secretHint', 'createdAt', 'updatedAt'],
  properties: {
    id: str, tenantId: str, url: str, description: str, events: { type: 'array', items: str }, active: { type: 'boolean' },
    secretHint: str, createdBy: strOrNull, createdAt: str, updatedAt: str,
  },
};

/** The same plus the secret: only answered on creation and rotation. */
export const endpointWithSecretSchema = {
  ...endpointSchema,
  required: [...endpointSchema.required, 'secret'],
  properties: { ...endpointSchema.properties, secret: str },
};

export const deliveryView = (d: Delivery) => ({
  id: d.id, endpointId: d.endpointId, tenantId: d.tenantId, eventId: d.eventId, eventType: d.eventType, state: d.state,
  attempts: d.attempts, statusCode: d.statusCode ?? null, lastError: d.lastError ?? null, durationMs: d.durationMs ?? null,
  nextAttemptAt: iso(d.nextAttemptAt), replayOf: d.replayOf ?? null,
  createdAt: iso(d.createdAt)!, updatedAt: iso(d.updatedAt)!, deliveredAt: iso(d.deliveredAt),
});

export const deliverySchema = {
  type: 'object',
  required: ['id', 'endpointId', 'tenantId', 'eventId', 'eventType', 'state', 'attempts', 'createdAt'],
  properties: {
    id: str, endpointId: str, tenantId: str, eventId: str, eventType: str, state: { type: 'string', enum: ['pending', 'delivered', 'failed'] },
    attempts: { type: 'integer' }, statusCode: intOrNull, lastError: strOrNull, durationMs: intOrNull, nextAttemptAt: strOrNull,
    replayOf: strOrNull, createdAt: str, updatedAt: str, deliveredAt: strOrNull,
  },
};

export const deliveryWithBodySchema = {
  ...deliverySchema,
  required: [...deliverySchema.required, 'body'],
  properties: { ...deliverySchema.properties, body: str },
};
