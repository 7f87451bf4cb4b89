import { randomUUID } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import type { Em } from '../db/orm.js';
import { ProblemError } from '../errors/problem.js';
import { OneTimeToken, User } from '../db/entities/index.js';
import { email as emailSchema } from '../http/common-schemas.js';
import type { RouteContext } from '../http/route-registry.js';
import { hashPassword, passwordSchema, checkPasswordPolicy } from './passwords.js';
import { randomSecret, sha256 } from './secrets.js';

const RESET_MINUTES = 60;
const VERIFY_HOURS = 48;

async function issueOneTimeToken(k: Kernel, em: Em, userId: string, purpose: 'password-reset' | 'email-verify', ttlMs: number): Promise<string> {
  // A new link replaces the older ones of the same purpose.
  await em.execute('update one_time_token set used_at = ? where user_id = ? and purpose = ? and used_at is null', [new Date(k.now()), userId, purpose]);
  const secret = randomSecret(32);
  em.create(OneTimeToken, { id: randomUUID(), userId, purpose, tokenHash: sha256(secret), createdAt: new Date(k.now()), expiresAt: new Date(k.now() + ttlMs), usedAt: null });
  await em.flush();
  return secret;
}

/**
 * Mails a password-reset link (also used to invite a user created without a
 * password). With `background`, delivery is not awaited and a failure is only
 * logged: the anonymous reset request must answer the same way, and as fast,
 * whether or not the address is known and the mail server is up.
 */
export async function sendPasswordResetMail(
  k: Kernel, em: Em, user: Pick<User, 'id' | 'email' | 'name'>, kind: 'reset' | 'invite' = 'reset', options: { background?: boolean } = {},
): Promise<void> {
  const secret = await issueOneTimeToken(k, em, user.id, 'password-reset', (kind === 'invite' ? 24 * 60 : RESET_MINUTES) * 60_000);
  const link = `${k.config.publicUrl}/reset-password?token=${secret}`;
  const delivery = k.mailer.send({
    to: user.email,
    subject: kind === 'invite' ? 'Your mpanel account — set your password' : 'Reset your mpanel password',
    text: `Hello ${user.name},\n\n${kind === 'invite' ? 'An account was created for you.' : 'Someone asked to reset your password.'} Open this link to choose a password:\n\n${link}\n\nThe link works once${kind === 'invite' ? ' within 24 hours' : ` within ${RESET_MINUTES} minutes`}. If you did not ask for this, ignore this mail.\n\nToken: ${secret}\n`,
  });
  if (options.background) void delivery.catch(() => undefined); // the mailer logged it
  else await delivery;
}

/**
 * Marks a token used and returns its user — one atomic UPDATE, so two
 * concurrent requests with the same token cannot both succeed (the second
 * waits for the first's row lock and then sees `used_at` set). If the
 * caller's transaction rolls back (e.g. a weak password), the token stays usable.
 */
async function consume(k: Kernel, em: Em, secret: string, purpose: 'password-reset' | 'email-verify'): Promise<{ userId: string }> {
  const now = new Date(k.now());
  const rows = await em.execute<Array<{ user_id: string }>>(
    'update one_time_token set used_at = ? where token_hash = ? and purpose = ? and used_at is null and expires_at > ? returning user_id',
    [now, sha256(secret), purpose, now],
  );
  if (!rows[0]) throw new ProblemError('token-invalid', 'The link is invalid, used or expired; ask for a new one');
  return { userId: rows[0].user_id };
}

