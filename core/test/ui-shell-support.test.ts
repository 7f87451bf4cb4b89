import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { writePluginPackage } from './helpers/registry.js';
import type { TestClient } from './helpers/client.js';

/** A plugin that taps a login hook and ships a UI module: its login step must load before login. */
function loginPlugin(): string {
  return writePluginPackage(
    { name: 'mpanel-plugin-otp-x', version: '1.2.3', type: 'module', main: 'index.js', mpanel: { id: 'otp-x', displayName: 'OTP', sdk: '^0.1.0', ui: 'ui/index.js' } },
    {
      'index.js': `import { definePlugin, CORE_HOOKS } from '@mpanel/sdk';
export default definePlugin({ setup(ctx) { ctx.hooks.tap(CORE_HOOKS.loginAfterPassword, async (s) => s); } });`,
      'ui/index.js': 'export function install(shell) { return shell.addLoginStep({ factor: "otp", component: {} }); }',
    },
  );
}

/** A plugin with a UI module that has nothing to do with login: it stays behind the session. */
function plainPlugin(): string {
  return writePluginPackage(
    { name: 'mpanel-plugin-plain-x', version: '1.0.0', type: 'module', main: 'index.js', mpanel: { id: 'plain-x', displayName: 'Plain', sdk: '^0.1.0', ui: 'ui/index.js' } },
    { 'index.js': `import { definePlugin } from '@mpanel/sdk';\nexport default definePlugin({ setup() {} });`, 'ui/index.js': 'export function install() {}' },
  );
}

describe('web shell support: public branding, login modules, audit live tail', () => {
  let t: TestPanel;
  let owner: TestClient;
  let platformId: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    t = await startTestPanel({ plugins: [loginPlugin(), plainPlugin()] });
    owner = await t.owner();
    platformId = (await owner.get('/api/v1/auth/me')).body.user.tenantId;
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await t?.close();
  });

  it('answers the branding that applies: platform, by domain, by the user’s tenant chain', async () => {
    expect((await owner.request('PATCH', `/api/v1/tenants/${platformId}`, { branding: { productName: 'HostCo', primaryColor: '#112233' } })).status).toBe(200);
    const reseller = await owner.post('/api/v1/tenants', { parentId: platformId, kind: 'reseller', name: 'Resell', branding: { productName: 'ResellPanel', logoUrl: '/logo.svg', domain: 'panel.resell.example' } });
    expect(reseller.status).toBe(201);
    const customer = await owner.post('/api/v1/tenants', { parentId: reseller.body.id, kind: 'customer', name: 'Cust', branding: { accentColor: '#abcdef' } });
    expect(customer.status).toBe(201);

    const anon = await t.client().get('/api/v1/ui/public');
    expect(anon.status).toBe(200);
    expect(anon.body.branding).toEqual({ productName: 'HostCo', primaryColor: '#112233' });

    // fetch() will not send another Host header: plain http does.
    const byDomain = await new Promise<{ branding: unknown }>((resolve, reject) => {
      http.get(`${t.url}/api/v1/ui/public`, { headers: { host: 'panel.resell.example' } }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(JSON.parse(body)));
      }).on('error', reject);
    });
    expect(byDomain.branding).toEqual({ productName: 'ResellPanel', logoUrl: '/logo.svg', primaryColor: '#112233' });

    const user = await owner.post('/api/v1/users', { tenantId: customer.body.id, email: 'c@example.test', name: 'C', password: 'customer-password-1', roles: ['customer'] });
    expect(user.status).toBe(201);
    const c = t.client();
    await c.login('c@example.test', 'customer-password-1');
    const mine = await c.get('/api/v1/ui/public');
    expect(mine.body.branding).toEqual({ productName: 'ResellPanel', logoUrl: '/logo.svg', primaryColor: '#112233', accentColor: '#abcdef' });
    // The domain is configuration, not something to show.
    expect(JSON.stringify(mine.body)).not.toContain('panel.resell.example');
  });

  it('lists and serves only login plugins’ UI modules without a session', async () => {
    const res = await t.client().get('/api/v1/ui/public');
    expect(res.body.loginModules).toEqual([{ id: 'otp-x', version: '1.2.3', ui: '/api/v1/ui/login-modules/otp-x/1.2.3/index.js' }]);
    const file = await t.client().get('/api/v1/ui/login-modules/otp-x/1.2.3/index.js');
    expect(file.status).toBe(200);
    expect(file.headers.get('content-type')).toContain('javascript');
    expect(file.text).toContain('addLoginStep');
    expect((await t.client().get('/api/v1/ui/login-modules/plain-x/1.0.0/index.js')).status).toBe(404);
    expect((await t.client().get('/api/v1/ui/login-modules/otp-x/9.9.9/index.js')).status).toBe(404);
    expect((await t.client().get('/api/v1/ui/login-modules/otp-x/1.2.3/..%2f..%2fpackage.json')).status).toBe(404);
    // Disabled: no longer offered.
    expect((await owner.post('/api/v1/plugins/otp-x/disable')).status).toBe(200);
    expect((await t.client().get('/api/v1/ui/public')).body.loginModules).toEqual([]);
    expect((await t.client().get('/api/v1/ui/login-modules/otp-x/1.2.3/index.js')).status).toBe(404);
    expect((await owner.post('/api/v1/plugins/otp-x/enable')).status).toBe(200);
  });

  const connect = (cookie?: string, origin?: string) => {
    const s = io(`${t.url}/p/core/audit`, { path: '/socket.io', transports: ['websocket'], reconnection: false, forceNew: true, extraHeaders: { ...(cookie ? { cookie } : {}), ...(origin ? { origin } : {}) } });
    sockets.push(s);
    return s;
  };
  const outcome = (s: Socket) =>
    new Promise<'connected' | 'refused'>((resolve) => {
      s.once('connect', () => resolve('connected'));
      s.once('connect_error', () => resolve('refused'));
    });

  it('tails the audit trail live, only to sessions holding audit.read from the panel’s origin', async () => {
    const s = connect(owner.cookieHeader());
    const entries: Array<{ action: string; seq: number }> = [];
    s.on('entries', (list) => entries.push(...list));
    expect(await outcome(s)).toBe('connected');
    await new Promise((r) => setTimeout(r, 1200)); // the first poll takes the current end of the trail
    const created = await owner.post('/api/v1/auth/tokens', { name: 'tail-test', permissions: ['audit.read'] });
    expect(created.status).toBe(201);
    await expect.poll(() => entries.map((e) => e.action), { timeout: 10_000 }).toContain('auth.token.create');

    // A customer holds no audit.read; no session at all; a foreign origin with the cookie.
    const c = t.client();
    await c.login('c@example.test', 'customer-password-1');
    expect(await outcome(connect(c.cookieHeader()))).toBe('refused');
    expect(await outcome(connect())).toBe('refused');
    expect(await outcome(connect(owner.cookieHeader(), 'https://evil.example'))).toBe('refused');
  });
});
