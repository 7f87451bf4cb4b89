import { randomUUID } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import { Tenant, User, Role, RoleBinding } from '../db/entities/index.js';
import { email as emailSchema, idParams, name as nameSchema, pageOf, pageQuery, userView, toUserView, uuid } from '../http/common-schemas.js';
import { afterCursor, decodeCursor, page } from '../http/pagination.js';
import type { RouteContext } from '../http/route-registry.js';
import { hashPassword, passwordSchema, checkPasswordPolicy } from '../auth/passwords.js';
import { assertGrantable } from '../rbac/grantable.js';
import { sendPasswordResetMail } from '../auth/recovery-routes.js';

export function registerUserRoutes(k: Kernel): void {
  k.routes.register({
    method: 'GET',
    path: '/api/v1/users',
    summary: 'Users in your subtree; filter by tenant or e-mail fragment.',
    tags: ['users'],
    permission: 'user.read',
    schema: {
      query: { type: 'object', properties: { ...(pageQuery.properties as object), tenantId: uuid, q: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: pageOf(userView),
    },
    handler: async (ctx: RouteContext<{}, { limit: number; cursor?: string; tenantId?: string; q?: string }>) => {
      const { limit, tenantId, q } = ctx.query;
      const where: Record<string, unknown> = { ...afterCursor(decodeCursor(ctx.query.cursor)) };
      if (tenantId) where.tenantId = tenantId;
      if (q) where.$and = [{ $or: [{ email: { $ilike: `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` } }, { name: { $ilike: `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` } }] }];
      const rows = await ctx.em.find(User, where, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: limit + 1 });
      return page(rows, limit, toUserView);
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/users/:id',
    summary: 'One user.',
    tags: ['users'],
    permission: 'user.read',
    tenantScoped: true,
    schema: { params: idParams, response: userView },
    handler: async (ctx) => {
      const u = await ctx.em.findOne(User, { id: ctx.params.id });
      if (!u) throw new ProblemError('not-found', `No user ${ctx.params.id} in your subtree`);
      return toUserView(u);
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/users',
    summary: 'Create a user in a tenant of your subtree, optionally with roles on that tenant. Without a password the user is e-mailed a link to set one.',
    tags: ['users'],
    permission: 'user.create',
    audit: 'user.create',
    status: 201,
    schema: {
      body: {
        type: 'object',
        required: ['tenantId', 'email', 'name'],
        properties: {
          tenantId: uuid, email: emailSchema, name: nameSchema, password: passwordSchema,
          roles: { type: 'array', maxItems: 20, uniqueItems: true, items: { type: 'string', minLength: 1, maxLength: 100 } },
        },
      },
      response: userView,
    },
    handler: async (ctx: RouteContext<{}, {}, { tenantId: string; email: string; name: string; password?: string; roles?: string[] }>) => {
      const tenant = await ctx.em.findOne(Tenant, { id: ctx.body.tenantId });
      if (!tenant) throw new ProblemError('not-found', `No tenant ${ctx.body.tenantId} in your subtree`);
      if (!ctx.authz.hasOn('user.create', tenant.path)) throw new ProblemError('forbidden', 'You may not create users in this tenant');
      const email = ctx.body.email.trim();
      const taken = await ctx.unscopedEm().count(User, { email: { $ilike: email.replace(/[\\%_]/g, (c) => `\\${c}`) } });
      if (taken > 0) throw new ProblemError('conflict', `A user with the e-mail ${email} already exists`);
      if (ctx.body.password) checkPasswordPolicy(ctx.body.password, email);
      const roles: Role[] = [];
      if (ctx.body.roles?.length) {
        if (!ctx.authz.hasOn('role.assign', tenant.path)) throw new ProblemError('forbidden', 'Assigning roles needs the permission "role.assign"');
        for (const key of ctx.body.roles) {
          const role = await findAssignableRole(ctx, key, tenant.path);
          assertGrantable(ctx.authz, role.permissions, tenant.path, `the role "${role.key}"`);
          roles.push(role);
        }
      }
      const quota = tenant.quotas?.users;
      if (quota !== undefined) {
        await ctx.em.execute('select id from tenant where id = ? for update', [tenant.id]);
        const count = await ctx.em.count(User, { tenantId: tenant.id });
        if (count >= quota) throw new ProblemError('quota-exceeded', `The tenant may have at most ${quota} users`, { quota: 'users', limit: quota, used: count });
      }
      const now = new Date(k.now());
      const user = ctx.em.create(User, {
        id: randomUUID(), tenantId: tenant.id, email, name: ctx.body.name,
        // Without a password nobody can log in until the e-mailed link is used.
        passwordHash: ctx.body.password ? await hashPassword(ctx.body.password) : '!',
        emailVerifiedAt: null, disabledAt: null, createdAt: now, passwordChangedAt: now,
      });
      for (const role of roles) ctx.em.create(RoleBinding, { id: randomUUID(), userId: user.id, roleId: role.id, tenantId: tenant.id, createdAt: now });
      await ctx.em.flush();
      if (!ctx.body.password) await sendPasswordResetMail(k, ctx.em, user, 'invite');
      ctx.audit.target = `user:${user.id}`;
      ctx.audit.tenantId = tenant.id;
      ctx.audit.tenantPath = tenant.path;
      ctx.audit.details = { email, roles: roles.map((r) => r.key) };
      await ctx.publish('user.created', { id: user.id, email, tenantId: tenant.id }, { tenantId: tenant.id, tenantPath: tenant.path, permission: 'user.read' });
      return toUserView(user);
    },
  });

  k.routes.register({
    method: 'PATCH',
    path: '/api/v1/users/:id',
    summary: 'Rename, disable or re-enable a user. Disabling ends its sessions and tokens at once.',
    tags: ['users'],
    permission: 'user.update',
    audit: 'user.update',
    tenantScoped: true,
    schema: {
      params: idParams,
      body: { type: 'object', minProperties: 1, properties: { name: nameSchema, disabled: { type: 'boolean' } } },
      response: userView,
    },
    handler: async (ctx: RouteContext<{ id: string }, {}, { name?: string; disabled?: boolean }>) => {
      const user = await ctx.em.findOne(User, { id: ctx.params.id });
      if (!user) throw new ProblemError('not-found', `No user ${ctx.params.id} in your subtree`);
      const tenant = await ctx.em.findOneOrFail(Tenant, { id: user.tenantId });
      if (!ctx.authz.hasOn('user.update', tenant.path)) throw new ProblemError('forbidden', 'You may not change users of this tenant');
      if (ctx.body.disabled && user.id === ctx.actor.userId) throw new ProblemError('conflict', 'You cannot disable yourself');
      ctx.audit.target = `user:${user.id}`;
      ctx.audit.tenantId = tenant.id;
      ctx.audit.tenantPath = tenant.path;
      const changes: Record<string, unknown> = {};
      if (ctx.body.name !== undefined) {
        changes.name = { from: user.name, to: ctx.body.name };
        user.name = ctx.body.name;
      }
      if (ctx.body.disabled !== undefined && ctx.body.disabled !== !!user.disabledAt) {
        changes.disabled = ctx.body.disabled;
        user.disabledAt = ctx.body.disabled ? new Date(k.now()) : null;
        if (ctx.body.disabled) {
          await ctx.em.execute('update session set revoked_at = ? where user_id = ? and revoked_at is null', [new Date(k.now()), user.id]);
        }
      }
      await ctx.em.flush();
      k.authenticator.invalidateUser(user.id);
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateUser(user.id));
      ctx.audit.details = changes;
      await ctx.publish('user.updated', { id: user.id, changes: Object.keys(changes) }, { tenantId: tenant.id, tenantPath: tenant.path, permission: 'user.read' });
      return toUserView(user);
    },
  });
}

/** A role by id or key that may be bound on a tenant: built-in, or custom from that tenant or an ancestor. */
export async function findAssignableRole(ctx: RouteContext<any, any, any>, idOrKey: string, tenantPath: string): Promise<Role> {
  const isId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrKey);
  const candidates = await ctx.em.find(Role, isId ? { id: idOrKey } : { key: idOrKey });
  const ancestorIds = tenantPath.split('/').filter(Boolean);
  const role = candidates.find((r) => r.tenantId == null || ancestorIds.includes(r.tenantId));
  if (!role) throw new ProblemError('not-found', `No role "${idOrKey}" can be assigned on this tenant`);
  return role;
}
