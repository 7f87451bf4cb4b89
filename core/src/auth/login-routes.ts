import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import { User } from '../db/entities/index.js';
import type { Em } from '../db/orm.js';
import { email as emailSchema, userView, toUserView } from '../http/common-schemas.js';
import type { RouteContext } from '../http/route-registry.js';
import { burnVerifyTime, verifyPassword } from '../auth/passwords.js';
import { randomSecret, sign, unsign } from './secrets.js';
import { createSession, setSessionCookies, clearSessionCookies } from './sessions.js';
import type { LoginHooks, LoginState, LoginSubject, FactorRequirement } from './login-hooks.js';
import { parse as parseCookie } from 'cookie';

const TICKET_SECONDS = 300;

interface Ticket {
  sub: string;
  factors: string[];
  exp: number;
  /** Ticket id: a ticket is spent by the first factor answered right (no replay into a second session). */
  jti: string;
}

/**
 * Ticket ids already spent, until their ticket expires. Per process, like the
 * login throttle: on several nodes a ticket could be replayed once per node
 * within its five minutes, and only with a correct factor answer.
 */
class SpentTickets {
  private readonly spent = new Map<string, number>();
  has(jti: string): boolean {
    return this.spent.has(jti);
  }
  /** Marks a ticket spent; false if it already was (check and set are one synchronous step). */
  spend(jti: string, exp: number, now: number): boolean {
    if (this.spent.has(jti)) return false;
    for (const [id, e] of this.spent) if (e <= now) this.spent.delete(id);
    this.spent.set(jti, exp);
    return true;
  }
}

const meResponse = {
  type: 'object',
  required: ['user', 'tenant', 'permissions', 'csrfToken', 'actorType'],
  properties: {
    user: userView,
    tenant: { type: 'object', required: ['id', 'path'], properties: { id: { type: 'string' }, path: { type: 'string' } } },
    permissions: { type: 'array', items: { type: 'string' } },
    csrfToken: { type: ['string', 'null'] },
    actorType: { enum: ['user', 'token'] },
    sessionId: { type: ['string', 'null'] },
  },
};

async function subjectFor(em: Em, user: User): Promise<LoginSubject> {
  const rows = await em.execute<Array<{ key: string; path: string }>>(
    `select distinct r.key, t.path from role_binding rb join role r on r.id = rb.role_id join tenant t on t.id = ?
      where rb.user_id = ?`,
    [user.tenantId, user.id],
  );
  const path = rows[0]?.path ?? (await em.execute<Array<{ path: string }>>('select path from tenant where id = ?', [user.tenantId]))[0]!.path;
  return { userId: user.id, email: user.email, name: user.name, tenantId: user.tenantId, tenantPath: path, roles: rows.map((r) => r.key) };
}

