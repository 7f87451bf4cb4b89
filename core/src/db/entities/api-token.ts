import { defineEntity, p } from '@mikro-orm/core';
import { tenantFilter } from './tenant-filter.js';

/** An API token: shown once, stored as SHA-256, scoped to a subset of its creator's permissions. */
const ApiTokenSchema = defineEntity({
  name: 'ApiToken',
  tableName: 'api_token',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    name: p.text(),
    tokenHash: p.text().unique(),
    /** First characters of the secret, so a user can tell tokens apart. */
    prefix: p.text(),
    permissions: p.json<string[]>(),
    createdAt: p.datetime(),
    expiresAt: p.datetime(),
    lastUsedAt: p.datetime().nullable(),
    revokedAt: p.datetime().nullable(),
  },
  filters: tenantFilter('tenantId'),
});
export class ApiToken extends ApiTokenSchema.class {}
ApiTokenSchema.setClass(ApiToken);
export { ApiTokenSchema };
