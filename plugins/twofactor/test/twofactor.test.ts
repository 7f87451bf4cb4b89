import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPanel, TestClient, type TestPanel } from '@mpanel/sdk/testing';
import { oathtool, secretOf } from './oathtool.js';

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const API = '/api/v1/p/twofactor';
const STEP = 30_000;
type Role = 'owner' | 'admin' | 'auditor' | 'reseller' | 'customer' | 'otherCustomer';

/**
 * The plugin in a real panel on PostgreSQL, driven over HTTP like the shell
 * does: enrolment, logins with codes from oathtool, backup codes, replay,
 * throttling, role policies, trusted devices, admin resets and disabling the
 * plugin. The panel trusts X-Forwarded-For from loopback, so tests can speak
 * from made-up client addresses (documentation range 192.0.2.0/24) and keep
 * per-IP throttles apart.
 */
describe('two-factor login plugin over HTTP (real core + PostgreSQL, codes from oathtool)', () => {
  let t: TestPanel;
  const secrets: Partial<Record<Role, string>> = {};
  const backupCodes: Partial<Record<Role, string[]>> = {};
  let ipCounter = 10;
  /** A client address of its own, so per-IP throttling of one test does not leak into another. */
  const freshIp = () => ({ 'x-forwarded-for': `192.0.2.${ipCounter++}` });

  beforeAll(async () => {
    t = await createTestPanel({ plugins: [pluginDir], config: { trustProxy: 'loopback' } });
  });
  afterAll(async () => t?.close());

  const user = (role: Role) => t.users[role];
  /** Password step in a new browser: returns the client and the 401 answer. */
  const passwordStep = async (role: Role, headers: Record<string, string> = {}, client = t.anonymous()) => {
    const res = await client.post('/api/v1/auth/login', { email: user(role).email, password: user(role).password }, headers);
    return { client, res };
  };
  const answer = (client: TestClient, ticket: string, factor: string, response: Record<string, unknown>, headers: Record<string, string> = {}) =>
    client.post('/api/v1/auth/login/factor', { ticket, factor, response }, headers);
  /** Forgets which TOTP step a user used last, so a test can log in again within the same 30 s (replay has its own test). */
  const forgetLastStep = (role: Role) => t.sql('update plugin_twofactor.enrolment set last_step = null where user_id = $1', [user(role).id]);
  const auditOf = async (action: string) => (await t.as('owner').get(`/api/v1/audit?action=${action}`)).body.items as Array<Record<string, any>>;

  /** Enrols a user through the account routes, with a code from oathtool. */
  const enrol = async (role: Role) => {
    const c = t.as(role);
    const start = await c.post(`${API}/enrolment`);
    expect(start.status).toBe(201);
    secrets[role] = start.body.secret;
    const confirm = await c.post(`${API}/enrolment/confirm`, { code: oathtool(start.body.secret) });
    expect(confirm.status).toBe(200);
    backupCodes[role] = confirm.body.backupCodes;
    return { start: start.body, confirm: confirm.body };
  };

  it('starts without a second factor: a password alone logs in', async () => {
    const { res } = await passwordStep('customer');
    expect(res.status).toBe(200);
    const status = await t.as('customer').get(`${API}/status`);
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ enabled: false, required: false, backupCodes: { remaining: 0 } });
    expect((await t.anonymous().get(`${API}/status`)).status).toBe(401);
  });

  it('enrols with an otpauth URI, a QR code and a code from oathtool; answers ten backup codes once', async () => {
    const c = t.as('customer');
    const start = await c.post(`${API}/enrolment`);
    expect(start.status).toBe(201);
    const { secret, otpauthUri, qrDataUrl } = start.body;
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/mpanel:customer%40harness\.test\?/);
    expect(secretOf(otpauthUri)).toBe(secret);
    expect(qrDataUrl).toMatch(/^data:image\/png;base64,/);
    // Not on yet: a wrong code is refused and nothing changes.
    const wrong = await c.post(`${API}/enrolment/confirm`, { code: oathtool(secret, new Date(Date.now() - 5 * STEP)) });
    expect(wrong.status).toBe(422);
    expect(wrong.body.code).toBe('invalid-code');
    expect((await c.get(`${API}/status`)).body.enabled).toBe(false);
    expect((await passwordStep('customer')).res.status).toBe(200);

    const confirm = await c.post(`${API}/enrolment/confirm`, { code: oathtool(secret) });
    expect(confirm.status).toBe(200);
    expect(confirm.body.backupCodes).toHaveLength(10);
    expect(new Set(confirm.body.backupCodes).size).toBe(10);
    expect(confirm.body.text).toContain(confirm.body.backupCodes[0]);
    secrets.customer = secret;
    backupCodes.customer = confirm.body.backupCodes;
    // Confirming again does not hand out codes again.
    const again = await c.post(`${API}/enrolment/confirm`, { code: oathtool(secret) });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('twofactor-enabled');
    expect((await c.post(`${API}/enrolment`)).status).toBe(409);

    const status = (await c.get(`${API}/status`)).body;
    expect(status).toMatchObject({ enabled: true, backupCodes: { remaining: 10, initialPending: false } });
    expect(Date.parse(status.lastUsedAt)).toBeGreaterThan(Date.now() - 60_000);
    // Newest first: the refused second confirmation, the enrolment, the wrong code.
    const audit = await auditOf('twofactor.enrol');
    expect(audit.slice(0, 3)).toMatchObject([
      { outcome: 'failure', details: { error: 'twofactor-enabled' } },
      { outcome: 'success', target: `user:${user('customer').id}`, tenantId: t.tenants.customer, details: { during: 'account' } },
      { outcome: 'failure', target: `user:${user('customer').id}`, details: { error: 'invalid-code', reason: 'invalid-code' } },
    ]);
  });

  it('keeps the secret sealed and the backup codes hashed in the database', async () => {
    const rows = await t.sql<{ secret: string }>('select secret from plugin_twofactor.enrolment where user_id = $1', [user('customer').id]);
    expect(rows[0]!.secret).toMatch(/^v1\./);
    expect(rows[0]!.secret).not.toContain(secrets.customer);
    const dump = JSON.stringify(await t.sql('select * from plugin_twofactor.backup_code'));
    for (const code of backupCodes.customer!) {
      expect(dump).not.toContain(code);
      expect(dump).not.toContain(code.replace('-', ''));
    }
  });

  it('asks for the second factor after the password and accepts a code from oathtool', async () => {
    const { client, res } = await passwordStep('customer');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('second-factor-required');
    expect(res.body.factors).toEqual([{ factor: 'totp', label: expect.any(String), hints: { digits: 6, period: 30, backupCodes: true, trustDeviceDays: 30 } }]);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('mpanel_session='))).toBe(false);
    expect((await client.get('/api/v1/auth/me')).status).toBe(401);

    await forgetLastStep('customer');
    const ok = await answer(client, res.body.ticket, 'totp', { code: oathtool(secrets.customer!) });
    expect(ok.status).toBe(200);
    client.csrf = ok.body.csrfToken;
    expect((await client.get('/api/v1/auth/me')).body.user.email).toBe(user('customer').email);
    // The ticket was spent.
    const spent = await answer(t.anonymous(), res.body.ticket, 'totp', { code: oathtool(secrets.customer!) });
    expect(spent.body.code).toBe('token-invalid');
  });

  it('refuses oathtool codes from outside the ±1 step window', async () => {
    const { client, res } = await passwordStep('customer');
    for (const offset of [-3, 3]) {
      const r = await answer(client, res.body.ticket, 'totp', { code: oathtool(secrets.customer!, new Date(Date.now() + offset * STEP)) }, freshIp());
      expect(r.status).toBe(401);
      expect(r.body.code).toBe('invalid-credentials');
    }
    await forgetLastStep('customer');
    // A neighbouring step is fine (clock drift).
    expect((await answer(client, res.body.ticket, 'totp', { code: oathtool(secrets.customer!, new Date(Date.now() - STEP)) })).status).toBe(200);
    const failed = await auditOf('twofactor.code.failed');
    expect(failed[0]).toMatchObject({ outcome: 'failure', target: `user:${user('customer').id}`, details: { during: 'login', reason: 'invalid-code', kind: 'totp' } });
  });

  it('refuses a code that was just used (replay), in a login and in the account routes', async () => {
    await forgetLastStep('customer');
    const code = oathtool(secrets.customer!);
    const first = await passwordStep('customer');
    expect((await answer(first.client, first.res.body.ticket, 'totp', { code })).status).toBe(200);
    const second = await passwordStep('customer');
    const replay = await answer(second.client, second.res.body.ticket, 'totp', { code });
    expect(replay.status).toBe(401);
    expect(replay.body.detail).toMatch(/used already/);
    const audit = await auditOf('twofactor.code.failed');
    expect(audit[0]!.details).toMatchObject({ reason: 'code-replayed' });
    // Also where a code guards an account change.
    const regen = await t.as('customer').post(`${API}/backup-codes`, { code });
    expect(regen.status).toBe(422);
    expect(regen.body.code).toBe('code-replayed');
  });

  it('a backup code logs in once only', async () => {
    const [code] = backupCodes.customer!;
    const first = await passwordStep('customer');
    const ok = await answer(first.client, first.res.body.ticket, 'totp', { backupCode: code!.toUpperCase() });
    expect(ok.status).toBe(200);
    const second = await passwordStep('customer');
    const again = await answer(second.client, second.res.body.ticket, 'totp', { backupCode: code });
    expect(again.status).toBe(401);
    expect(again.body.detail).toMatch(/backup code/);
    expect((await t.as('customer').get(`${API}/status`)).body.backupCodes.remaining).toBe(9);
    expect((await auditOf('twofactor.backup-code.used'))[0]).toMatchObject({ target: `user:${user('customer').id}`, details: { remaining: 9 } });
  });

  it('new backup codes need a current code and replace the old ones', async () => {
    const c = t.as('customer');
    const none = await c.post(`${API}/backup-codes`, {});
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('code-required');
    await forgetLastStep('customer');
    const fresh = await c.post(`${API}/backup-codes`, { code: oathtool(secrets.customer!) });
    expect(fresh.status).toBe(200);
    expect(fresh.body.backupCodes).toHaveLength(10);
    const old = backupCodes.customer![1]!;
    backupCodes.customer = fresh.body.backupCodes;
    const login = await passwordStep('customer');
    expect((await answer(login.client, login.res.body.ticket, 'totp', { backupCode: old })).status).toBe(401);
    expect((await answer(login.client, login.res.body.ticket, 'totp', { backupCode: fresh.body.backupCodes[0] })).status).toBe(200);
    expect((await auditOf('twofactor.backup-codes.generate'))[0]).toMatchObject({ outcome: 'success', details: { first: false } });
  });

  it('throttles wrong codes per user (login and account routes)', async () => {
    const ip = freshIp();
    const { client, res } = await passwordStep('customer', ip);
    const wrong = () => answer(client, res.body.ticket, 'totp', { code: '000000' }, freshIp());
    for (let i = 0; i < 5; i++) expect((await wrong()).status).toBe(401);
    // Locked for this user — whatever the address, and even with the right code.
    await forgetLastStep('customer');
    const locked = await answer(client, res.body.ticket, 'totp', { code: oathtool(secrets.customer!) }, freshIp());
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('too-many-attempts');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The plugin's own count guards the account routes too.
    const disable = await t.as('customer').post(`${API}/disable`, { code: oathtool(secrets.customer!) });
    expect(disable.status).toBe(429);
    expect(disable.body.retryAfter).toBeGreaterThan(0);
    // Other users are not affected.
    await enrol('otherCustomer');
    const other = await passwordStep('otherCustomer', ip);
    await forgetLastStep('otherCustomer');
    expect((await answer(other.client, other.res.body.ticket, 'totp', { code: oathtool(secrets.otherCustomer!) }, ip)).status).toBe(200);
  });

  it('throttles wrong codes per IP, across users', async () => {
    // Twenty wrong codes from one address — five users × four, so that no user is locked: the address is.
    const ip = freshIp();
    const roles = ['otherCustomer', 'auditor', 'admin', 'reseller', 'owner'] as const;
    for (const role of roles.slice(1)) await enrol(role);
    for (const role of roles) {
      for (let i = 0; i < 4; i++) expect((await t.as(role).post(`${API}/backup-codes`, { code: '000000' }, ip)).status).toBe(422);
    }
    for (const role of roles) {
      await forgetLastStep(role);
      const blocked = await t.as(role).post(`${API}/backup-codes`, { code: oathtool(secrets[role]!) }, ip);
      expect(blocked.status).toBe(429);
      // From another address the right code works (and clears the user's count).
      const elsewhere = await t.as(role).post(`${API}/backup-codes`, { code: oathtool(secrets[role]!) }, freshIp());
      expect(elsewhere.status).toBe(200);
      backupCodes[role] = elsewhere.body.backupCodes;
    }
  });

  it('trusts a device for N days with a signed cookie, and forgets it on request', async () => {
    await forgetLastStep('otherCustomer');
    const { client, res } = await passwordStep('otherCustomer');
    const ok = await answer(client, res.body.ticket, 'totp', { code: oathtool(secrets.otherCustomer!), trustDevice: true });
    expect(ok.status).toBe(200);
    const trust = ok.headers.getSetCookie().find((c) => c.startsWith('mpanel_2fa_'))!;
    expect(trust).toMatch(/HttpOnly/i);
    expect(trust).toMatch(/Max-Age=2592000/); // 30 days
    const [name, value] = trust.split(';')[0]!.split('=') as [string, string];

    // The same browser logs in with the password alone.
    const again = await passwordStep('otherCustomer', {}, client);
    expect(again.res.status).toBe(200);
    expect((await auditOf('twofactor.trusted-device.login'))[0]).toMatchObject({ target: `user:${user('otherCustomer').id}` });
    // A forged or foreign cookie does not count.
    const forged = new TestClient(t.url);
    forged.setCookie(name, value.replace(/.$/, (ch) => (ch === 'A' ? 'B' : 'A')));
    expect((await passwordStep('otherCustomer', {}, forged)).res.status).toBe(401);
    const foreign = new TestClient(t.url);
    foreign.setCookie(name, value);
    expect((await passwordStep('customer', {}, foreign)).res.status).toBe(401);

    const status = (await t.as('otherCustomer').get(`${API}/status`)).body;
    expect(status.trustedDevices).toHaveLength(1);
    const revoke = await t.as('otherCustomer').delete(`${API}/trusted-devices/${status.trustedDevices[0].id}`);
    expect(revoke.status).toBe(204);
    expect((await passwordStep('otherCustomer', {}, client)).res.status).toBe(401);
    expect((await t.as('customer').delete(`${API}/trusted-devices/${status.trustedDevices[0].id}`)).status).toBe(404);
  });

  it('enforces a per-role policy: users without a second factor enrol at login before they get a session', async () => {
    const reseller = user('reseller');
    // Start from nothing for the reseller (enrolled by an earlier test).
    expect((await t.as('owner').post(`${API}/users/${reseller.id}/reset`)).status).toBe(200);
    const set = await t.as('owner').request('PUT', '/api/v1/plugins/twofactor/settings', { requiredForRoles: ['reseller', 'platform-owner'], trustedDeviceDays: 7, issuer: 'ACME Panel' });
    expect(set.status).toBe(200);

    const { client, res } = await passwordStep('reseller');
    expect(res.status).toBe(401);
    expect(res.body.factors).toHaveLength(1);
    const [factor] = res.body.factors;
    expect(factor).toMatchObject({ factor: 'totp-enrol', hints: { enrolment: true, digits: 6, period: 30, trustDeviceDays: 7, issuer: 'ACME Panel', account: reseller.email } });
    expect(factor.hints.otpauthUri).toMatch(/^otpauth:\/\/totp\/ACME%20Panel:reseller%40harness\.test\?/);
    expect(factor.hints.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(secretOf(factor.hints.otpauthUri)).toBe(factor.hints.secret);
    // No way around it: no session, no other factor, no wrong code.
    expect((await client.get('/api/v1/auth/me')).status).toBe(401);
    expect((await answer(client, res.body.ticket, 'totp', { code: '123456' })).status).toBe(400);
    expect((await answer(client, res.body.ticket, 'totp-enrol', { code: oathtool(factor.hints.secret, new Date(Date.now() - 4 * STEP)) }, freshIp())).status).toBe(401);
    // Logging in again shows the same secret (the user may have scanned it already).
    const second = await passwordStep('reseller');
    expect(second.res.body.factors[0].hints.secret).toBe(factor.hints.secret);

    const ok = await answer(second.client, second.res.body.ticket, 'totp-enrol', { code: oathtool(factor.hints.secret) });
    expect(ok.status).toBe(200);
    second.client.csrf = ok.body.csrfToken;
    secrets.reseller = factor.hints.secret;
    expect((await auditOf('twofactor.enrol'))[0]).toMatchObject({ target: `user:${reseller.id}`, details: { during: 'login', requiredByRole: true } });

    // The first backup codes come from an authenticated route, once, without another code.
    const status = (await second.client.get(`${API}/status`)).body;
    expect(status).toMatchObject({ enabled: true, required: true, backupCodes: { remaining: 0, initialPending: true } });
    const first = await second.client.post(`${API}/backup-codes`, {});
    expect(first.status).toBe(200);
    expect(first.body.backupCodes).toHaveLength(10);
    expect(first.body.text).toContain('ACME Panel backup codes for reseller@harness.test');
    expect((await second.client.post(`${API}/backup-codes`, {})).status).toBe(422);
    expect((await auditOf('twofactor.backup-codes.generate'))[1]).toMatchObject({ details: { first: true } });

    // Under the policy two-factor login cannot be turned off by the user.
    await forgetLastStep('reseller');
    const off = await second.client.post(`${API}/disable`, { code: oathtool(secrets.reseller) });
    expect(off.status).toBe(409);
    expect(off.body.code).toBe('twofactor-required');
    // From now on the reseller answers a normal code.
    const next = await passwordStep('reseller');
    expect(next.res.body.factors[0].factor).toBe('totp');
    // Roles outside the policy are untouched.
    expect((await passwordStep('auditor')).res.body.factors[0].factor).toBe('totp');
  });

  it('lets admins reset two-factor login inside their subtree only (audited)', async () => {
    const customer = user('customer');
    const owner = user('owner');
    // The reseller sees and resets its customer's user.
    const seen = await t.as('reseller').get(`${API}/users/${customer.id}`);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ userId: customer.id, enabled: true, required: false });
    // Not a user above it or beside it: "not found", like a user that does not exist.
    expect((await t.as('reseller').get(`${API}/users/${owner.id}`)).status).toBe(404);
    expect((await t.as('reseller').post(`${API}/users/${owner.id}/reset`)).status).toBe(404);
    expect((await t.as('reseller').post(`${API}/users/${user('admin').id}/reset`)).status).toBe(404);
    expect((await t.as('reseller').post(`${API}/users/00000000-0000-4000-8000-000000000000/reset`)).status).toBe(404);
    // Customers and auditors may not reset anyone.
    expect((await t.as('customer').post(`${API}/users/${user('otherCustomer').id}/reset`)).status).toBe(403);
    expect((await t.as('auditor').get(`${API}/users/${customer.id}`)).status).toBe(403);
    expect((await t.as('owner').get(`${API}/users/${owner.id}`)).body.enabled).toBe(true);
    expect((await t.sql('select 1 from plugin_twofactor.enrolment where user_id = $1 and secret is not null', [owner.id])).length).toBe(1);

    const reset = await t.as('reseller').post(`${API}/users/${customer.id}/reset`);
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ userId: customer.id, reset: true });
    expect((await passwordStep('customer')).res.status).toBe(200); // not under a policy: password only again
    const audit = await auditOf('twofactor.reset');
    expect(audit[0]).toMatchObject({ outcome: 'success', actorId: user('reseller').id, target: `user:${customer.id}`, tenantId: t.tenants.customer });
    const denied = (await t.as('owner').get('/api/v1/audit?action=twofactor.reset&outcome=failure')).body.items;
    expect(denied.some((e: Record<string, any>) => e.actorId === user('reseller').id && e.details.error === 'not-found')).toBe(true);
  });

  it('lets users turn it off with a current code (not with a wrong one)', async () => {
    await forgetLastStep('otherCustomer');
    const c = t.as('otherCustomer');
    expect((await c.post(`${API}/disable`, { code: '000000' }, freshIp())).status).toBe(422);
    expect((await c.post(`${API}/disable`, { code: oathtool(secrets.otherCustomer!) })).status).toBe(204);
    expect((await c.get(`${API}/status`)).body.enabled).toBe(false);
    expect((await passwordStep('otherCustomer')).res.status).toBe(200);
    expect((await auditOf('twofactor.disable'))[0]).toMatchObject({ outcome: 'success', target: `user:${user('otherCustomer').id}` });
  });

  it('answers bad input with problems, not errors', async () => {
    const c = t.as('customer');
    for (const body of [{}, { code: 5 }, { code: '123456', backupCode: 'x' }, { code: '123456', extra: 1 }, { code: 'x'.repeat(50) }]) {
      const r = await c.post(`${API}/disable`, body);
      expect(r.status).toBe(400);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await t.as('owner').post(`${API}/users/not-a-uuid/reset`)).status).toBe(400);
    expect((await c.delete(`${API}/trusted-devices/nope`)).status).toBe(400);
    // Odd factor answers are wrong answers, not crashes.
    const { client, res } = await passwordStep('auditor');
    for (const response of [{}, { code: 123456 }, { code: ['1'] }, { backupCode: { a: 1 } }, { code: '１２３４５６' }]) {
      expect((await answer(client, res.body.ticket, 'totp', response, freshIp())).status).toBe(401);
    }
    // Enrolment needs a session: API tokens are refused.
    const token = await c.post('/api/v1/auth/tokens', { name: 'ci', permissions: ['account.self'] });
    expect(token.status).toBe(201);
    const bearer = new TestClient(t.url);
    bearer.bearer = token.body.secret;
    expect((await bearer.post(`${API}/enrolment`)).status).toBe(403);
  });

  it('disabling the plugin restores password-only login and says so in the audit log; enabling brings it back', async () => {
    expect((await passwordStep('reseller')).res.status).toBe(401);
    const off = await t.as('owner').post('/api/v1/plugins/twofactor/disable');
    expect(off.status).toBe(200);
    const [entry] = await auditOf('twofactor.login.password-only');
    expect(entry).toMatchObject({ actorType: 'plugin', actorId: 'twofactor', details: { reason: 'disable', enrolledUsers: expect.any(Number) } });
    expect(entry!.details.message).toMatch(/password alone/);
    // Enrolled and policy-bound users log in with their password.
    expect((await passwordStep('reseller')).res.status).toBe(200);
    expect((await passwordStep('owner')).res.status).toBe(200);
    expect((await t.as('customer').get(`${API}/status`)).status).toBe(404);

    expect((await t.as('owner').post('/api/v1/plugins/twofactor/enable')).status).toBe(200);
    const back = await passwordStep('reseller');
    expect(back.res.status).toBe(401);
    expect(back.res.body.factors[0].factor).toBe('totp');
  });

  it('uninstalling says so too, and logins work with the password alone', async () => {
    const res = await t.as('owner').delete('/api/v1/plugins/twofactor');
    expect(res.status).toBe(200);
    expect((await auditOf('twofactor.login.password-only'))[0]).toMatchObject({ details: { reason: 'uninstall' } });
    expect((await passwordStep('reseller')).res.status).toBe(200);
  });
});