/** Login, second factor, logout and "who am I". */
export function registerLoginRoutes(k: Kernel, hooks: LoginHooks, serverSecret: () => string): void {
  const spentTickets = new SpentTickets();
  const issue = async (ctx: RouteContext, user: User, subject: LoginSubject, state: LoginState) => {
    await hooks.beforeSession.promise(state);
    const issued = await createSession(ctx.em, {
      userId: user.id, tenantId: user.tenantId, ip: ctx.ip, userAgent: ctx.userAgent, ttlSeconds: k.config.sessionTtlSeconds, now: k.now(),
    });
    setSessionCookies(ctx.res, issued, { secure: k.config.cookieSecure, ttlSeconds: k.config.sessionTtlSeconds });
    ctx.audit.actor = { type: 'user', id: user.id, label: user.email };
    ctx.audit.target = `user:${user.id}`;
    ctx.audit.tenantId = user.tenantId;
    ctx.audit.tenantPath = subject.tenantPath;
    ctx.audit.details = { ...(ctx.audit.details ?? {}), sessionId: issued.session.id };
    k.metrics.loginAttempts.inc({ outcome: 'success' });
    void hooks.succeeded.promise({ ...subject, sessionId: issued.session.id }).catch((err) => ctx.log.warn({ err }, 'login observer failed'));
    return {
      user: toUserView(user),
      csrfToken: issued.session.csrfToken,
      expiresAt: new Date(issued.session.expiresAt).toISOString(),
    };
  };

  const loginResponse = {
    type: 'object',
    required: ['user', 'csrfToken', 'expiresAt'],
    properties: { user: userView, csrfToken: { type: 'string' }, expiresAt: { type: 'string' } },
  };

  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/login',
    summary: 'Log in with e-mail and password; sets the session cookie. Answers 401 second-factor-required with a ticket when a plugin demands a second factor.',
    tags: ['auth'],
    public: true,
    csrfExempt: true,
    // Plugins' login hooks use their own database work (ctx.db, ctx.audit): with
    // the route holding a transaction that would wait forever on the embedded
    // database's single connection. The one write here (the session) needs none.
    noTransaction: true,
    audit: 'auth.login',
    schema: {
      body: { type: 'object', required: ['email', 'password'], properties: { email: { type: 'string', minLength: 1, maxLength: 254 }, password: { type: 'string', minLength: 1, maxLength: 1024 } } },
      response: loginResponse,
    },
    handler: async (ctx: RouteContext<{}, {}, { email: string; password: string }>) => {
      const { email, password } = ctx.body;
      ctx.audit.target = `email:${email.toLowerCase()}`;
      const verdict = k.throttle.check(email, ctx.ip);
      if (!verdict.allowed) {
        k.metrics.loginAttempts.inc({ outcome: 'throttled' });
        ctx.audit.details = { throttled: verdict.scope };
        throw new ProblemError('too-many-attempts', `Too many failed logins; try again in ${verdict.retryAfterSeconds} s`, { retryAfter: verdict.retryAfterSeconds });
      }
      const system = ctx.unscopedEm();
      const user = await system.findOne(User, { email: { $ilike: email.replace(/[\\%_]/g, (c) => `\\${c}`) } });
      const ok = user ? await verifyPassword(user.passwordHash, password) : (await burnVerifyTime(password), false);
      if (!user || !ok || user.disabledAt) {
        const locked = k.throttle.fail(email, ctx.ip);
        k.metrics.loginAttempts.inc({ outcome: 'failure' });
        ctx.audit.details = { reason: !user ? 'unknown-email' : !ok ? 'wrong-password' : 'disabled', ...(locked ? { lockout: true } : {}) };
        if (user) {
          ctx.audit.tenantId = user.tenantId;
          ctx.audit.target = `user:${user.id}`;
        }
        throw new ProblemError('invalid-credentials', 'The e-mail or password is wrong');
      }
      k.throttle.succeed(email);
      const subject = await subjectFor(system, user);
      ctx.audit.tenantPath = subject.tenantPath;
      const state = await hooks.afterPassword.promise({
        subject, ip: ctx.ip, userAgent: ctx.userAgent, requiredFactors: [], cookies: parseCookie(ctx.req.headers.cookie ?? '') as Record<string, string>,
      });
      if (state.requiredFactors.length > 0) {
        const ticket = sign({ sub: user.id, factors: state.requiredFactors.map((f) => f.factor), exp: k.now() + TICKET_SECONDS * 1000, jti: randomSecret(16) } satisfies Ticket, serverSecret());
        ctx.audit.details = { secondFactor: state.requiredFactors.map((f) => f.factor) };
        throw new ProblemError('second-factor-required', 'The password was right; now answer the second factor', {
          ticket,
          factors: state.requiredFactors satisfies FactorRequirement[],
          expiresInSeconds: TICKET_SECONDS,
        });
      }
      // Sessions are written with the scoped em: give it the user's tenant explicitly.
      return issue({ ...ctx, em: system }, user, subject, state);
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/login/factor',
    summary: 'Answer a second-factor challenge with the ticket from the login response; sets the session cookie when no factor is left.',
    tags: ['auth'],
    public: true,
    csrfExempt: true,
    noTransaction: true, // as for /auth/login: factor hooks do their own database work
    audit: 'auth.login.factor',
    schema: {
      body: {
        type: 'object',
        required: ['ticket', 'factor', 'response'],
        properties: {
          ticket: { type: 'string', minLength: 1, maxLength: 4096 },
          factor: { type: 'string', minLength: 1, maxLength: 64 },
          response: { type: 'object', additionalProperties: true, maxProperties: 10 },
        },
      },
      response: loginResponse,
    },
    handler: async (ctx: RouteContext<{}, {}, { ticket: string; factor: string; response: Record<string, unknown> }>) => {
      const ticket = unsign<Ticket>(ctx.body.ticket, serverSecret());
      const invalid = () => new ProblemError('token-invalid', 'The login ticket is invalid, used or expired; log in again');
      if (!ticket || typeof ticket.exp !== 'number' || ticket.exp <= k.now() || typeof ticket.jti !== 'string' || !Array.isArray(ticket.factors)) throw invalid();
      if (spentTickets.has(ticket.jti)) throw invalid();
      if (!ticket.factors.includes(ctx.body.factor)) {
        throw new ProblemError('validation-failed', `The factor "${ctx.body.factor}" was not asked for`, { errors: [{ pointer: '/body/factor', message: `must be one of ${ticket.factors.join(', ')}` }] });
      }
      const system = ctx.unscopedEm();
      const user = await system.findOne(User, { id: ticket.sub });
      if (!user || user.disabledAt) throw new ProblemError('token-invalid', 'The login ticket is invalid or expired; log in again');
      ctx.audit.target = `user:${user.id}`;
      ctx.audit.tenantId = user.tenantId;
      ctx.audit.details = { factor: ctx.body.factor };
      const throttleKey = `factor:${user.id}`;
      const verdict = k.throttle.check(throttleKey, ctx.ip);
      if (!verdict.allowed) {
        throw new ProblemError('too-many-attempts', `Too many wrong codes; try again in ${verdict.retryAfterSeconds} s`, { retryAfter: verdict.retryAfterSeconds });
      }
      const subject = await subjectFor(system, user);
      ctx.audit.tenantPath = subject.tenantPath;
      const result = await hooks.verifyFactor.promise({ subject, factor: ctx.body.factor, response: ctx.body.response, ip: ctx.ip, userAgent: ctx.userAgent });
      if (!result) throw new ProblemError('validation-failed', `No plugin handles the factor "${ctx.body.factor}"`);
      if (!result.ok) {
        k.throttle.fail(throttleKey, ctx.ip);
        throw new ProblemError('invalid-credentials', result.reason ?? 'The code is wrong');
      }
      // Two requests racing with the same ticket and a right answer: only the first goes on.
      if (!spentTickets.spend(ticket.jti, ticket.exp, k.now())) throw invalid();
      k.throttle.succeed(throttleKey);
      for (const c of result.setCookies ?? []) {
        ctx.res.cookie(c.name, c.value, { httpOnly: true, sameSite: 'lax', secure: k.config.cookieSecure, path: '/', maxAge: c.maxAgeSeconds * 1000 });
      }
      const remaining = ticket.factors.filter((f) => f !== ctx.body.factor);
      if (remaining.length > 0) {
        const next = sign({ ...ticket, factors: remaining, jti: randomSecret(16) } satisfies Ticket, serverSecret());
        throw new ProblemError('second-factor-required', 'More factors are required', { ticket: next, factors: remaining.map((f) => ({ factor: f, label: f })) });
      }
      const state: LoginState = { subject, ip: ctx.ip, userAgent: ctx.userAgent, requiredFactors: [], cookies: {} };
      return issue({ ...ctx, em: system }, user, subject, state);
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/logout',
    summary: 'End the current session (cookie) — API tokens are revoked through /auth/tokens instead.',
    tags: ['auth'],
    permission: 'account.self',
    audit: 'auth.logout',
    handler: async (ctx) => {
      if (ctx.actor.sessionId) {
        await ctx.em.execute('update session set revoked_at = ? where id = ? and revoked_at is null', [new Date(k.now()), ctx.actor.sessionId]);
        k.authenticator.invalidateSession(ctx.actor.sessionId);
        // Again after commit: a request racing the transaction may have re-cached the old state.
        const sessionId = ctx.actor.sessionId;
        ctx.afterCommit(() => k.authenticator.invalidateSession(sessionId));
        ctx.audit.target = `session:${ctx.actor.sessionId}`;
      }
      clearSessionCookies(ctx.res);
      return undefined;
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/auth/me',
    summary: 'The logged-in user, its tenant, its effective permissions and the CSRF token for state-changing requests.',
    tags: ['auth'],
    permission: 'account.self',
    schema: { response: meResponse },
    handler: async (ctx) => {
      // Served from the credential cache: no database work on the hot path.
      const a = ctx.actor;
      return {
        user: {
          id: a.userId!, tenantId: a.tenantId!, email: a.email!, name: a.name!,
          emailVerified: !!a.emailVerified, disabled: false, createdAt: a.createdAt!,
        },
        tenant: { id: a.tenantId!, path: a.tenantPath! },
        permissions: ctx.authz.summary(),
        csrfToken: ctx.csrfToken,
        actorType: a.type as 'user' | 'token',
        sessionId: a.sessionId ?? null,
      };
    },
  });
}
