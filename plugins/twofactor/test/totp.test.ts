import { describe, expect, it } from 'vitest';
import { matchStep, newSecret, normaliseCode, provisioning } from '../src/totp.js';
import { newBackupCodes, normaliseBackupCode } from '../src/backup-codes.js';
import { CodeThrottle } from '../src/throttle.js';
import { oathtool, secretOf } from './oathtool.js';

const STEP = 30_000;

describe('TOTP against oathtool (an independent RFC 6238 implementation)', () => {
  it('accepts oathtool codes of the current step and one step either side', async () => {
    for (let i = 0; i < 5; i++) {
      const secret = newSecret();
      expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 160 bits, base32
      const now = Date.now();
      const step = Math.floor(now / STEP);
      expect(await matchStep(secret, oathtool(secret, new Date(now)), null, now)).toBe(step);
      expect(await matchStep(secret, oathtool(secret, new Date(now - STEP)), null, now)).toBe(step - 1);
      expect(await matchStep(secret, oathtool(secret, new Date(now + STEP)), null, now)).toBe(step + 1);
    }
  });

  it('refuses oathtool codes from outside the window', async () => {
    const secret = newSecret();
    const now = Date.now();
    for (const offset of [-2, 2, -3, 3, -20, 20]) {
      const code = oathtool(secret, new Date(now + offset * STEP));
      // A different step's code can collide with an in-window one (1 in 10^6 each): skip those.
      const inWindow = [-1, 0, 1].map((d) => oathtool(secret, new Date(now + d * STEP)));
      if (inWindow.includes(code)) continue;
      expect(await matchStep(secret, code, null, now)).toBeNull();
    }
  });

  it('refuses codes of steps up to afterStep (replay)', async () => {
    const secret = newSecret();
    const now = Date.now();
    const code = oathtool(secret, new Date(now));
    const step = Math.floor(now / STEP);
    expect(await matchStep(secret, code, step, now)).toBeNull();
    expect(await matchStep(secret, code, step - 1, now)).toBe(step);
  });

  it('builds an otpauth URI and a QR code an app can read', async () => {
    const secret = newSecret();
    const p = await provisioning(secret, 'ACME Panel', 'ann@example.com');
    const uri = new URL(p.otpauthUri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/ACME Panel:ann@example.com');
    expect(secretOf(p.otpauthUri)).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('ACME Panel');
    expect(uri.searchParams.get('period') ?? '30').toBe('30');
    expect(uri.searchParams.get('digits') ?? '6').toBe('6');
    expect((uri.searchParams.get('algorithm') ?? 'SHA1').toUpperCase()).toBe('SHA1');
    expect(p.qrDataUrl).toMatch(/^data:image\/png;base64,/);
    expect(Buffer.from(p.qrDataUrl.split(',')[1]!, 'base64').subarray(1, 4).toString()).toBe('PNG');
  });

  it('normalises what users type', () => {
    expect(normaliseCode('123 456')).toBe('123456');
    expect(normaliseCode(' 123456 ')).toBe('123456');
    for (const bad of ['12345', '1234567', 'abcdef', 123456, null, undefined, '１２３４５６', '123\u0000456']) expect(normaliseCode(bad)).toBeNull();
  });
});

describe('backup codes', () => {
  it('are ten distinct codes of about 50 bits, accepted in any case with or without the dash', () => {
    const codes = newBackupCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) {
      expect(c).toMatch(/^[a-z2-9]{5}-[a-z2-9]{5}$/);
      expect(normaliseBackupCode(c.toUpperCase().replace('-', ' '))).toBe(c.replace('-', ''));
    }
    expect(normaliseBackupCode('short')).toBeNull();
    expect(normaliseBackupCode('0000000000')).toBeNull(); // 0 is not in the alphabet
  });
});

describe('code throttle', () => {
  it('locks a user after 5 wrong codes and an IP after 20, each lock expiring and doubling', () => {
    let t = 1_000_000;
    const th = new CodeThrottle({ maxPerUser: 5, maxPerIp: 20, windowMs: 60_000, now: () => t });
    for (let i = 0; i < 4; i++) th.fail('u1', '192.0.2.1');
    expect(th.retryAfter('u1', '192.0.2.1')).toBe(0);
    th.fail('u1', '192.0.2.1');
    expect(th.retryAfter('u1', '192.0.2.9')).toBe(60); // the user, from any IP
    expect(th.retryAfter('u2', '192.0.2.1')).toBe(0); // another user from the same IP: 5 of 20
    t += 61_000;
    expect(th.retryAfter('u1', '192.0.2.1')).toBe(0);
    for (let i = 0; i < 5; i++) th.fail('u1', '192.0.2.1');
    expect(th.retryAfter('u1', '192.0.2.1')).toBe(120); // second lock: twice as long
    // Twenty wrong codes from one IP, spread over users, lock the IP for everyone.
    for (let u = 0; u < 15; u++) th.fail(`other${u}`, '192.0.2.1');
    expect(th.retryAfter('fresh', '192.0.2.1')).toBeGreaterThan(0);
    expect(th.retryAfter('fresh', '192.0.2.2')).toBe(0);
    // A right code clears the user's count, not the IP's.
    th.fail('u3', '192.0.2.3');
    th.succeed('u3');
    for (let i = 0; i < 4; i++) th.fail('u3', '192.0.2.3');
    expect(th.retryAfter('u3', '192.0.2.4')).toBe(0);
  });
});
