import { defineEntity, p } from '@mikro-orm/core';

/**
 * A role: a named set of permissions. Built-in roles have `tenantId = null`
 * and `builtin = true`; custom roles belong to the tenant that defined them
 * and can be bound only inside that tenant's subtree. Roles are not behind the
 * tenant filter because built-ins are shared; `rbac/roles.ts` scopes custom ones.
 */
const RoleSchema = defineEntity({
  name: 'Role',
  tableName: 'role',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid().nullable(),
    key: p.text(),
    name: p.text(),
    description: p.text(),
    permissions: p.json<string[]>(),
    builtin: p.boolean(),
    createdAt: p.datetime(),
  },
});
export class Role extends RoleSchema.class {}
RoleSchema.setClass(Role);
export { RoleSchema };
