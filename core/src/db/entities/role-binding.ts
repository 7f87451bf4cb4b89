import { defineEntity, p } from '@mikro-orm/core';
import { tenantFilter } from './tenant-filter.js';

/** Grants a role to a user on a tenant and its whole subtree. */
const RoleBindingSchema = defineEntity({
  name: 'RoleBinding',
  tableName: 'role_binding',
  properties: {
    id: p.uuid().primary(),
    userId: p.uuid(),
    roleId: p.uuid(),
    /** The tenant the binding applies to (and everything below it). */
    tenantId: p.uuid(),
    createdAt: p.datetime(),
  },
  filters: tenantFilter('tenantId'),
});
export class RoleBinding extends RoleBindingSchema.class {}
RoleBindingSchema.setClass(RoleBinding);
export { RoleBindingSchema };