/** Password reset and e-mail verification by mail. */
export function registerRecoveryRoutes(k: Kernel): void {
  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/password-reset',
    summary: 'Mail a password-reset link. Always answers 202, whether or not the e-mail is known.',
    tags: ['auth'],
    public: true,
    csrfExempt: true,
    audit: 'auth.password.reset-request',
    status: 202,
    schema: { body: { type: 'object', required: ['email'], properties: { email: emailSchema } }, response: { type: 'object', required: ['status'], properties: { status: { const: 'accepted' } } } },
    handler: async (ctx: RouteContext<{}, {}, { email: string }>) => {
      const verdict = k.throttle.check(`reset:${ctx.body.email}`, ctx.ip);
      if (!verdict.allowed) throw new ProblemError('too-many-attempts', `Too many requests; try again in ${verdict.retryAfterSeconds} s`, { retryAfter: verdict.retryAfterSeconds });
      // Counted as a "failure" so repeated requests are throttled like logins.
      k.throttle.fail(`reset:${ctx.body.email}`, ctx.ip);
      const em = ctx.unscopedEm();
      const user = await em.findOne(User, { email: { $ilike: ctx.body.email.replace(/[\\%_]/g, (c) => `\\${c}`) }, disabledAt: null });
      ctx.audit.target = `email:${ctx.body.email.toLowerCase()}`;
      if (user) {
        ctx.audit.tenantId = user.tenantId;
        await sendPasswordResetMail(k, em, user, 'reset', { background: true });
      }
      ctx.audit.details = { known: !!user };
      return { status: 'accepted' as const };
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/password-reset/confirm',
    summary: 'Set a new password with the token from the e-mailed link. Ends all sessions of the user.',
    tags: ['auth'],
    public: true,
    csrfExempt: true,
    audit: 'auth.password.reset',
    schema: { body: { type: 'object', required: ['token', 'password'], properties: { token: { type: 'string', minLength: 1, maxLength: 200 }, password: passwordSchema } } },
    handler: async (ctx: RouteContext<{}, {}, { token: string; password: string }>) => {
      const em = ctx.unscopedEm();
      const t = await consume(k, em, ctx.body.token, 'password-reset');
      const user = await em.findOneOrFail(User, { id: t.userId });
      checkPasswordPolicy(ctx.body.password, user.email);
      user.passwordHash = await hashPassword(ctx.body.password);
      user.passwordChangedAt = new Date(k.now());
      // Following the link proves control of the mailbox.
      user.emailVerifiedAt ??= new Date(k.now());
      await em.flush();
      await em.execute('update session set revoked_at = ? where user_id = ? and revoked_at is null', [new Date(k.now()), user.id]);
      k.authenticator.invalidateUser(user.id);
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateUser(user.id));
      k.throttle.succeed(user.email);
      Object.assign(ctx.audit, { target: `user:${user.id}`, tenantId: user.tenantId });
      return undefined;
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/verify-email',
    summary: 'Mail yourself a link that confirms your e-mail address.',
    tags: ['account'],
    permission: 'account.self',
    audit: 'auth.email.verify-request',
    status: 202,
    schema: { response: { type: 'object', required: ['status'], properties: { status: { enum: ['sent', 'already-verified'] } } } },
    handler: async (ctx) => {
      const user = await ctx.em.findOneOrFail(User, { id: ctx.actor.userId! });
      ctx.audit.target = `user:${user.id}`;
      if (user.emailVerifiedAt) return { status: 'already-verified' as const };
      const secret = await issueOneTimeToken(k, ctx.em, user.id, 'email-verify', VERIFY_HOURS * 3_600_000);
      await k.mailer.send({
        to: user.email,
        subject: 'Confirm your e-mail address for mpanel',
        text: `Hello ${user.name},\n\nconfirm your address by opening:\n\n${k.config.publicUrl}/verify-email?token=${secret}\n\nToken: ${secret}\n`,
      });
      return { status: 'sent' as const };
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/auth/verify-email/confirm',
    summary: 'Confirm an e-mail address with the token from the mailed link.',
    tags: ['auth'],
    public: true,
    csrfExempt: true,
    audit: 'auth.email.verify',
    schema: { body: { type: 'object', required: ['token'], properties: { token: { type: 'string', minLength: 1, maxLength: 200 } } } },
    handler: async (ctx: RouteContext<{}, {}, { token: string }>) => {
      const em = ctx.unscopedEm();
      const t = await consume(k, em, ctx.body.token, 'email-verify');
      const user = await em.findOneOrFail(User, { id: t.userId });
      user.emailVerifiedAt = new Date(k.now());
      await em.flush();
      k.authenticator.invalidateUser(user.id);
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateUser(user.id));
      Object.assign(ctx.audit, { target: `user:${user.id}`, tenantId: user.tenantId });
      return undefined;
    },
  });
}
