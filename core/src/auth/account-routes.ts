import { randomUUID } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import { ApiToken, Session, Tenant, User } from '../db/entities/index.js';
import { idParams, permissionName, uuid, dateTime, pageOf, pageQuery } from '../http/common-schemas.js';
import { afterCursor, decodeCursor, page } from '../http/pagination.js';
import type { RouteContext } from '../http/route-registry.js';
import { hashPassword, passwordSchema, verifyPassword, checkPasswordPolicy } from './passwords.js';
import { randomSecret, sha256 } from './secrets.js';
import { TOKEN_PREFIX } from './authenticator.js';
import { sessionViewSchema, toSessionView } from './sessions.js';
import { assertGrantable } from '../rbac/grantable.js';
import { ALL_PERMISSIONS } from '../rbac/permissions.js';

const tokenView = {
  type: 'object',
  required: ['id', 'name', 'prefix', 'permissions', 'createdAt', 'expiresAt', 'lastUsedAt', 'revoked'],
  properties: {
    id: uuid, name: { type: 'string' }, prefix: { type: 'string' }, permissions: { type: 'array', items: { type: 'string' } },
    createdAt: dateTime, expiresAt: dateTime, lastUsedAt: { type: ['string', 'null'] }, revoked: { type: 'boolean' },
  },
};

function toTokenView(t: ApiToken) {
  return {
    id: t.id, name: t.name, prefix: t.prefix, permissions: t.permissions,
    createdAt: new Date(t.createdAt).toISOString(), expiresAt: new Date(t.expiresAt).toISOString(),
    lastUsedAt: t.lastUsedAt ? new Date(t.lastUsedAt).toISOString() : null, revoked: !!t.revokedAt,
  };
}

export const TOKEN_MAX_DAYS = 365;

/**
 * Creates an API token for a user. Shared by the HTTP route and `mpanel token
 * create`. The token may carry only permissions the user holds on its tenant.
 */
export async function createApiToken(
  k: Kernel,
  em: RouteContext['em'],
  input: { userId: string; tenantId: string; name: string; permissions: string[]; expiresInDays: number },
): Promise<{ token: ApiToken; secret: string }> {
  const secret = `${TOKEN_PREFIX}${randomSecret(32)}`;
  const now = k.now();
  const token = em.create(ApiToken, {
    id: randomUUID(), tenantId: input.tenantId, userId: input.userId, name: input.name, tokenHash: sha256(secret),
    prefix: secret.slice(0, TOKEN_PREFIX.length + 6), permissions: input.permissions,
    createdAt: new Date(now), expiresAt: new Date(now + input.expiresInDays * 86_400_000), lastUsedAt: null, revokedAt: null,
  });
  await em.flush();
  return { token, secret };
}

/** Deletes tokens that expired more than `graceDays` ago (they can no longer be used anyway). */
export async function purgeExpiredTokens(k: Kernel, graceDays = 30): Promise<number> {
  const res = await k.systemEm().execute<{ affectedRows?: number }>(
    'delete from api_token where expires_at < ?', [new Date(k.now() - graceDays * 86_400_000)], 'run',
  );
  return (res as { affectedRows?: number }).affectedRows ?? 0;
}

