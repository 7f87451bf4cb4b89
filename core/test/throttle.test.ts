import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginThrottle } from '../src/auth/throttle.js';
import { OWNER, startTestPanel, type TestPanel } from './helpers/panel.js';
import { auditOf, expectProblem } from './helpers/auth-helpers.js';
import type { ApiResponse, TestClient } from './helpers/client.js';

const LOGIN = '/api/v1/auth/login';
const LOCK = 60;

describe('LoginThrottle (unit)', () => {
  const make = (opts: Partial<{ maxPerAccount: number; maxPerIp: number; lockSeconds: number }> = {}) => {
    const clock = { t: 1_000_000 };
    const throttle = new LoginThrottle({ maxPerAccount: 3, maxPerIp: 10, lockSeconds: LOCK, ...opts, now: () => clock.t });
    return { clock, throttle };
  };

  it('allows attempts below the limit and locks the account at the limit', () => {
    const { throttle } = make();
    expect(throttle.check('a@x', '1.1.1.1')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(false);
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(false);
    expect(throttle.check('a@x', '1.1.1.1').allowed).toBe(true);
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(true);
    expect(throttle.check('a@x', '1.1.1.1')).toEqual({ allowed: false, retryAfterSeconds: LOCK, scope: 'account' });
    // The lock is on the account, from any IP; other accounts are unaffected.
    expect(throttle.check('a@x', '2.2.2.2').allowed).toBe(false);
    expect(throttle.check('b@x', '1.1.1.1').allowed).toBe(true);
  });

  it('treats account keys case-insensitively', () => {
    const { throttle } = make();
    throttle.fail('Alice@X', '1.1.1.1');
    throttle.fail('alice@x', '1.1.1.2');
    throttle.fail('ALICE@x', '1.1.1.3');
    expect(throttle.check('alice@X', '9.9.9.9').allowed).toBe(false);
  });

  it('the lock expires exactly after lockSeconds; Retry-After counts down', () => {
    const { clock, throttle } = make();
    for (let i = 0; i < 3; i++) throttle.fail('a@x', '1.1.1.1');
    clock.t += 20_500;
    expect(throttle.check('a@x', '1.1.1.1').retryAfterSeconds).toBe(40);
    clock.t += 39_499;
    expect(throttle.check('a@x', '1.1.1.1')).toMatchObject({ allowed: false, retryAfterSeconds: 1 });
    clock.t += 1;
    expect(throttle.check('a@x', '1.1.1.1').allowed).toBe(true);
  });

  it('failures spread over more than the window do not add up', () => {
    const { clock, throttle } = make();
    throttle.fail('a@x', '1.1.1.1');
    throttle.fail('a@x', '1.1.1.1');
    clock.t += LOCK * 1000 + 1;
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(false);
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(false);
    expect(throttle.check('a@x', '1.1.1.1').allowed).toBe(true);
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(true);
  });

  it('repeat locks double but are capped at 16× and always expire', () => {
    const { clock, throttle } = make();
    const seen: number[] = [];
    for (let round = 0; round < 8; round++) {
      for (let i = 0; i < 3; i++) throttle.fail('a@x', `10.0.0.${round}`);
      const v = throttle.check('a@x', '1.1.1.1');
      expect(v.allowed).toBe(false);
      seen.push(v.retryAfterSeconds);
      clock.t += v.retryAfterSeconds * 1000;
      expect(throttle.check('a@x', '1.1.1.1').allowed).toBe(true);
      clock.t += 1000;
    }
    expect(seen).toEqual([60, 120, 240, 480, 960, 960, 960, 960]);
  });

  it('forgets earlier locks after a long quiet period', () => {
    const { clock, throttle } = make();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) throttle.fail('a@x', '1.1.1.1');
      clock.t += throttle.check('a@x', '1.1.1.1').retryAfterSeconds * 1000 + 1000;
    }
    clock.t += 17 * LOCK * 1000;
    for (let i = 0; i < 3; i++) throttle.fail('a@x', '1.1.1.2');
    expect(throttle.check('a@x', '1.1.1.2').retryAfterSeconds).toBe(LOCK);
  });

  it('a success clears the account counter (not the IP counter)', () => {
    const { throttle } = make({ maxPerIp: 4 });
    throttle.fail('a@x', '1.1.1.1');
    throttle.fail('a@x', '1.1.1.1');
    throttle.succeed('A@x');
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(false);
    expect(throttle.fail('a@x', '1.1.1.1')).toBe(true); // 4th failure from this IP: the IP locks
    expect(throttle.check('other@x', '1.1.1.1')).toMatchObject({ allowed: false, scope: 'ip' });
    expect(throttle.check('a@x', '2.2.2.2').allowed).toBe(true);
  });

  it('the per-IP limit engages across different accounts', () => {
    const { clock, throttle } = make({ maxPerIp: 5 });
    for (let i = 0; i < 4; i++) expect(throttle.fail(`user${i}@x`, '6.6.6.6')).toBe(false);
    expect(throttle.check('user9@x', '6.6.6.6').allowed).toBe(true);
    expect(throttle.fail('user4@x', '6.6.6.6')).toBe(true);
    expect(throttle.check('user9@x', '6.6.6.6')).toEqual({ allowed: false, retryAfterSeconds: LOCK, scope: 'ip' });
    expect(throttle.check('user9@x', '7.7.7.7').allowed).toBe(true);
    clock.t += LOCK * 1000;
    expect(throttle.check('user9@x', '6.6.6.6').allowed).toBe(true);
  });

  it('a flood of single failures on junk accounts does not wipe another account\'s in-window failures', () => {
    const { throttle } = make({ maxPerIp: 1_000_000 });
    throttle.fail('victim@x', '1.1.1.1');
    throttle.fail('victim@x', '1.1.1.1');
    // An attacker cycles through many junk accounts to overflow the table.
    for (let i = 0; i < 100_050; i++) throttle.fail(`junk${i}@x`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    expect(throttle.fail('victim@x', '1.1.1.1')).toBe(true);
    expect(throttle.check('victim@x', '2.2.2.2').allowed).toBe(false);
  });

  it('stays bounded in memory even when every key is locked, and locks still expire', () => {
    const { clock, throttle } = make({ maxPerAccount: 1, maxPerIp: 1 });
    for (let i = 0; i < 120_000; i++) throttle.fail(`k${i}@x`, `ip${i}`);
    const sizes = throttle as unknown as { accounts: Map<string, unknown>; ips: Map<string, unknown> };
    expect(sizes.accounts.size).toBeLessThanOrEqual(100_000);
    expect(sizes.ips.size).toBeLessThanOrEqual(100_000);
    expect(throttle.check('k119999@x', 'ip119999').allowed).toBe(false);
    clock.t += LOCK * 1000;
    expect(throttle.check('k119999@x', 'ip119999').allowed).toBe(true);
  });
});

