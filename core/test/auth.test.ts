import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, startTestPanel, type TestPanel } from './helpers/panel.js';
import { TestClient } from './helpers/client.js';
import { auditOf, expectProblem, setCookie } from './helpers/auth-helpers.js';

const LOGIN = '/api/v1/auth/login';
const ME = '/api/v1/auth/me';

describe('login, sessions, CSRF, logout and password change', () => {
  let tp: TestPanel;
  let owner: TestClient;
  let platformId: string;
  let n = 0;

  /** A fresh customer user in the platform tenant (fresh so throttling and sessions don't interfere). */
  const newUser = async (password = 'user-password-42') => {
    const email = `user${++n}@auth.test`;
    const res = await owner.post('/api/v1/users', { tenantId: platformId, email, name: `User ${n}`, password, roles: ['customer'] });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email, password };
  };

  beforeAll(async () => {
    // Every request comes from 127.0.0.1: keep the per-IP limit out of the way (throttle.test.ts covers it).
    tp = await startTestPanel({ config: { loginMaxFailuresPerIp: 1000 } });
    owner = await tp.owner();
    platformId = (await owner.get(ME)).body.tenant.id;
  });
  afterAll(async () => tp?.close());

  describe('login', () => {
    it('sets an httpOnly SameSite=Lax session cookie and a script-readable mpanel_csrf cookie', async () => {
      const u = await newUser();
      const res = await tp.client().post(LOGIN, { email: u.email, password: u.password });
      expect(res.status, res.text).toBe(200);
      expect(res.body.user).toMatchObject({ id: u.id, email: u.email });
      expect(res.body.csrfToken).toEqual(expect.any(String));
      expect(res.body.csrfToken.length).toBeGreaterThanOrEqual(20);
      expect(JSON.stringify(res.body)).not.toContain('passwordHash');

      const session = setCookie(res, 'mpanel_session');
      expect(session).toBeDefined();
      expect(session).toMatch(/;\s*HttpOnly/i);
      expect(session).toMatch(/;\s*SameSite=Lax/i);
      expect(session).toMatch(/;\s*Path=\//i);
      const sessionValue = session!.split(';')[0]!.split('=')[1]!;
      expect(sessionValue.length).toBeGreaterThanOrEqual(40);

      const csrf = setCookie(res, 'mpanel_csrf');
      expect(csrf).toBeDefined();
      expect(csrf).not.toMatch(/HttpOnly/i);
      expect(csrf).toMatch(/;\s*SameSite=Lax/i);
      expect(csrf!.split(';')[0]).toBe(`mpanel_csrf=${res.body.csrfToken}`);
      // The session secret is not the CSRF token.
      expect(sessionValue).not.toBe(res.body.csrfToken);
    });

    it('/auth/me works with the cookie and returns the same CSRF token', async () => {
      const u = await newUser();
      const c = tp.client();
      const login = await c.login(u.email, u.password);
      const me = await c.get(ME);
      expect(me.status).toBe(200);
      expect(me.body.user).toMatchObject({ id: u.id, email: u.email, emailVerified: false, disabled: false });
      expect(me.body.tenant.id).toBe(platformId);
      expect(me.body.actorType).toBe('user');
      expect(me.body.csrfToken).toBe(login.body.csrfToken);
      expect(me.body.sessionId).toEqual(expect.any(String));
      expect(me.body.permissions).toEqual(expect.arrayContaining(['account.self', 'tenant.read', 'user.read']));
      expect(me.body.permissions).not.toContain('user.create');
    });

    it('without credentials /auth/me is 401 unauthenticated', async () => {
      expectProblem(await tp.client().get(ME), 401, 'unauthenticated');
      const forged = tp.client();
      forged.setCookie('mpanel_session', 'not-a-real-session-secret');
      expectProblem(await forged.get(ME), 401, 'unauthenticated');
    });

    it('wrong password and unknown e-mail both give 401 invalid-credentials with the same message', async () => {
      const u = await newUser();
      const wrong = await tp.client().post(LOGIN, { email: u.email, password: 'not-the-password' });
      const unknown = await tp.client().post(LOGIN, { email: 'nobody@auth.test', password: 'not-the-password' });
      expectProblem(wrong, 401, 'invalid-credentials');
      expectProblem(unknown, 401, 'invalid-credentials');
      expect(wrong.body.detail).toBe(unknown.body.detail);
      expect(wrong.body.title).toBe(unknown.body.title);
      expect(setCookie(wrong, 'mpanel_session')).toBeUndefined();
      expect(setCookie(unknown, 'mpanel_session')).toBeUndefined();
    });

    it('the e-mail is matched case-insensitively', async () => {
      const u = await newUser();
      const res = await tp.client().post(LOGIN, { email: u.email.toUpperCase(), password: u.password });
      expect(res.status, res.text).toBe(200);
      expect(res.body.user.id).toBe(u.id);
    });

    it('a disabled user cannot log in (same 401) and its open session stops working', async () => {
      const u = await newUser();
      const c = tp.client();
      await c.login(u.email, u.password);
      const dis = await owner.patch(`/api/v1/users/${u.id}`, { disabled: true });
      expect(dis.status, dis.text).toBe(200);
      expectProblem(await c.get(ME), 401, 'unauthenticated');
      const again = await tp.client().post(LOGIN, { email: u.email, password: u.password });
      expectProblem(again, 401, 'invalid-credentials');
      expect(setCookie(again, 'mpanel_session')).toBeUndefined();
      // Re-enabled, the password works again.
      expect((await owner.patch(`/api/v1/users/${u.id}`, { disabled: false })).status).toBe(200);
      expect((await tp.client().post(LOGIN, { email: u.email, password: u.password })).status).toBe(200);
    });

    it('audits successful logins as the user and failed ones as failures', async () => {
      const u = await newUser();
      const before = (await auditOf(tp, 'auth.login')).length;
      await tp.client().post(LOGIN, { email: u.email, password: 'wrong-password-1' });
      const ok = await tp.client().post(LOGIN, { email: u.email, password: u.password });
      expect(ok.status).toBe(200);
      await tp.client().post(LOGIN, { email: 'ghost@auth.test', password: 'wrong-password-1' });
      const rows = (await auditOf(tp, 'auth.login')).slice(before);
      expect(rows).toHaveLength(3);
      const [failed, success, ghost] = rows as [any, any, any];
      expect(failed).toMatchObject({ outcome: 'failure', target: `user:${u.id}`, actor_type: 'anonymous' });
      expect(failed.details).toMatchObject({ reason: 'wrong-password', error: 'invalid-credentials' });
      expect(success).toMatchObject({ outcome: 'success', actor_type: 'user', actor_id: u.id, actor_label: u.email, target: `user:${u.id}`, tenant_id: platformId });
      expect(success.details.sessionId).toEqual(expect.any(String));
      expect(ghost).toMatchObject({ outcome: 'failure', target: 'email:ghost@auth.test', actor_type: 'anonymous' });
      expect(ghost.details.reason).toBe('unknown-email');
      // Passwords never reach the audit trail.
      expect(JSON.stringify(rows)).not.toContain('wrong-password-1');
      expect(JSON.stringify(rows)).not.toContain(u.password);
    });

    it('refuses a malformed body with 400 validation-failed', async () => {
      expectProblem(await tp.client().post(LOGIN, { email: OWNER.email }), 400, 'validation-failed');
      expectProblem(await tp.client().post(LOGIN, { email: OWNER.email, password: 42 }), 400, 'validation-failed');
    });
  });

  describe('CSRF', () => {
    const newTenant = (c: TestClient, headers?: Record<string, string>) =>
      c.post('/api/v1/tenants', { parentId: platformId, kind: 'customer', name: `T${++n}` }, headers);

    it('a state-changing request with the cookie but no X-CSRF-Token is 403 csrf-failed', async () => {
      const c = tp.client();
      await c.login(OWNER.email, OWNER.password);
      const token = c.csrf;
      c.csrf = null;
      const before = (await owner.get('/api/v1/tenants?limit=500')).body.items.length;
      expectProblem(await newTenant(c), 403, 'csrf-failed');
      c.csrf = token;
      // Nothing was created.
      expect((await owner.get('/api/v1/tenants?limit=500')).body.items.length).toBe(before);
    });

    it('a wrong X-CSRF-Token (or another session\'s) is 403 csrf-failed; the right one works', async () => {
      const a = tp.client();
      const b = tp.client();
      await a.login(OWNER.email, OWNER.password);
      await b.login(OWNER.email, OWNER.password);
      expectProblem(await newTenant(a, { 'x-csrf-token': 'wrong' }), 403, 'csrf-failed');
      expectProblem(await newTenant(a, { 'x-csrf-token': b.csrf! }), 403, 'csrf-failed');
      expectProblem(await a.post('/api/v1/auth/logout', undefined, { 'x-csrf-token': '' }), 403, 'csrf-failed');
      expect((await a.get(ME)).status).toBe(200); // logout without CSRF did nothing
      const ok = await newTenant(a);
      expect(ok.status, ok.text).toBe(201);
    });

    it('GET requests need no CSRF token', async () => {
      const c = tp.client();
      await c.login(OWNER.email, OWNER.password);
      c.csrf = null;
      expect((await c.get('/api/v1/tenants')).status).toBe(200);
    });

    it('bearer-token requests need no CSRF token', async () => {
      const created = await owner.post('/api/v1/auth/tokens', { name: 'ci', permissions: ['tenant.read', 'tenant.create'] });
      expect(created.status, created.text).toBe(201);
      const bot = tp.client();
      bot.bearer = created.body.secret;
      const res = await newTenant(bot);
      expect(res.status, res.text).toBe(201);
      const me = await bot.get(ME);
      expect(me.status).toBe(403); // the token does not carry account.self
    });
  });

  describe('logout', () => {
    it('revokes the session: the same cookie is 401 on the very next request', async () => {
      const u = await newUser();
      const c = tp.client();
      await c.login(u.email, u.password);
      expect((await c.get(ME)).status).toBe(200); // warm the credential cache
      const cookie = c.cookieHeader();
      const res = await c.post('/api/v1/auth/logout');
      expect(res.status, res.text).toBe(204);
      const cleared = setCookie(res, 'mpanel_session');
      expect(cleared).toBeDefined();
      expect(cleared).toMatch(/mpanel_session=;|Expires=Thu, 01 Jan 1970/i);
      // Replaying the old cookie (as an attacker who copied it would).
      const replay = await tp.client().get(ME, { cookie });
      expectProblem(replay, 401, 'unauthenticated');
      const logs = (await auditOf(tp, 'auth.logout')).filter((r) => r.actor_id === u.id);
      expect(logs).toHaveLength(1);
      expect(logs[0]!.outcome).toBe('success');
    });

    it('logging out one session leaves the user\'s other sessions alone', async () => {
      const u = await newUser();
      const a = tp.client();
      const b = tp.client();
      await a.login(u.email, u.password);
      await b.login(u.email, u.password);
      expect((await a.post('/api/v1/auth/logout')).status).toBe(204);
      expect((await b.get(ME)).status).toBe(200);
    });
  });

  describe('password change', () => {
    const CHANGE = '/api/v1/auth/password';

    it('refuses a wrong current password with 401 and keeps the old password', async () => {
      const u = await newUser();
      const c = tp.client();
      await c.login(u.email, u.password);
      const res = await c.post(CHANGE, { currentPassword: 'not-my-password', newPassword: 'a-brand-new-pass-1' });
      expectProblem(res, 401, 'invalid-credentials');
      expect((await c.get(ME)).status).toBe(200);
      expect((await tp.client().post(LOGIN, { email: u.email, password: u.password })).status).toBe(200);
      expectProblem(await tp.client().post(LOGIN, { email: u.email, password: 'a-brand-new-pass-1' }), 401, 'invalid-credentials');
    });

    it('repeated wrong current passwords are throttled (a hijacked session cannot guess at full speed)', async () => {
      const u = await newUser();
      const c = tp.client();
      await c.login(u.email, u.password);
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        statuses.push((await c.post(CHANGE, { currentPassword: `guess-${i}-password`, newPassword: 'a-brand-new-pass-9' })).status);
      }
      expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
      const locked = await c.post(CHANGE, { currentPassword: u.password, newPassword: 'a-brand-new-pass-9' });
      expectProblem(locked, 429, 'too-many-attempts');
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await tp.client().post(LOGIN, { email: u.email, password: u.password })).status).toBe(200);
    });

    it('refuses a weak new password with 400', async () => {
      const u = await newUser();
      const c = tp.client();
      await c.login(u.email, u.password);
      expectProblem(await c.post(CHANGE, { currentPassword: u.password, newPassword: 'short' }), 400, 'validation-failed');
      expectProblem(await c.post(CHANGE, { currentPassword: u.password, newPassword: 'abababababab' }), 400, 'validation-failed');
    });

    it('revokes the user\'s other sessions at once, keeps the current one; new password works, old does not', async () => {
      const u = await newUser();
      const other = await newUser();
      const current = tp.client();
      const second = tp.client();
      const third = tp.client();
      const bystander = tp.client();
      await current.login(u.email, u.password);
      await second.login(u.email, u.password);
      await third.login(u.email, u.password);
      await bystander.login(other.email, other.password);
      // Warm the credential cache so revocation must invalidate it.
      for (const c of [current, second, third, bystander]) expect((await c.get(ME)).status).toBe(200);

      const res = await current.post(CHANGE, { currentPassword: u.password, newPassword: 'a-brand-new-pass-2' });
      expect(res.status, res.text).toBe(204);

      expect((await current.get(ME)).status).toBe(200);
      expectProblem(await second.get(ME), 401, 'unauthenticated');
      expectProblem(await third.get(ME), 401, 'unauthenticated');
      expect((await bystander.get(ME)).status).toBe(200);
      // The current session can still change state (its CSRF token is unchanged).
      const sessions = await current.get('/api/v1/auth/sessions');
      expect(sessions.status).toBe(200);
      expect(sessions.body).toHaveLength(1);
      expect(sessions.body[0].current).toBe(true);

      expectProblem(await tp.client().post(LOGIN, { email: u.email, password: u.password }), 401, 'invalid-credentials');
      expect((await tp.client().post(LOGIN, { email: u.email, password: 'a-brand-new-pass-2' })).status).toBe(200);

      const audit = (await auditOf(tp, 'auth.password.change')).filter((r) => r.actor_id === u.id);
      expect(audit.map((r) => r.outcome)).toEqual(['success']);
      expect(JSON.stringify(audit)).not.toContain('a-brand-new-pass-2');
    });

    it('cannot be done with an API token', async () => {
      const created = await owner.post('/api/v1/auth/tokens', { name: 'pw', permissions: ['account.self'] });
      expect(created.status).toBe(201);
      const bot = tp.client();
      bot.bearer = created.body.secret;
      expectProblem(await bot.post(CHANGE, { currentPassword: OWNER.password, newPassword: 'a-brand-new-pass-3' }), 403, 'forbidden');
      expect((await tp.client().post(LOGIN, { email: OWNER.email, password: OWNER.password })).status).toBe(200);
    });
  });
});
