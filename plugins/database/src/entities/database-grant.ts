import { defineEntity, p, tenantScoped } from '@mpanel/sdk';

export const PRIVILEGES = ['all', 'read'] as const;
export type Privilege = (typeof PRIVILEGES)[number];

/** What a user may do in a database of the same tenant. */
const DatabaseGrantSchema = defineEntity({
  name: 'DatabaseGrant',
  tableName: 'database_grant',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    databaseId: p.uuid(),
    userId: p.uuid(),
    privilege: p.enum(PRIVILEGES),
    createdAt: p.datetime(),
  },
  filters: tenantScoped('tenantId'),
});
export class DatabaseGrant extends DatabaseGrantSchema.class {}
DatabaseGrantSchema.setClass(DatabaseGrant);
export { DatabaseGrantSchema };
