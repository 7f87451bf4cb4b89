/**
 * Entities for plugins: MikroORM's `defineEntity` and property builders `p`,
 * re-exported so plugins need no direct MikroORM dependency (and share the
 * panel's copy). Core puts plugin entities in the plugin's own schema.
 */
export { defineEntity, p } from '@mikro-orm/core';

/**
 * The tenant filter for a plugin entity with a tenant id column: rows of
 * tenants outside the caller's subtree are invisible in request
 * EntityManagers, exactly like core's own tables.
 *
 * @example defineEntity({ name: 'Greeting', properties: {...}, filters: tenantScoped('tenantId') })
 */
export function tenantScoped(property: string) {
  return {
    tenant: {
      name: 'tenant',
      default: true,
      cond: (args: { all?: boolean; ids?: string[] }) => (args.all ? {} : { [property]: { $in: args.ids ?? [] } }),
    },
  };
}
