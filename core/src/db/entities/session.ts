import { defineEntity, p } from '@mikro-orm/core';
import { tenantFilter } from './tenant-filter.js';

/** A server-side login session; the cookie holds a secret whose SHA-256 is `tokenHash`. */
const SessionSchema = defineEntity({
  name: 'Session',
  tableName: 'session',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    userId: p.uuid(),
    tokenHash: p.text().unique(),
    csrfToken: p.text().hidden(),
    ip: p.text().nullable(),
    userAgent: p.text().nullable(),
    createdAt: p.datetime(),
    lastSeenAt: p.datetime(),
    expiresAt: p.datetime(),
    revokedAt: p.datetime().nullable(),
  },
  filters: tenantFilter('tenantId'),
});
export class Session extends SessionSchema.class {}
SessionSchema.setClass(Session);
export { SessionSchema };
