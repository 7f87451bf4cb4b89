import { randomUUID } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import { Role, RoleBinding, Tenant, User } from '../db/entities/index.js';
import { idParams, name as nameSchema, permissionName, uuid, dateTime } from '../http/common-schemas.js';
import type { RouteContext } from '../http/route-registry.js';
import { assertGrantable } from './grantable.js';
import { ALL_PERMISSIONS } from './permissions.js';
import { findAssignableRole } from '../users/routes.js';

const roleView = {
  type: 'object',
  required: ['id', 'tenantId', 'key', 'name', 'description', 'permissions', 'builtin'],
  properties: {
    id: uuid, tenantId: { type: ['string', 'null'] }, key: { type: 'string' }, name: { type: 'string' },
    description: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } }, builtin: { type: 'boolean' },
  },
};
const bindingView = {
  type: 'object',
  required: ['id', 'userId', 'roleId', 'roleKey', 'tenantId', 'createdAt'],
  properties: { id: uuid, userId: uuid, roleId: uuid, roleKey: { type: 'string' }, tenantId: uuid, createdAt: dateTime },
};

function toRoleView(r: Role) {
  return { id: r.id, tenantId: r.tenantId ?? null, key: r.key, name: r.name, description: r.description, permissions: r.permissions, builtin: r.builtin };
}

const roleKey = { type: 'string', pattern: '^[a-z][a-z0-9-]{1,62}$' };

