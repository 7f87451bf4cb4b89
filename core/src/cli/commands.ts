import { randomUUID } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import { Role, RoleBinding, Tenant, User } from '../db/entities/index.js';
import type { Em } from '../db/orm.js';
import { hashPassword, checkPasswordPolicy, PASSWORD_MIN, PASSWORD_MAX } from '../auth/passwords.js';
import { createPlatformOwner, isSetupDone } from '../setup/setup.js';
import { appendAudit } from '../audit/store.js';
import { writeOutbox } from '../events/outbox.js';
import { verifyAudit, type VerifyResult } from '../audit/store.js';
import { createApiToken, TOKEN_MAX_DAYS } from '../auth/account-routes.js';
import { resolveAuthorization } from '../rbac/resolve.js';
import { ALL_PERMISSIONS } from '../rbac/permissions.js';
import { toUserView } from '../http/common-schemas.js';
import fs from 'node:fs';
import { setupTokenPath } from '../setup/setup.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const cliActor = { actorType: 'system' as const, actorId: 'cli', actorLabel: `cli (${process.env.USER ?? 'unknown user'})` };

function invalid(pointer: string, message: string): ProblemError {
  return new ProblemError('validation-failed', `${pointer.replace('/', '--')}: ${message}`, { errors: [{ pointer, message }] });
}

export async function runUserCreate(
  k: Kernel,
  opts: { email: string; name: string; password: string; tenant?: string; role?: string[]; owner?: boolean },
): Promise<Record<string, unknown>> {
  if (!EMAIL.test(opts.email) || opts.email.length > 254) throw invalid('/email', 'is not an e-mail address');
  if (!opts.name.trim() || opts.name.length > 200) throw invalid('/name', 'must be 1–200 characters');
  if (opts.password.length < PASSWORD_MIN || opts.password.length > PASSWORD_MAX) throw invalid('/password', `must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`);
  checkPasswordPolicy(opts.password, opts.email);
  const em = k.systemEm();
  return em.transactional(async (tem) => {
    const t = tem as unknown as Em;
    if (await t.count(User, { email: { $ilike: opts.email.replace(/[\\%_]/g, (c) => `\\${c}`) } })) {
      throw new ProblemError('conflict', `A user with the e-mail ${opts.email} already exists`);
    }
    if (opts.owner) {
      if (await isSetupDone(k, t)) throw new ProblemError('setup-done', 'Setup is done already; create users in the platform tenant without --owner');
      const { tenant, user } = await createPlatformOwner(t, opts, new Date(k.now()));
      await k.state.set(t, 'setup', { done: true, completedAt: new Date(k.now()).toISOString() });
      // The same event as HTTP setup; a running panel's outbox poll delivers it.
      await writeOutbox(t, 'tenant.created', { id: tenant.id, name: tenant.name, kind: tenant.kind }, { tenantId: tenant.id, tenantPath: tenant.path, permission: 'tenant.read' });
      await appendAudit(t, { ...cliActor, action: 'setup.complete', target: `user:${user.id}`, tenantId: tenant.id, tenantPath: tenant.path, outcome: 'success', details: { email: user.email, via: 'cli' } });
      fs.rmSync(setupTokenPath(k.config.dataDir), { force: true });
      return { user: toUserView(user), tenant: { id: tenant.id, name: tenant.name } };
    }
    const tenant = opts.tenant
      ? await t.findOne(Tenant, { id: opts.tenant })
      : await t.findOne(Tenant, { parentId: null, kind: 'platform' });
    if (!tenant) throw new ProblemError('not-found', opts.tenant ? `No tenant ${opts.tenant}` : 'No platform tenant yet: run setup or use --owner');
    const roles: Role[] = [];
    for (const key of opts.role ?? []) {
      const role = await t.findOne(Role, { key, $or: [{ tenantId: null }, { tenantId: { $in: tenant.path.split('/').filter(Boolean) } }] });
      if (!role) throw new ProblemError('not-found', `No role "${key}" usable on this tenant`);
      roles.push(role);
    }
    const now = new Date(k.now());
    const user = t.create(User, {
      id: randomUUID(), tenantId: tenant.id, email: opts.email, name: opts.name, passwordHash: await hashPassword(opts.password),
      emailVerifiedAt: null, disabledAt: null, createdAt: now, passwordChangedAt: now,
    });
    for (const role of roles) t.create(RoleBinding, { id: randomUUID(), userId: user.id, roleId: role.id, tenantId: tenant.id, createdAt: now });
    await t.flush();
    // Subscribers must hear of users however they were created (POST /users publishes the same).
    await writeOutbox(t, 'user.created', { id: user.id, email: user.email, tenantId: tenant.id }, { tenantId: tenant.id, tenantPath: tenant.path, permission: 'user.read' });
    await appendAudit(t, { ...cliActor, action: 'user.create', target: `user:${user.id}`, tenantId: tenant.id, tenantPath: tenant.path, outcome: 'success', details: { email: user.email, roles: roles.map((r) => r.key), via: 'cli' } });
    return { user: toUserView(user), roles: roles.map((r) => r.key) };
  });
}