/** The actor's own account: password, sessions, API tokens. Plus admins' view of sessions in their subtree. */
export function registerAccountRoutes(k: Kernel): void {
  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/password',
    summary: 'Change your password. Ends every other session of yours.',
    tags: ['account'],
    permission: 'account.self',
    audit: 'auth.password.change',
    schema: {
      body: { type: 'object', required: ['currentPassword', 'newPassword'], properties: { currentPassword: { type: 'string', minLength: 1, maxLength: 1024 }, newPassword: passwordSchema } },
    },
    handler: async (ctx: RouteContext<{}, {}, { currentPassword: string; newPassword: string }>) => {
      if (ctx.actor.type !== 'user') throw new ProblemError('forbidden', 'Passwords are changed in a logged-in session, not with an API token');
      const user = await ctx.em.findOneOrFail(User, { id: ctx.actor.userId! });
      ctx.audit.target = `user:${user.id}`;
      // A hijacked session must not be able to guess the current password at full speed.
      const throttleKey = `password-change:${user.id}`;
      const verdict = k.throttle.check(throttleKey, ctx.ip);
      if (!verdict.allowed) {
        throw new ProblemError('too-many-attempts', `Too many wrong passwords; try again in ${verdict.retryAfterSeconds} s`, { retryAfter: verdict.retryAfterSeconds });
      }
      if (!(await verifyPassword(user.passwordHash, ctx.body.currentPassword))) {
        k.throttle.fail(throttleKey, ctx.ip);
        throw new ProblemError('invalid-credentials', 'The current password is wrong');
      }
      k.throttle.succeed(throttleKey);
      checkPasswordPolicy(ctx.body.newPassword, user.email);
      user.passwordHash = await hashPassword(ctx.body.newPassword);
      user.passwordChangedAt = new Date(k.now());
      await ctx.em.flush();
      await ctx.em.execute('update session set revoked_at = ? where user_id = ? and id <> ? and revoked_at is null', [new Date(k.now()), user.id, ctx.actor.sessionId!]);
      k.authenticator.invalidateUser(user.id);
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateUser(user.id));
      return undefined;
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/auth/sessions',
    summary: 'Your active sessions.',
    tags: ['account'],
    permission: 'account.self',
    schema: { response: { type: 'array', items: sessionViewSchema } },
    handler: async (ctx) => {
      const rows = await ctx.em.find(Session, { userId: ctx.actor.userId!, revokedAt: null, expiresAt: { $gt: new Date(k.now()) } }, { orderBy: { lastSeenAt: 'desc' } });
      return rows.map((s) => toSessionView(s, ctx.actor.sessionId));
    },
  });

  const revokeSession = async (ctx: RouteContext<{ id: string }>, s: Session) => {
    s.revokedAt = new Date(k.now());
    await ctx.em.flush();
    k.authenticator.invalidateSession(s.id);
    // Again after commit: a request racing the transaction may have re-cached the old state.
    ctx.afterCommit(() => k.authenticator.invalidateSession(s.id));
    ctx.audit.target = `session:${s.id}`;
    ctx.audit.tenantId = s.tenantId;
    ctx.audit.details = { userId: s.userId };
  };

  k.routes.register({
    method: 'DELETE',
    path: '/api/v1/auth/sessions/:id',
    summary: 'End one of your sessions (log out another device).',
    tags: ['account'],
    permission: 'account.self',
    audit: 'auth.session.revoke',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (ctx: RouteContext<{ id: string }>) => {
      const s = await ctx.em.findOne(Session, { id: ctx.params.id, userId: ctx.actor.userId!, revokedAt: null });
      if (!s) throw new ProblemError('not-found', `No active session ${ctx.params.id} of yours`);
      await revokeSession(ctx, s);
      return undefined;
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/sessions',
    summary: 'Active sessions of users in your subtree (optionally one user).',
    tags: ['sessions'],
    permission: 'session.manage',
    schema: { query: { type: 'object', properties: { userId: uuid } }, response: { type: 'array', items: sessionViewSchema } },
    handler: async (ctx: RouteContext<{}, { userId?: string }>) => {
      const rows = await ctx.em.find(
        Session,
        { ...(ctx.query.userId ? { userId: ctx.query.userId } : {}), revokedAt: null, expiresAt: { $gt: new Date(k.now()) } },
        { orderBy: { lastSeenAt: 'desc' }, limit: 500 },
      );
      return rows.map((s) => toSessionView(s, ctx.actor.sessionId));
    },
  });

  k.routes.register({
    method: 'DELETE',
    path: '/api/v1/sessions/:id',
    summary: 'End a session of a user in your subtree.',
    tags: ['sessions'],
    permission: 'session.manage',
    audit: 'session.revoke',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (ctx: RouteContext<{ id: string }>) => {
      const s = await ctx.em.findOne(Session, { id: ctx.params.id, revokedAt: null });
      if (!s) throw new ProblemError('not-found', `No active session ${ctx.params.id} in your subtree`);
      const tenant = await ctx.em.findOneOrFail(Tenant, { id: s.tenantId });
      if (!ctx.authz.hasOn('session.manage', tenant.path)) throw new ProblemError('forbidden', 'You may not end sessions in this tenant');
      await revokeSession(ctx, s);
      ctx.audit.tenantPath = tenant.path;
      return undefined;
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/auth/tokens',
    summary: 'Your API tokens (never their secrets).',
    tags: ['account'],
    permission: 'account.self',
    schema: { query: pageQuery, response: pageOf(tokenView) },
    handler: async (ctx: RouteContext<{}, { limit: number; cursor?: string }>) => {
      const rows = await ctx.em.find(ApiToken, { userId: ctx.actor.userId!, ...afterCursor(decodeCursor(ctx.query.cursor)) }, { orderBy: { createdAt: 'asc', id: 'asc' }, limit: ctx.query.limit + 1 });
      return page(rows, ctx.query.limit, toTokenView);
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/tokens',
    summary: 'Create an API token limited to some of your permissions. The secret is in this response only.',
    tags: ['account'],
    permission: 'account.self',
    audit: 'auth.token.create',
    status: 201,
    schema: {
      body: {
        type: 'object',
        required: ['name', 'permissions'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 100 },
          permissions: { type: 'array', minItems: 1, maxItems: 500, uniqueItems: true, items: permissionName },
          expiresInDays: { type: 'integer', minimum: 1, maximum: TOKEN_MAX_DAYS, default: 90 },
        },
      },
      response: { type: 'object', required: ['token', 'secret'], properties: { token: tokenView, secret: { type: 'string' } } },
    },
    handler: async (ctx: RouteContext<{}, {}, { name: string; permissions: string[]; expiresInDays: number }>) => {
      if (ctx.actor.type !== 'user') throw new ProblemError('forbidden', 'API tokens are created from a logged-in session, not with another token');
      const unknown = ctx.body.permissions.filter((p) => p !== ALL_PERMISSIONS && !k.permissions.has(p));
      if (unknown.length) throw new ProblemError('validation-failed', `Unknown permissions: ${unknown.join(', ')}`, { errors: [{ pointer: '/body/permissions', message: 'contains unknown permissions' }] });
      const missing = ctx.body.permissions.filter((p) => !ctx.authz.has(p));
      if (missing.length) throw new ProblemError('forbidden', `A token cannot carry permissions you do not hold: ${missing.join(', ')}`, { missing });
      // Also check on the home tenant: a token must not widen anything.
      assertGrantable(ctx.authz, ctx.body.permissions.filter((p) => p !== ALL_PERMISSIONS), ctx.actor.tenantPath!, 'a token');
      const { token, secret } = await createApiToken(k, ctx.em, {
        userId: ctx.actor.userId!, tenantId: ctx.actor.tenantId!, name: ctx.body.name, permissions: ctx.body.permissions, expiresInDays: ctx.body.expiresInDays,
      });
      Object.assign(ctx.audit, { target: `token:${token.id}`, details: { name: token.name, permissions: token.permissions, expiresAt: token.expiresAt } });
      return { token: toTokenView(token), secret };
    },
  });

  k.routes.register({
    method: 'DELETE',
    path: '/api/v1/auth/tokens/:id',
    summary: 'Revoke one of your API tokens; it stops working on the next request.',
    tags: ['account'],
    permission: 'account.self',
    audit: 'auth.token.revoke',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (ctx: RouteContext<{ id: string }>) => {
      const t = await ctx.em.findOne(ApiToken, { id: ctx.params.id, userId: ctx.actor.userId! });
      if (!t || t.revokedAt) throw new ProblemError('not-found', `No active token ${ctx.params.id} of yours`);
      t.revokedAt = new Date(k.now());
      await ctx.em.flush();
      k.authenticator.invalidateToken(t.id);
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateToken(t.id));
      Object.assign(ctx.audit, { target: `token:${t.id}`, details: { name: t.name } });
      return undefined;
    },
  });
}
