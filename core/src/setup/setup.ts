import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import type { Em } from '../db/orm.js';
import { ProblemError } from '../errors/problem.js';
import { Tenant, User, RoleBinding } from '../db/entities/index.js';
import { email as emailSchema, name as nameSchema, userView, toUserView } from '../http/common-schemas.js';
import { hashPassword, passwordSchema, checkPasswordPolicy } from '../auth/passwords.js';
import { randomSecret, safeEqual, sha256 } from '../auth/secrets.js';
import { builtinRole } from '../rbac/roles.js';
import type { RouteContext } from '../http/route-registry.js';

interface SetupState {
  done: boolean;
  tokenHash?: string;
  completedAt?: string;
}

const KEY = 'setup';

export function setupTokenPath(dataDir: string): string {
  return path.join(dataDir, 'setup-token');
}

/**
 * On a fresh installation, creates a one-time setup token, writes it to
 * `<data dir>/setup-token` (0600) and returns it so `start` can print it.
 * Returns null once setup is done. A new token replaces the old one on every
 * start until setup completes (the file always holds the valid one).
 */
export async function prepareSetupToken(k: Kernel): Promise<string | null> {
  const em = k.systemEm();
  const state = await k.state.get<SetupState>(em, KEY);
  if (state?.done) return null;
  const token = randomSecret(24);
  await k.state.set(em, KEY, { done: false, tokenHash: sha256(token) } satisfies SetupState);
  fs.mkdirSync(k.config.dataDir, { recursive: true, mode: 0o700 });
  const file = setupTokenPath(k.config.dataDir);
  fs.writeFileSync(file, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return token;
}

export async function isSetupDone(k: Kernel, em: Em = k.systemEm()): Promise<boolean> {
  return (await k.state.get<SetupState>(em, KEY))?.done === true;
}

/** Creates the platform tenant and its owner — shared by the HTTP route and `mpanel user create --owner`. */
export async function createPlatformOwner(em: Em, input: { email: string; password: string; name: string; tenantName?: string }, now: Date) {
  const tenantId = randomUUID();
  const tenant = em.create(Tenant, { id: tenantId, parentId: null, path: `/${tenantId}/`, kind: 'platform', name: input.tenantName ?? 'Platform', quotas: {}, branding: {}, createdAt: now });
  const user = em.create(User, {
    id: randomUUID(), tenantId, email: input.email, name: input.name, passwordHash: await hashPassword(input.password),
    emailVerifiedAt: null, disabledAt: null, createdAt: now, passwordChangedAt: now,
  });
  const owner = await builtinRole(em, 'platform-owner');
  em.create(RoleBinding, { id: randomUUID(), userId: user.id, roleId: owner.id, tenantId, createdAt: now });
  await em.flush();
  return { tenant, user };
}

export function registerSetupRoutes(k: Kernel): void {
  k.routes.register({
    method: 'GET',
    path: '/api/v1/setup',
    summary: 'Whether first-run setup is still needed.',
    tags: ['setup'],
    public: true,
    schema: { response: { type: 'object', required: ['needed'], properties: { needed: { type: 'boolean' } } } },
    handler: async (ctx) => ({ needed: !(await isSetupDone(k, ctx.unscopedEm())) }),
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/setup',
    summary: 'First-run setup: with the token from <data dir>/setup-token, create the platform tenant and its owner.',
    tags: ['setup'],
    public: true,
    csrfExempt: true,
    audit: 'setup.complete',
    schema: {
      body: {
        type: 'object',
        // `token` is checked by the handler so a missing one is a 403 like a wrong one, not a 400.
        required: ['email', 'password', 'name'],
        properties: { token: { type: 'string', maxLength: 200 }, email: emailSchema, password: passwordSchema, name: nameSchema, tenantName: nameSchema },
      },
      response: { type: 'object', required: ['user', 'tenant'], properties: { user: userView, tenant: { type: 'object', required: ['id', 'name'], properties: { id: { type: 'string' }, name: { type: 'string' } } } } },
    },
    status: 201,
    handler: async (ctx: RouteContext<{}, {}, { token?: string; email: string; password: string; name: string; tenantName?: string }>) => {
      const em = ctx.unscopedEm();
      // Serialise concurrent setup attempts: only one may create the owner.
      await em.execute('select pg_advisory_xact_lock(7261002)');
      const state = await k.state.get<SetupState>(em, KEY);
      if (state?.done) throw new ProblemError('setup-done', 'Setup was already completed; log in instead');
      if (!state?.tokenHash || !ctx.body.token || !safeEqual(sha256(ctx.body.token), state.tokenHash)) {
        throw new ProblemError('setup-token-invalid', `The setup token is wrong; it is in ${setupTokenPath(k.config.dataDir)} and was printed at start`);
      }
      checkPasswordPolicy(ctx.body.password, ctx.body.email);
      const { tenant, user } = await createPlatformOwner(em, ctx.body, new Date(k.now()));
      await k.state.set(em, KEY, { done: true, completedAt: new Date(k.now()).toISOString() } satisfies SetupState);
      ctx.audit.target = `user:${user.id}`;
      ctx.audit.tenantId = tenant.id;
      ctx.audit.tenantPath = tenant.path;
      ctx.audit.details = { email: user.email };
      await ctx.publish('tenant.created', { id: tenant.id, name: tenant.name, kind: tenant.kind }, { tenantId: tenant.id, tenantPath: tenant.path, permission: 'tenant.read' });
      // If the commit still failed after this, the next start writes a fresh token.
      fs.rmSync(setupTokenPath(k.config.dataDir), { force: true });
      return { user: toUserView(user), tenant: { id: tenant.id, name: tenant.name } };
    },
  });
}