export async function runTokenCreate(
  k: Kernel,
  opts: { user: string; name: string; permission?: string[]; days: string },
): Promise<Record<string, unknown>> {
  const days = Number(opts.days);
  if (!Number.isInteger(days) || days < 1 || days > TOKEN_MAX_DAYS) throw invalid('/days', `must be a whole number from 1 to ${TOKEN_MAX_DAYS}`);
  if (!opts.name.trim() || opts.name.length > 100) throw invalid('/name', 'must be 1–100 characters');
  const em = k.systemEm();
  return em.transactional(async (tem) => {
    const t = tem as unknown as Em;
    const user = await t.findOne(User, { email: { $ilike: opts.user.replace(/[\\%_]/g, (c) => `\\${c}`) } });
    if (!user) throw new ProblemError('not-found', `No user with the e-mail ${opts.user}`);
    if (user.disabledAt) throw new ProblemError('conflict', `The user ${opts.user} is disabled`);
    const { authz } = await resolveAuthorization(t, user.id);
    const wanted = opts.permission?.length ? opts.permission : authz.summary();
    const unknown = wanted.filter((p) => p !== ALL_PERMISSIONS && !k.permissions.has(p));
    if (unknown.length) throw new ProblemError('validation-failed', `Unknown permissions: ${unknown.join(', ')}`);
    const missing = wanted.filter((p) => !authz.has(p));
    if (missing.length) throw new ProblemError('forbidden', `The user does not hold: ${missing.join(', ')}`);
    if (wanted.length === 0) throw new ProblemError('forbidden', 'The user holds no permissions, so a token would be useless');
    const { token, secret } = await createApiToken(k, t, { userId: user.id, tenantId: user.tenantId, name: opts.name, permissions: wanted, expiresInDays: days });
    const tenant = await t.findOneOrFail(Tenant, { id: user.tenantId });
    await appendAudit(t, { ...cliActor, action: 'auth.token.create', target: `token:${token.id}`, tenantId: tenant.id, tenantPath: tenant.path, outcome: 'success', details: { user: user.email, permissions: wanted, via: 'cli' } });
    return { id: token.id, secret, permissions: wanted, expiresAt: new Date(token.expiresAt).toISOString() };
  });
}

export async function runAuditVerify(k: Kernel, anchor?: string): Promise<VerifyResult> {
  if (anchor === undefined) return verifyAudit(k.systemEm());
  const m = /^(\d+):([0-9a-f]{64})$/.exec(anchor);
  if (!m) throw new ProblemError('validation-failed', '--anchor must be <seq>:<hash> as printed by an earlier verify (lastSeq:lastHash)');
  return verifyAudit(k.systemEm(), 2000, { seq: Number(m[1]), hash: m[2]! });
}
