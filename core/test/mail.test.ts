import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, startTestPanel, type TestPanel } from './helpers/panel.js';
import { closedPort, startTestSmtp, tokenOf, type TestSmtp } from './helpers/smtp.js';
import { auditOf, expectProblem } from './helpers/auth-helpers.js';
import { sql } from './helpers/db.js';
import type { TestClient } from './helpers/client.js';

const PUBLIC_URL = 'https://panel.example.test';
const RESET = '/api/v1/auth/password-reset';
const CONFIRM = '/api/v1/auth/password-reset/confirm';
const LOGIN = '/api/v1/auth/login';
const ME = '/api/v1/auth/me';

describe('mail: password reset, e-mail verification, invitations', () => {
  let smtp: TestSmtp;
  let tp: TestPanel;
  let owner: TestClient;
  let platformId: string;
  let fakeNow = Date.UTC(2032, 0, 1);
  let n = 0;

  /** `null` creates the user without a password (an invitation). */
  const newUser = async (password: string | null = 'initial-password-1') => {
    const email = `mailuser${++n}@mail.test`;
    const res = await owner.post('/api/v1/users', { tenantId: platformId, email, name: `Mail User ${n}`, ...(password ? { password } : {}), roles: ['customer'] });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email, password: password ?? '' };
  };
  const mailsTo = (email: string) => smtp.messages.filter((m) => m.to.includes(email));
  const requestReset = async (email: string) => {
    const res = await tp.client().post(RESET, { email });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toEqual({ status: 'accepted' });
    return res;
  };
  const resetMail = async (email: string, nth = 1) =>
    smtp.waitFor(email, (m) => m.subject === 'Reset your mpanel password' && mailsTo(email).filter((x) => x.subject === m.subject).indexOf(m) === nth - 1);

  beforeAll(async () => {
    smtp = await startTestSmtp();
    tp = await startTestPanel({
      config: { smtpUrl: smtp.url, publicUrl: PUBLIC_URL, mailFrom: 'panel@mail.test', loginMaxFailuresPerIp: 1000, loginMaxFailuresPerAccount: 1000, sessionTtlSeconds: 10 * 365 * 86_400 },
      now: () => fakeNow,
    });
    owner = await tp.owner();
    platformId = (await owner.get(ME)).body.tenant.id;
  });
  afterAll(async () => {
    await tp?.close();
    await smtp?.close();
  });

  describe('password reset', () => {
    it('answers 202 for known and unknown e-mails alike; only the known one gets a mail with the link', async () => {
      const u = await newUser();
      const unknown = await tp.client().post(RESET, { email: 'nobody@mail.test' });
      const known = await tp.client().post(RESET, { email: u.email.toUpperCase() });
      expect(unknown.status).toBe(202);
      expect(known.status).toBe(202);
      expect(known.text).toBe(unknown.text);
      expect(known.headers.get('content-type')).toBe(unknown.headers.get('content-type'));

      const mail = await resetMail(u.email);
      expect(mail.from).toBe('panel@mail.test');
      const token = tokenOf(mail);
      expect(token.length).toBeGreaterThanOrEqual(40);
      expect(mail.text).toContain(`${PUBLIC_URL}/reset-password?token=${token}`);
      // The unknown address was decided before the known one was asked for: no mail was ever sent to it.
      expect(mailsTo('nobody@mail.test')).toHaveLength(0);
      // Only the token's hash is stored.
      const stored = await sql(tp.db!.url, `select token_hash from one_time_token where user_id = $1 and purpose = 'password-reset'`, [u.id]);
      expect(stored).toHaveLength(1);
      expect(stored[0]!.token_hash).not.toContain(token);

      const audit = (await auditOf(tp, 'auth.password.reset-request')).slice(-2);
      expect(audit.map((r) => r.details.known)).toEqual([false, true]);
      expect(JSON.stringify(audit)).not.toContain(token);
    });

    it('the mailed token sets a new password, ends every session, and works only once', async () => {
      const u = await newUser();
      const a = tp.client();
      const b = tp.client();
      await a.login(u.email, u.password);
      await b.login(u.email, u.password);
      await requestReset(u.email);
      const token = tokenOf(await resetMail(u.email));

      const ok = await tp.client().post(CONFIRM, { token, password: 'reset-password-new-1' });
      expect(ok.status, ok.text).toBe(204);
      expectProblem(await a.get(ME), 401, 'unauthenticated');
      expectProblem(await b.get(ME), 401, 'unauthenticated');
      expectProblem(await tp.client().post(LOGIN, { email: u.email, password: u.password }), 401, 'invalid-credentials');
      const c = tp.client();
      await c.login(u.email, 'reset-password-new-1');
      // Following the link proves the address.
      expect((await c.get(ME)).body.user.emailVerified).toBe(true);

      expectProblem(await tp.client().post(CONFIRM, { token, password: 'reset-password-new-2' }), 400, 'token-invalid');
      expectProblem(await tp.client().post(LOGIN, { email: u.email, password: 'reset-password-new-2' }), 401, 'invalid-credentials');
      const audit = await auditOf(tp, 'auth.password.reset');
      const success = audit.filter((r) => r.target === `user:${u.id}`);
      expect(success.map((r) => r.outcome)).toEqual(['success']);
      expect(audit.at(-1)).toMatchObject({ outcome: 'failure', details: { error: 'token-invalid' } });
      expect(JSON.stringify(audit)).not.toContain(token);
    });

    it('the token expires (60 minutes)', async () => {
      const u = await newUser();
      await requestReset(u.email);
      const token = tokenOf(await resetMail(u.email));
      fakeNow += 60 * 60_000 + 1;
      expectProblem(await tp.client().post(CONFIRM, { token, password: 'too-late-password-1' }), 400, 'token-invalid');
      expect((await tp.client().post(LOGIN, { email: u.email, password: u.password })).status).toBe(200);
    });

    it('a newer link replaces the older one', async () => {
      const u = await newUser();
      await requestReset(u.email);
      const first = tokenOf(await resetMail(u.email, 1));
      await requestReset(u.email);
      const second = tokenOf(await resetMail(u.email, 2));
      expect(second).not.toBe(first);
      expectProblem(await tp.client().post(CONFIRM, { token: first, password: 'first-link-pass-1' }), 400, 'token-invalid');
      expect((await tp.client().post(CONFIRM, { token: second, password: 'second-link-pass-1' })).status).toBe(204);
    });

    it('a weak new password is refused with 400 and does not use up the token', async () => {
      const u = await newUser();
      await requestReset(u.email);
      const token = tokenOf(await resetMail(u.email));
      expectProblem(await tp.client().post(CONFIRM, { token, password: 'aaaaaaaaaaaa' }), 400, 'validation-failed');
      expectProblem(await tp.client().post(CONFIRM, { token, password: 'short' }), 400, 'validation-failed');
      expect((await tp.client().post(CONFIRM, { token, password: 'strong-enough-pass-1' })).status).toBe(204);
    });

    it('concurrent confirmations with the same token: exactly one succeeds', async () => {
      const u = await newUser();
      await requestReset(u.email);
      const token = tokenOf(await resetMail(u.email));
      const results = await Promise.all(
        Array.from({ length: 4 }, (_, i) => tp.client().post(CONFIRM, { token, password: `racing-password-${i}x` })),
      );
      const statuses = results.map((r) => r.status).sort();
      expect(statuses).toEqual([204, 400, 400, 400]);
      const winner = results.findIndex((r) => r.status === 204);
      expect((await tp.client().post(LOGIN, { email: u.email, password: `racing-password-${winner}x` })).status).toBe(200);
    });

    it('garbage tokens are 400 token-invalid', async () => {
      expectProblem(await tp.client().post(CONFIRM, { token: 'nope', password: 'whatever-pass-1' }), 400, 'token-invalid');
      expectProblem(await tp.client().post(CONFIRM, { password: 'whatever-pass-1' }), 400, 'validation-failed');
      expectProblem(await tp.client().post(RESET, { email: 'not-an-email' }), 400, 'validation-failed');
    });

    it('a disabled user gets no reset mail, but the answer is the same', async () => {
      const u = await newUser();
      expect((await owner.patch(`/api/v1/users/${u.id}`, { disabled: true })).status).toBe(200);
      await requestReset(u.email);
      // Prove the pipeline is flowing: a mail requested afterwards arrives, the disabled user's never did.
      const probe = await newUser();
      await requestReset(probe.email);
      await resetMail(probe.email);
      expect(mailsTo(u.email)).toHaveLength(0);
    });
  });

  describe('e-mail verification', () => {
    it('mails a link that marks the address verified', async () => {
      const u = await newUser();
      const c = tp.client();
      await c.login(u.email, u.password);
      expect((await c.get(ME)).body.user.emailVerified).toBe(false);
      const sent = await c.post('/api/v1/auth/verify-email');
      expect(sent.status, sent.text).toBe(202);
      expect(sent.body).toEqual({ status: 'sent' });
      const mail = await smtp.waitFor(u.email, (m) => m.subject === 'Confirm your e-mail address for mpanel');
      const token = tokenOf(mail);
      expect(mail.text).toContain(`${PUBLIC_URL}/verify-email?token=${token}`);

      // A verification token is not a password-reset token.
      expectProblem(await tp.client().post(CONFIRM, { token, password: 'hijack-password-1' }), 400, 'token-invalid');

      const ok = await tp.client().post('/api/v1/auth/verify-email/confirm', { token });
      expect(ok.status, ok.text).toBe(204);
      expect((await c.get(ME)).body.user.emailVerified).toBe(true);
      expect((await owner.get(`/api/v1/users/${u.id}`)).body.emailVerified).toBe(true);
      expectProblem(await tp.client().post('/api/v1/auth/verify-email/confirm', { token }), 400, 'token-invalid');
      expect((await c.post('/api/v1/auth/verify-email')).body).toEqual({ status: 'already-verified' });
      const audit = await auditOf(tp, 'auth.email.verify');
      expect(audit.filter((r) => r.target === `user:${u.id}`).map((r) => r.outcome)).toEqual(['success']);
      expect(audit.at(-1)).toMatchObject({ outcome: 'failure', details: { error: 'token-invalid' } });
    });

    it('a password-reset token does not verify an e-mail address', async () => {
      const u = await newUser();
      await requestReset(u.email);
      const token = tokenOf(await resetMail(u.email));
      expectProblem(await tp.client().post('/api/v1/auth/verify-email/confirm', { token }), 400, 'token-invalid');
    });

    it('the verification link expires (48 hours)', async () => {
      const u = await newUser();
      const c = tp.client();
      await c.login(u.email, u.password);
      expect((await c.post('/api/v1/auth/verify-email')).status).toBe(202);
      const token = tokenOf(await smtp.waitFor(u.email, (m) => m.subject === 'Confirm your e-mail address for mpanel'));
      fakeNow += 48 * 3_600_000 + 1;
      expectProblem(await tp.client().post('/api/v1/auth/verify-email/confirm', { token }), 400, 'token-invalid');
      expect((await c.get(ME)).body.user.emailVerified).toBe(false);
    });
  });

  describe('invitations', () => {
    it('a user created without a password is mailed an invite whose token sets the password', async () => {
      const u = await newUser(null);
      const mail = await smtp.waitFor(u.email, (m) => m.subject === 'Your mpanel account — set your password');
      const token = tokenOf(mail);
      expect(mail.text).toContain(`${PUBLIC_URL}/reset-password?token=${token}`);
      expect(mail.text).toContain(`Mail User ${n}`);
      // Nobody can log in before the link is used — not even with the placeholder hash.
      for (const pw of ['!', 'initial-password-1', '']) {
        const res = await tp.client().post(LOGIN, { email: u.email, password: pw });
        expect([400, 401]).toContain(res.status);
      }
      const ok = await tp.client().post(CONFIRM, { token, password: 'invited-password-1' });
      expect(ok.status, ok.text).toBe(204);
      const c = tp.client();
      await c.login(u.email, 'invited-password-1');
      const me = await c.get(ME);
      expect(me.body.user.emailVerified).toBe(true);
      expectProblem(await tp.client().post(CONFIRM, { token, password: 'invited-password-2' }), 400, 'token-invalid');
    });

    it('the invite link lasts 24 hours', async () => {
      const u = await newUser(null);
      const token = tokenOf(await smtp.waitFor(u.email, (m) => m.subject.startsWith('Your mpanel account')));
      fakeNow += 23 * 3_600_000;
      const ok = await tp.client().post(CONFIRM, { token, password: 'in-time-password-1' });
      expect(ok.status, ok.text).toBe(204);
      const late = await newUser(null);
      const lateToken = tokenOf(await smtp.waitFor(late.email, (m) => m.subject.startsWith('Your mpanel account')));
      fakeNow += 24 * 3_600_000 + 1;
      expectProblem(await tp.client().post(CONFIRM, { token: lateToken, password: 'late-password-1' }), 400, 'token-invalid');
    });

    it('a user created with a password gets no mail', async () => {
      const u = await newUser('with-password-12');
      const probe = await newUser(null);
      await smtp.waitFor(probe.email);
      expect(mailsTo(u.email)).toHaveLength(0);
    });
  });
});

describe('mail: SMTP server unreachable', () => {
  let tp: TestPanel;
  beforeAll(async () => {
    tp = await startTestPanel({ config: { smtpUrl: `smtp://127.0.0.1:${await closedPort()}`, publicUrl: PUBLIC_URL } });
    await tp.owner();
  });
  afterAll(async () => tp?.close());

  it('a reset request for a known e-mail still answers 202 like an unknown one (no enumeration through errors)', async () => {
    const known = await tp.client().post(RESET, { email: OWNER.email });
    const unknown = await tp.client().post(RESET, { email: 'nobody@mail.test' });
    expect(known.status, known.text).toBe(202);
    expect(known.text).toBe(unknown.text);
  });

  it('creating a user without a password fails with a clear problem and creates nothing', async () => {
    const owner = await tp.owner();
    const platformId = (await owner.get(ME)).body.tenant.id;
    const res = await owner.post('/api/v1/users', { tenantId: platformId, email: 'invitee@mail.test', name: 'Invitee' });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(res.body.code).toBe('mail-unavailable');
    expect(await sql(tp.db!.url, `select id from app_user where email = 'invitee@mail.test'`)).toHaveLength(0);
  });
});
