import { defineEntity, p, tenantScoped } from '@mpanel/sdk';

export const OBJECT_STATES = ['provisioning', 'ready', 'deleting'] as const;
export type ObjectState = (typeof OBJECT_STATES)[number];

/** A database on a server, owned by a tenant. `provisioning` rows count against quotas. */
const ProvisionedDatabaseSchema = defineEntity({
  name: 'DatabaseProvisionedDatabase',
  tableName: 'provisioned_database',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    serverId: p.uuid(),
    name: p.text(),
    status: p.enum(OBJECT_STATES),
    sizeBytes: p.bigint('number').nullable(),
    sizeCheckedAt: p.datetime().nullable(),
    createdAt: p.datetime(),
  },
  filters: tenantScoped('tenantId'),
});
export class ProvisionedDatabase extends ProvisionedDatabaseSchema.class {}
ProvisionedDatabaseSchema.setClass(ProvisionedDatabase);
export { ProvisionedDatabaseSchema };
