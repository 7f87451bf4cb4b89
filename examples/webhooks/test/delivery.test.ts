import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { retryDelay } from '../src/delivery/backoff.js';
import { endpointReceives, patternMatches } from '../src/delivery/event-filter.js';
import { isPrivateAddress } from '../src/delivery/network-policy.js';
import { sendWebhook } from '../src/delivery/sender.js';
import { signatureHeader, verifySignature } from '../src/delivery/signature.js';
import { checkEndpointUrl } from '../src/delivery/url-policy.js';

describe('delivery building blocks', () => {
  it('backs off exponentially with bounded jitter and a cap', () => {
    const s = { baseDelayMs: 1000, maxDelayMs: 10_000 };
    expect([1, 2, 3, 4].map((n) => retryDelay(n, s, () => 0.5))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelay(5, s, () => 0.5)).toBe(10_000);
    expect(retryDelay(1, s, () => 0)).toBe(800);
    expect(retryDelay(1, s, () => 1)).toBe(1200);
    expect(retryDelay(60, s, () => 1)).toBe(10_000);
  });

  it('matches event types like the event bus', () => {
    expect(patternMatches('*', 'user.created')).toBe(true);
    expect(patternMatches('tenant.*', 'tenant.created')).toBe(true);
    expect(patternMatches('tenant.*', 'tenants.created')).toBe(false);
    expect(patternMatches('user.created', 'user.created')).toBe(true);
    expect(patternMatches('user.created', 'user.updated')).toBe(false);
  });

  it('routes events by tenant subtree; tenantless events only to the root', () => {
    const root = { tenantPath: '/r/', events: ['*'] };
    const reseller = { tenantPath: '/r/s/', events: ['*'] };
    const sibling = { tenantPath: '/r/s2/', events: ['*'] };
    const e = (tenantPath: string | null) => ({ type: 'tenant.created', tenantPath });
    expect(endpointReceives(root, e('/r/s/c/'))).toBe(true);
    expect(endpointReceives(reseller, e('/r/s/c/'))).toBe(true);
    expect(endpointReceives(reseller, e('/r/s/'))).toBe(true);
    expect(endpointReceives(sibling, e('/r/s/c/'))).toBe(false);
    expect(endpointReceives(reseller, e('/r/'))).toBe(false);
    expect(endpointReceives(root, e(null))).toBe(true);
    expect(endpointReceives(reseller, e(null))).toBe(false);
    expect(endpointReceives({ tenantPath: '/r/', events: ['user.*'] }, e('/r/s/'))).toBe(false);
  });

  it('signs "<timestamp>.<body>" with HMAC-SHA256 and verifies in constant time', () => {
    const sig = signatureHeader('whsec_x', '1700000000', '{"a":1}');
    expect(sig).toBe(`sha256=${createHmac('sha256', 'whsec_x').update('1700000000.{"a":1}').digest('hex')}`);
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifySignature('whsec_x', '1700000000', '{"a":1}', sig)).toBe(true);
    expect(verifySignature('whsec_x', '1700000001', '{"a":1}', sig)).toBe(false);
    expect(verifySignature('whsec_y', '1700000000', '{"a":1}', sig)).toBe(false);
  });

  it('classifies private addresses', () => {
    for (const a of ['127.0.0.1', '10.0.0.1', '172.16.5.4', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00::1', '::ffff:7f00:1']) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['93.184.216.34', '8.8.8.8', '2606:4700:4700::1111', 'example.com']) expect(isPrivateAddress(a), a).toBe(false);
  });

  it('normalises good URLs and refuses bad ones', () => {
    expect(checkEndpointUrl('HTTPS://Example.COM/hook?x=1', false)).toBe('https://example.com/hook?x=1');
    expect(checkEndpointUrl('http://127.0.0.1:9000/h', true)).toBe('http://127.0.0.1:9000/h');
    expect(() => checkEndpointUrl('http://127.0.0.1:9000/h', false)).toThrow(/private/);
    expect(() => checkEndpointUrl('file:///etc/passwd', true)).toThrow(/http or https/);
    expect(() => checkEndpointUrl('https://a:b@example.com/', true)).toThrow(/user name or password/);
  });

  it('sends with a timeout, refuses private targets, and reports answers', async () => {
    let mode: 'hang' | 'redirect' | 'ok' = 'hang';
    const server = http.createServer((req, res) => {
      req.resume();
      if (mode === 'redirect') res.writeHead(302, { location: 'http://169.254.169.254/' }).end();
      else if (mode === 'ok') res.writeHead(204).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const w = { url, secret: 's', deliveryId: 'd', eventType: 'x.y', body: '{}' };
    const o = { timeoutMs: 200, allowPrivateNetworks: true, userAgent: 'test' };
    try {
      expect(await sendWebhook(w, o)).toMatchObject({ ok: false, statusCode: null, error: 'timed out after 200 ms' });
      mode = 'redirect';
      expect(await sendWebhook(w, o)).toMatchObject({ ok: false, statusCode: 302, error: 'HTTP 302 (redirects are not followed)' });
      mode = 'ok';
      expect(await sendWebhook(w, o)).toMatchObject({ ok: true, statusCode: 204, error: null });
      expect((await sendWebhook(w, { ...o, allowPrivateNetworks: false })).error).toMatch(/private address/);
      expect((await sendWebhook({ ...w, url: url.replace('127.0.0.1', 'localhost') }, { ...o, allowPrivateNetworks: false })).error).toMatch(/private/);
      const aborted = new AbortController();
      aborted.abort();
      expect(await sendWebhook(w, { ...o, signal: aborted.signal })).toMatchObject({ aborted: true });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
