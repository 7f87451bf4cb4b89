import { defineEntity, p } from '@mpanel/sdk';

export const ENGINES = ['postgresql', 'mariadb'] as const;
export type Engine = (typeof ENGINES)[number];

/**
 * A database server admins registered. Platform-wide (no tenant): customers
 * see its public part only. The admin password is sealed with ctx.secrets.
 */
const DatabaseServerSchema = defineEntity({
  name: 'DatabaseServer',
  tableName: 'server',
  properties: {
    id: p.uuid().primary(),
    name: p.text(),
    engine: p.enum(ENGINES),
    host: p.text(),
    port: p.integer(),
    publicHost: p.text().nullable(),
    adminUser: p.text(),
    adminPasswordSealed: p.text(),
    isDefault: p.boolean(),
    createdAt: p.datetime(),
    updatedAt: p.datetime(),
  },
});
export class DatabaseServer extends DatabaseServerSchema.class {}
DatabaseServerSchema.setClass(DatabaseServer);
export { DatabaseServerSchema };
