/**
 * The tenant filter is how core enforces "nobody reads or writes data outside
 * their subtree" in one place: every tenant-owned entity declares it, it is on
 * by default, and a request's EntityManager fork gets the visible tenant ids
 * (see `tenants/scope.ts`). A fork without params fails closed: MikroORM throws
 * instead of returning unscoped rows. System code (CLI, login before the actor
 * is known) opts out explicitly with `{ all: true }`.
 */
export const TENANT_FILTER = 'tenant';

export interface TenantFilterParams {
  all?: boolean;
  ids?: string[];
}

export function tenantFilter(column: string) {
  return {
    [TENANT_FILTER]: {
      name: TENANT_FILTER,
      default: true,
      cond: (args: TenantFilterParams) => (args.all ? {} : { [column]: { $in: args.ids ?? [] } }),
    },
  };
}