describe('login throttling over HTTP (fake clock)', () => {
  let tp: TestPanel;
  let fakeNow = Date.UTC(2030, 5, 1);
  let owner: TestClient;
  let platformId: string;
  let n = 0;

  const newUser = async () => {
    const email = `victim${++n}@throttle.test`;
    const res = await owner.post('/api/v1/users', { tenantId: platformId, email, name: 'V', password: 'victim-password-1', roles: ['customer'] });
    expect(res.status, res.text).toBe(201);
    return { id: res.body.id as string, email, password: 'victim-password-1' };
  };
  const attempt = (email: string, password: string) => tp.client().post(LOGIN, { email, password });
  const expectLocked = (res: ApiResponse, retryAfter: number) => {
    expectProblem(res, 429, 'too-many-attempts');
    expect(res.headers.get('retry-after')).toBe(String(retryAfter));
    expect(res.body.retryAfter).toBe(retryAfter);
  };

  beforeAll(async () => {
    tp = await startTestPanel({
      config: { loginMaxFailuresPerAccount: 3, loginLockSeconds: LOCK, loginMaxFailuresPerIp: 1000, sessionTtlSeconds: 10 * 365 * 86_400 },
      now: () => fakeNow,
    });
    owner = await tp.owner();
    platformId = (await owner.get('/api/v1/auth/me')).body.tenant.id;
  });
  afterAll(async () => tp?.close());

  it('locks the account after N wrong passwords: 429 with Retry-After, even for the right password', async () => {
    const u = await newUser();
    for (let i = 0; i < 3; i++) expectProblem(await attempt(u.email, `wrong-${i}-password`), 401, 'invalid-credentials');
    expectLocked(await attempt(u.email, 'wrong-again-password'), LOCK);
    const right = await attempt(u.email, u.password);
    expectLocked(right, LOCK);
    expect(right.headers.getSetCookie().some((c) => c.startsWith('mpanel_session='))).toBe(false);
    // Differently-cased e-mail is the same account.
    expectLocked(await attempt(u.email.toUpperCase(), u.password), LOCK);
    // Other accounts are not affected.
    const other = await newUser();
    expect((await attempt(other.email, other.password)).status).toBe(200);

    fakeNow += 30_000;
    expectLocked(await attempt(u.email, u.password), 30);
    fakeNow += 30_001;
    const ok = await attempt(u.email, u.password);
    expect(ok.status, ok.text).toBe(200);
  });

  it('audits the lockout and the refused attempts', async () => {
    const u = await newUser();
    for (let i = 0; i < 3; i++) await attempt(u.email, 'wrong-password-x');
    await attempt(u.email, u.password);
    const rows = (await auditOf(tp, 'auth.login')).filter((r) => r.target === `user:${u.id}` || r.target === `email:${u.email}`);
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.outcome)).toEqual(['failure', 'failure', 'failure', 'failure']);
    expect(rows[0]!.details.lockout).toBeUndefined();
    expect(rows[2]!.details).toMatchObject({ reason: 'wrong-password', lockout: true });
    expect(rows[3]!.details).toMatchObject({ throttled: 'account', error: 'too-many-attempts' });
    fakeNow += LOCK * 1000 + 1;
  });

  it('repeat lockouts grow (doubling) but stay capped and expire', async () => {
    const u = await newUser();
    const seen: number[] = [];
    for (let round = 0; round < 6; round++) {
      for (let i = 0; i < 3; i++) expectProblem(await attempt(u.email, 'wrong-password-y'), 401, 'invalid-credentials');
      const locked = await attempt(u.email, u.password);
      expect(locked.status).toBe(429);
      const retry = Number(locked.headers.get('retry-after'));
      seen.push(retry);
      fakeNow += retry * 1000 + 1;
    }
    expect(seen).toEqual([60, 120, 240, 480, 960, 960]);
    // After the longest lock, the right password works again: the lock was never permanent.
    expect((await attempt(u.email, u.password)).status).toBe(200);
  });

  it('a successful login resets the failure count', async () => {
    const u = await newUser();
    await attempt(u.email, 'wrong-password-z');
    await attempt(u.email, 'wrong-password-z');
    expect((await attempt(u.email, u.password)).status).toBe(200);
    await attempt(u.email, 'wrong-password-z');
    await attempt(u.email, 'wrong-password-z');
    expect((await attempt(u.email, u.password)).status).toBe(200);
  });

  it('unknown e-mails are throttled the same way (no enumeration through the lock)', async () => {
    const ghost = 'nobody-here@throttle.test';
    for (let i = 0; i < 3; i++) expectProblem(await attempt(ghost, 'whatever-password'), 401, 'invalid-credentials');
    expectLocked(await attempt(ghost, 'whatever-password'), LOCK);
    fakeNow += LOCK * 1000 + 1;
  });
});

