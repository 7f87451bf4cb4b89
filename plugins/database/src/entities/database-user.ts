import { defineEntity, p, tenantScoped } from '@mpanel/sdk';
import { OBJECT_STATES } from './provisioned-database.js';

/** A login role (PostgreSQL) or user (MariaDB) on a server, owned by a tenant. Its password is never stored. */
const DatabaseUserSchema = defineEntity({
  name: 'DatabaseUser',
  tableName: 'database_user',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    serverId: p.uuid(),
    name: p.text(),
    status: p.enum(OBJECT_STATES),
    passwordRotatedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
  filters: tenantScoped('tenantId'),
});
export class DatabaseUser extends DatabaseUserSchema.class {}
DatabaseUserSchema.setClass(DatabaseUser);
export { DatabaseUserSchema };