export function registerRoleRoutes(k: Kernel): void {
  const checkPermissionsKnown = (permissions: string[]) => {
    const unknown = permissions.filter((p) => p !== ALL_PERMISSIONS && !k.permissions.has(p));
    if (unknown.length) {
      throw new ProblemError('validation-failed', `Unknown permissions: ${unknown.join(', ')}`, { errors: unknown.map((p) => ({ pointer: '/body/permissions', message: `"${p}" is not a registered permission` })) });
    }
  };

  k.routes.register({
    method: 'GET',
    path: '/api/v1/permissions',
    summary: 'Every registered permission (core and plugins).',
    tags: ['rbac'],
    permission: 'role.read',
    schema: {
      response: { type: 'array', items: { type: 'object', required: ['name', 'description', 'owner'], properties: { name: { type: 'string' }, description: { type: 'string' }, owner: { type: 'string' } } } },
    },
    handler: () => k.permissions.list(),
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/roles',
    summary: 'Built-in roles and the custom roles of your subtree.',
    tags: ['rbac'],
    permission: 'role.read',
    schema: { response: { type: 'array', items: roleView } },
    handler: async (ctx) => {
      const visible = ctx.visibleTenantIds;
      const roles = await ctx.em.find(Role, { $or: [{ tenantId: null }, { tenantId: { $in: visible } }] }, { orderBy: { builtin: 'desc', key: 'asc' } });
      return roles.map(toRoleView);
    },
  });

  const loadCustomRole = async (ctx: RouteContext<{ id: string }>) => {
    const role = await ctx.em.findOne(Role, { id: ctx.params.id });
    const visible = ctx.visibleTenantIds;
    if (!role || (role.tenantId && !visible.includes(role.tenantId))) throw new ProblemError('not-found', `No role ${ctx.params.id} in your subtree`);
    if (role.builtin) throw new ProblemError('conflict', 'Built-in roles cannot be changed or deleted');
    const tenant = await ctx.em.findOneOrFail(Tenant, { id: role.tenantId! });
    if (!ctx.authz.hasOn('role.manage', tenant.path)) throw new ProblemError('forbidden', 'You may not manage roles of this tenant');
    return { role, tenant };
  };

  k.routes.register({
    method: 'POST',
    path: '/api/v1/roles',
    summary: 'Create a custom role for a tenant (usable in its subtree). It may hold only permissions you hold.',
    tags: ['rbac'],
    permission: 'role.manage',
    audit: 'role.create',
    status: 201,
    schema: {
      body: {
        type: 'object',
        required: ['tenantId', 'key', 'name', 'permissions'],
        properties: {
          tenantId: uuid, key: roleKey, name: nameSchema, description: { type: 'string', maxLength: 1000 },
          permissions: { type: 'array', minItems: 1, maxItems: 500, uniqueItems: true, items: permissionName },
        },
      },
      response: roleView,
    },
    handler: async (ctx: RouteContext<{}, {}, { tenantId: string; key: string; name: string; description?: string; permissions: string[] }>) => {
      const tenant = await ctx.em.findOne(Tenant, { id: ctx.body.tenantId });
      if (!tenant) throw new ProblemError('not-found', `No tenant ${ctx.body.tenantId} in your subtree`);
      if (!ctx.authz.hasOn('role.manage', tenant.path)) throw new ProblemError('forbidden', 'You may not manage roles of this tenant');
      checkPermissionsKnown(ctx.body.permissions);
      assertGrantable(ctx.authz, ctx.body.permissions, tenant.path, 'a role');
      const clash = await ctx.em.count(Role, { key: ctx.body.key, $or: [{ tenantId: null }, { tenantId: tenant.id }] });
      if (clash) throw new ProblemError('conflict', `A role "${ctx.body.key}" already exists here`);
      const role = ctx.em.create(Role, {
        id: randomUUID(), tenantId: tenant.id, key: ctx.body.key, name: ctx.body.name, description: ctx.body.description ?? '',
        permissions: ctx.body.permissions, builtin: false, createdAt: new Date(k.now()),
      });
      await ctx.em.flush();
      Object.assign(ctx.audit, { target: `role:${role.id}`, tenantId: tenant.id, tenantPath: tenant.path, details: { key: role.key, permissions: role.permissions } });
      return toRoleView(role);
    },
  });

  k.routes.register({
    method: 'PATCH',
    path: '/api/v1/roles/:id',
    summary: 'Change a custom role. Holders get the new permissions on their next request.',
    tags: ['rbac'],
    permission: 'role.manage',
    audit: 'role.update',
    tenantScoped: true,
    schema: {
      params: idParams,
      body: {
        type: 'object', minProperties: 1,
        properties: { name: nameSchema, description: { type: 'string', maxLength: 1000 }, permissions: { type: 'array', minItems: 1, maxItems: 500, uniqueItems: true, items: permissionName } },
      },
      response: roleView,
    },
    handler: async (ctx: RouteContext<{ id: string }, {}, { name?: string; description?: string; permissions?: string[] }>) => {
      const { role, tenant } = await loadCustomRole(ctx);
      const details: Record<string, unknown> = {};
      if (ctx.body.permissions) {
        checkPermissionsKnown(ctx.body.permissions);
        assertGrantable(ctx.authz, ctx.body.permissions, tenant.path, 'a role');
        details.permissions = { from: role.permissions, to: ctx.body.permissions };
        role.permissions = ctx.body.permissions;
      }
      if (ctx.body.name !== undefined) role.name = ctx.body.name;
      if (ctx.body.description !== undefined) role.description = ctx.body.description;
      await ctx.em.flush();
      k.authenticator.invalidateAll();
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateAll());
      Object.assign(ctx.audit, { target: `role:${role.id}`, tenantId: tenant.id, tenantPath: tenant.path, details });
      return toRoleView(role);
    },
  });

  k.routes.register({
    method: 'DELETE',
    path: '/api/v1/roles/:id',
    summary: 'Delete a custom role and every binding of it.',
    tags: ['rbac'],
    permission: 'role.manage',
    audit: 'role.delete',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (ctx: RouteContext<{ id: string }>) => {
      const { role, tenant } = await loadCustomRole(ctx);
      await ctx.em.execute('delete from role_binding where role_id = ?', [role.id]);
      await ctx.em.execute('delete from role where id = ?', [role.id]);
      k.authenticator.invalidateAll();
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateAll());
      Object.assign(ctx.audit, { target: `role:${role.id}`, tenantId: tenant.id, tenantPath: tenant.path, details: { key: role.key } });
      return undefined;
    },
  });

  const loadUser = async (ctx: RouteContext<{ id: string }>) => {
    const user = await ctx.em.findOne(User, { id: ctx.params.id });
    if (!user) throw new ProblemError('not-found', `No user ${ctx.params.id} in your subtree`);
    const home = await ctx.em.findOneOrFail(Tenant, { id: user.tenantId });
    return { user, home };
  };

  k.routes.register({
    method: 'GET',
    path: '/api/v1/users/:id/roles',
    summary: 'Role bindings of a user.',
    tags: ['rbac'],
    permission: 'role.read',
    tenantScoped: true,
    schema: { params: idParams, response: { type: 'array', items: bindingView } },
    handler: async (ctx: RouteContext<{ id: string }>) => {
      const { user } = await loadUser(ctx);
      const bindings = await ctx.em.find(RoleBinding, { userId: user.id }, { orderBy: { createdAt: 'asc' } });
      const roles = await ctx.em.find(Role, { id: { $in: bindings.map((b) => b.roleId) } });
      const keyOf = new Map(roles.map((r) => [r.id, r.key]));
      return bindings.map((b) => ({ id: b.id, userId: b.userId, roleId: b.roleId, roleKey: keyOf.get(b.roleId) ?? '?', tenantId: b.tenantId, createdAt: new Date(b.createdAt).toISOString() }));
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/users/:id/roles',
    summary: 'Grant a role to a user on a tenant (default: the user’s own) and its subtree.',
    tags: ['rbac'],
    permission: 'role.assign',
    audit: 'role.assign',
    tenantScoped: true,
    status: 201,
    schema: {
      params: idParams,
      body: { type: 'object', required: ['role'], properties: { role: { type: 'string', minLength: 1, maxLength: 100 }, tenantId: uuid } },
      response: bindingView,
    },
    handler: async (ctx: RouteContext<{ id: string }, {}, { role: string; tenantId?: string }>) => {
      const { user, home } = await loadUser(ctx);
      const tenant = ctx.body.tenantId ? await ctx.em.findOne(Tenant, { id: ctx.body.tenantId }) : home;
      if (!tenant) throw new ProblemError('not-found', `No tenant ${ctx.body.tenantId} in your subtree`);
      if (!tenant.path.startsWith(home.path)) throw new ProblemError('validation-failed', 'A user can only be given roles on its own tenant or below it', { errors: [{ pointer: '/body/tenantId', message: 'is outside the user’s tenant' }] });
      if (!ctx.authz.hasOn('role.assign', tenant.path)) throw new ProblemError('forbidden', 'You may not assign roles on this tenant');
      const role = await findAssignableRole(ctx, ctx.body.role, tenant.path);
      assertGrantable(ctx.authz, role.permissions, tenant.path, `the role "${role.key}"`);
      const exists = await ctx.em.findOne(RoleBinding, { userId: user.id, roleId: role.id, tenantId: tenant.id });
      if (exists) throw new ProblemError('conflict', 'The user already has this role on this tenant');
      const b = ctx.em.create(RoleBinding, { id: randomUUID(), userId: user.id, roleId: role.id, tenantId: tenant.id, createdAt: new Date(k.now()) });
      await ctx.em.flush();
      k.authenticator.invalidateUser(user.id);
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateUser(user.id));
      Object.assign(ctx.audit, { target: `user:${user.id}`, tenantId: tenant.id, tenantPath: tenant.path, details: { role: role.key, bindingId: b.id } });
      return { id: b.id, userId: b.userId, roleId: b.roleId, roleKey: role.key, tenantId: b.tenantId, createdAt: new Date(b.createdAt).toISOString() };
    },
  });

  k.routes.register({
    method: 'DELETE',
    path: '/api/v1/users/:id/roles/:bindingId',
    summary: 'Revoke one role binding.',
    tags: ['rbac'],
    permission: 'role.assign',
    audit: 'role.unassign',
    tenantScoped: true,
    schema: { params: { type: 'object', required: ['id', 'bindingId'], properties: { id: uuid, bindingId: uuid } } },
    handler: async (ctx: RouteContext<{ id: string; bindingId: string }>) => {
      const { user } = await loadUser(ctx);
      const b = await ctx.em.findOne(RoleBinding, { id: ctx.params.bindingId, userId: user.id });
      if (!b) throw new ProblemError('not-found', 'No such role binding');
      const tenant = await ctx.em.findOneOrFail(Tenant, { id: b.tenantId });
      if (!ctx.authz.hasOn('role.assign', tenant.path)) throw new ProblemError('forbidden', 'You may not revoke roles on this tenant');
      const role = await ctx.em.findOneOrFail(Role, { id: b.roleId });
      assertGrantable(ctx.authz, role.permissions, tenant.path, `the role "${role.key}"`);
      if (user.id === ctx.actor.userId && role.permissions.includes(ALL_PERMISSIONS)) throw new ProblemError('conflict', 'You cannot revoke your own owner role');
      await ctx.em.execute('delete from role_binding where id = ?', [b.id]);
      k.authenticator.invalidateUser(user.id);
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateUser(user.id));
      Object.assign(ctx.audit, { target: `user:${user.id}`, tenantId: tenant.id, tenantPath: tenant.path, details: { role: role.key, bindingId: b.id } });
      return undefined;
    },
  });
}