describe('per-IP throttling over HTTP (fake clock)', () => {
  let tp: TestPanel;
  let fakeNow = Date.UTC(2031, 0, 1);

  beforeAll(async () => {
    tp = await startTestPanel({
      config: { loginMaxFailuresPerAccount: 3, loginMaxFailuresPerIp: 4, loginLockSeconds: LOCK, sessionTtlSeconds: 10 * 365 * 86_400 },
      now: () => fakeNow,
    });
    await tp.owner();
  });
  afterAll(async () => tp?.close());

  it('engages across different accounts from one IP and releases after the lock', async () => {
    const c = tp.client();
    for (let i = 0; i < 4; i++) {
      expectProblem(await c.post(LOGIN, { email: `spray${i}@ip.test`, password: 'guess-password' }), 401, 'invalid-credentials');
    }
    const next = await c.post(LOGIN, { email: 'spray99@ip.test', password: 'guess-password' });
    expectProblem(next, 429, 'too-many-attempts');
    expect(next.headers.get('retry-after')).toBe(String(LOCK));
    // Every account is refused from this IP while it is locked, even with the right password.
    expectProblem(await c.post(LOGIN, { email: OWNER.email, password: OWNER.password }), 429, 'too-many-attempts');
    const audit = await auditOf(tp, 'auth.login');
    expect(audit.some((r) => r.details.throttled === 'ip')).toBe(true);
    fakeNow += LOCK * 1000 + 1;
    expect((await c.post(LOGIN, { email: OWNER.email, password: OWNER.password })).status).toBe(200);
  });
});
