import type { JsonSchema } from './schema.js';

/** Shared JSON Schema fragments for route declarations. */
export const uuid: JsonSchema = { type: 'string', format: 'uuid' };
export const idParams: JsonSchema = { type: 'object', required: ['id'], properties: { id: uuid } };
export const email: JsonSchema = { type: 'string', format: 'email', maxLength: 254 };
export const name: JsonSchema = { type: 'string', minLength: 1, maxLength: 200, pattern: '\\S' };
export const dateTime: JsonSchema = { type: 'string', format: 'date-time' };
export const nullableDateTime: JsonSchema = { type: ['string', 'null'], format: 'date-time' };
export const permissionName: JsonSchema = { type: 'string', pattern: '^(\\*|[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+)$', maxLength: 200 };

/** Cursor pagination query: `limit` and an opaque `cursor` from the previous page's `nextCursor`. */
export const pageQuery: JsonSchema = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
    cursor: { type: 'string', maxLength: 200 },
  },
};

export function pageOf(item: JsonSchema): JsonSchema {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } },
  };
}

export const userView: JsonSchema = {
  type: 'object',
  required: ['id', 'tenantId', 'email', 'name', 'emailVerified', 'disabled', 'createdAt'],
  properties: {
    id: uuid, tenantId: uuid, email: { type: 'string' }, name: { type: 'string' },
    emailVerified: { type: 'boolean' }, disabled: { type: 'boolean' }, createdAt: dateTime,
  },
};

/** Public shape of a user (never the password hash). */
export function toUserView(u: { id: string; tenantId: string; email: string; name: string; emailVerifiedAt?: Date | null; disabledAt?: Date | null; createdAt: Date }) {
  return {
    id: u.id,
    tenantId: u.tenantId,
    email: u.email,
    name: u.name,
    emailVerified: !!u.emailVerifiedAt,
    disabled: !!u.disabledAt,
    createdAt: new Date(u.createdAt).toISOString(),
  };
}
