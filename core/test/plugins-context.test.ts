import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './helpers/until.js';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { writePluginPackage } from './helpers/registry.js';
import type { TestClient } from './helpers/client.js';

/**
 * Two local plugins exercising every ctx API: "provider" declares a hook,
 * provides a service, runs jobs, subscribes to events and writes audit
 * entries; "consumer" requires it, taps its hook and consumes its service.
 * Disabling must undo every registration.
 */
const PROVIDER = writePluginPackage(
  {
    name: 'mpanel-plugin-provider', version: '1.2.3', type: 'module', main: 'index.js',
    mpanel: {
      id: 'provider', displayName: 'Provider', sdk: '^0.1.0',
      permissions: [{ name: 'provider.use', description: 'use it', defaultRoles: ['customer'] }],
      settings: { type: 'object', properties: { factor: { type: 'integer', minimum: 1, default: 2 } } },
      contributes: { menu: [{ id: 'prov', label: 'Provider', path: '/prov', permission: 'provider.use' }] },
    },
  },
  {
    'index.js': `import { definePlugin, ProblemError } from '@mpanel/sdk';
export const state = { ticks: 0, events: [], settingsSeen: [], aborted: false, signalAborted: false, teardowns: [] };
globalThis.__providerState = state;
export default definePlugin({
  teardown(info) { state.teardowns.push(info.reason); },
  async setup(ctx) {
    const hook = ctx.hooks.define('provider.transform', 'waterfall');
    ctx.services.provide('math', { double: (n) => n * ctx.settings.get().factor });
    ctx.jobs.every('tick', 100, () => { state.ticks++; });
    ctx.jobs.background('bg', async (signal) => { await new Promise((r) => signal.addEventListener('abort', r)); state.aborted = true; });
    ctx.events.subscribe('tenant.*', (e) => { state.events.push(e.type); });
    ctx.settings.onChange((s) => { state.settingsSeen.push(s.factor); });
    ctx.routes.add({ method: 'GET', path: '/transform', summary: 'run the hook', permission: 'provider.use',
      handler: async (req) => ({ value: await hook.call(1), contributions: ctx.ui.contributions().menu.length }) });
    ctx.routes.add({ method: 'POST', path: '/note', summary: 'audit + publish', permission: 'provider.use', audit: 'provider.note.create',
      handler: async (req) => { await req.publish('provider.noted', { by: req.actor.label }); await ctx.audit.write({ action: 'provider.extra', details: { ok: true } }); return { ok: true }; } });
    ctx.signal.addEventListener('abort', () => { state.signalAborted = true; });
    ctx.realtime.namespace('agents', {
      authenticate: ({ auth }) => (auth.token === 'agent-secret' ? { agent: 'a1' } : null),
      onConnection: (socket) => {
        socket.on('ping', (data, ack) => ack && ack({ pong: data, who: socket.identity.agent }));
      },
    });
    let mailRefused = null; try { await ctx.mail.send({ to: 'x@y.z', subject: 's', text: 't' }); } catch (e) { mailRefused = e.message; }
    if (!mailRefused || !mailRefused.includes('mail:send')) throw new Error('mail without capability was not refused');
    ctx.routes.add({ method: 'GET', path: '/extras', summary: 'secrets, tenants, access', permission: 'provider.use',
      handler: async (req) => {
        const sealed = ctx.secrets.seal('s3cret');
        let tampered = null; try { ctx.secrets.open(sealed.slice(0, -2) + (sealed.endsWith('AA') ? 'BB' : 'AA')); } catch (e) { tampered = e.message; }
        const tenant = await ctx.tenants.get(req.actor.tenantId);
        const access = await ctx.access.forUser(req.actor.userId);
        const me = await ctx.users.get(req.actor.userId);
        if (!me || me.tenantPath !== req.actor.tenantPath || me.disabled || me.roles.join() !== 'platform-owner') throw new Error('users.get is wrong: ' + JSON.stringify(me));
        if (await ctx.users.get('not-a-uuid') !== null) throw new Error('users.get accepted garbage');
        let committed = false;
        req.afterCommit(() => { committed = true; });
        const mac = ctx.secrets.hmac('data');
        if (mac !== ctx.secrets.hmac('data') || mac === ctx.secrets.hmac('datb') || !/^[A-Za-z0-9_-]{43}$/.test(mac)) throw new Error('hmac is wrong');
        return { sealedLooksOpaque: !sealed.includes('s3cret'), opened: ctx.secrets.open(sealed), tampered: !!tampered,
          tenantKind: tenant?.kind, unknownTenant: await ctx.tenants.get('00000000-0000-0000-0000-000000000000'),
          canUse: access?.can('provider.use'), canFly: access?.can('provider.fly'), committed };
      } });
    ctx.routes.add({ method: 'POST', path: '/steps', summary: 'no route transaction', permission: 'provider.use', audit: 'provider.steps.run', transaction: false,
      schema: { body: { type: 'object', required: ['tenantId'], properties: { tenantId: { type: 'string', format: 'uuid' } } } },
      handler: async (req) => {
        // Commits in steps of its own while the route holds no transaction.
        const one = await ctx.db.transaction(async (em) => (await em.execute('select 1 as n'))[0].n);
        const ancestors = await ctx.tenants.ancestors(req.body.tenantId);
        const subtree = await ctx.tenants.subtreeIds(req.actor.tenantId);
        return { one, header: req.headers['x-probe'] ?? null, ancestorKinds: ancestors.map((a) => a.kind), subtreeHas: subtree.includes(req.body.tenantId) };
      } });
    ctx.routes.add({ method: 'GET', path: '/upstream-down', summary: 'a dependency failed', permission: 'provider.use',
      handler: () => { throw new ProblemError('upstream-down', 'The mail relay does not answer', { status: 503 }); } });
    ctx.routes.add({ method: 'GET', path: '/bad-status', summary: 'a plugin cannot claim 500', permission: 'provider.use',
      handler: () => { throw new ProblemError('weird', 'no', { status: 500 }); } });
    if (!ctx.permissions.has('provider.use')) throw new Error('own permission missing');
    let bad = null; try { ctx.jobs.cron('bad', 'not a cron', () => {}); } catch (e) { bad = e.message; }
    if (!bad) throw new Error('invalid cron accepted');
    let wrongEvent = null; try { await ctx.events.publish('other.thing', {}); } catch (e) { wrongEvent = e.message; }
    if (!wrongEvent) throw new Error('foreign event type accepted');
  },
});
`,
  },
);

const CONSUMER = writePluginPackage(
  { name: 'mpanel-plugin-consumer', version: '1.0.0', type: 'module', main: 'index.js', mpanel: { id: 'consumer', displayName: 'Consumer', sdk: '^0.1.0', requires: { provider: '^1.2.0' } } },
  {
    'index.js': `import { definePlugin } from '@mpanel/sdk';
export default definePlugin({
  setup(ctx) {
    ctx.hooks.tap('provider.transform', async (v) => v + 10);
    const math = ctx.services.consume('provider.math');
    ctx.routes.add({ method: 'GET', path: '/double', summary: 'uses the service', permission: 'account.self', handler: () => ({ value: math.double(21) }) });
  },
});
`,
  },
);

const providerState = () =>
  (globalThis as unknown as { __providerState: { ticks: number; events: string[]; settingsSeen: number[]; aborted: boolean; signalAborted: boolean; teardowns: string[] } }).__providerState;

describe('plugin context: every registration works and is undone on disable', () => {
  let tp: TestPanel;
  let owner: TestClient;

  beforeAll(async () => {
    // Given in the wrong order on purpose: the host orders by `requires`.
    tp = await startTestPanel({ plugins: [CONSUMER, PROVIDER] });
    owner = await tp.owner();
  });
  afterAll(async () => tp?.close());

  it('boots both local plugins in dependency order', async () => {
    const list = await owner.get('/api/v1/plugins');
    expect(list.body.map((p: { id: string; state: string }) => [p.id, p.state])).toEqual([['consumer', 'enabled'], ['provider', 'enabled']]);
  });

  it('hooks, services, routes, settings, events, audit and jobs work', async () => {
    expect((await owner.get('/api/v1/p/provider/transform')).body).toEqual({ value: 11, contributions: 1 });
    expect((await owner.get('/api/v1/p/consumer/double')).body).toEqual({ value: 42 });
    expect((await owner.request('PUT', '/api/v1/plugins/provider/settings', { factor: 3 })).status).toBe(200);
    expect((await owner.get('/api/v1/p/consumer/double')).body).toEqual({ value: 63 });
    expect(providerState().settingsSeen).toEqual([3]);
    await until(() => providerState().ticks >= 2, 'the interval job');
    const me = await owner.get('/api/v1/auth/me');
    expect((await owner.post('/api/v1/tenants', { parentId: me.body.tenant.id, kind: 'customer', name: 'Evented' })).status).toBe(201);
    await until(() => providerState().events.includes('tenant.created'), 'the event subscription');
    expect((await owner.post('/api/v1/p/provider/note')).status).toBe(200);
    const extra = await owner.get('/api/v1/audit?action=provider.extra');
    expect(extra.body.items[0]).toMatchObject({ actorType: 'plugin', actorId: 'provider', details: { ok: true, plugin: 'provider' } });
    const contributions = await owner.get('/api/v1/ui/contributions');
    expect(contributions.body.find((c: { id: string }) => c.id === 'provider').menu).toHaveLength(1);
  });

  it('seals and signs secrets, looks up tenants and other users’ access, runs after-commit callbacks', async () => {
    const res = await owner.get('/api/v1/p/provider/extras');
    expect(res.body).toEqual({ sealedLooksOpaque: true, opened: 's3cret', tampered: true, tenantKind: 'platform', unknownTenant: null, canUse: true, canFly: true, committed: true });
    // canFly is true only because the owner holds "*"; the master key file is private.
    const fs = await import('node:fs');
    expect(fs.statSync(`${tp.dataDir}/secret.key`).mode & 0o777).toBe(0o600);
  });

  it('opens a realtime namespace with its own authentication', async () => {
    const { io } = await import('socket.io-client');
    const connect = (token: string) =>
      new Promise<{ ok: boolean; socket: ReturnType<typeof io> }>((resolve) => {
        const socket = io(`${tp.url}/p/provider/agents`, { auth: { token }, transports: ['websocket'], reconnection: false });
        socket.on('connect', () => resolve({ ok: true, socket }));
        socket.on('connect_error', () => resolve({ ok: false, socket }));
      });
    const bad = await connect('wrong');
    expect(bad.ok).toBe(false);
    bad.socket.close();
    const good = await connect('agent-secret');
    expect(good.ok).toBe(true);
    expect(await good.socket.timeout(3000).emitWithAck('ping', 7)).toEqual({ pong: 7, who: 'a1' });
    (globalThis as Record<string, unknown>).__agentSocket = good.socket;
  });

  it('runs routes without a transaction, exposes headers and the tenant tree, passes 503 problems through', async () => {
    const me = await owner.get('/api/v1/auth/me');
    const child = await owner.post('/api/v1/tenants', { parentId: me.body.tenant.id, kind: 'reseller', name: 'R' });
    const grandchild = await owner.post('/api/v1/tenants', { parentId: child.body.id, kind: 'customer', name: 'C' });
    const res = await owner.post('/api/v1/p/provider/steps', { tenantId: grandchild.body.id }, { 'x-probe': 'yes' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ one: 1, header: 'yes', ancestorKinds: ['platform', 'reseller'], subtreeHas: true });
    const audit = await owner.get('/api/v1/audit?action=provider.steps.run');
    expect(audit.body.items[0].outcome).toBe('success');
    const down = await owner.get('/api/v1/p/provider/upstream-down');
    expect(down.status).toBe(503);
    expect(down.body.code).toBe('upstream-down');
    const bad = await owner.get('/api/v1/p/provider/bad-status');
    expect(bad.status).toBe(400);
  });

  it('a plugin’s permission can be granted to built-in roles by default', async () => {
    const me = await owner.get('/api/v1/auth/me');
    const t = await owner.post('/api/v1/tenants', { parentId: me.body.tenant.id, kind: 'customer', name: 'Cust' });
    expect((await owner.post('/api/v1/users', { tenantId: t.body.id, email: 'cust@ctx.test', name: 'Cust', password: 'plain-horse-staple-9', roles: ['customer'] })).status).toBe(201);
    const c = tp.client();
    await c.login('cust@ctx.test', 'plain-horse-staple-9');
    expect((await c.get('/api/v1/p/provider/transform')).status).toBe(200);
  });

  it('disabling the provider is refused while the consumer requires it', async () => {
    const res = await owner.post('/api/v1/plugins/provider/disable');
    expect(res.status).toBe(409);
    expect(res.body.dependents).toEqual(['consumer']);
  });

  it('disable undoes routes, taps, services, hooks, subscriptions, jobs and permissions', async () => {
    expect((await owner.post('/api/v1/plugins/consumer/disable')).status).toBe(200);
    expect((await owner.get('/api/v1/p/consumer/double')).status).toBe(404);
    // The consumer's tap is gone: the hook now only returns its input.
    expect((await owner.get('/api/v1/p/provider/transform')).body.value).toBe(1);
    const regs = (await owner.get('/api/v1/plugins/provider')).body.registrations as string[];
    expect(regs).toEqual(expect.arrayContaining(['hook provider.transform', 'service provider.math', 'job tick', 'background bg', 'subscription tenant.*', 'permission provider.use']));

    expect((await owner.post('/api/v1/plugins/provider/disable')).status).toBe(200);
    expect(tp.panel.kernel.hooks.has('provider.transform')).toBe(false);
    expect(tp.panel.plugins.services.list()).toEqual([]);
    expect(tp.panel.kernel.permissions.has('provider.use')).toBe(false);
    await until(() => providerState().aborted, 'the background job to be aborted');
    expect(providerState().signalAborted).toBe(true);
    expect(providerState().teardowns).toEqual(['disable']);
    // Its realtime namespace is closed: the connected agent was dropped and new ones are refused.
    const agent = (globalThis as Record<string, unknown>).__agentSocket as { connected: boolean; close(): void };
    await until(() => !agent.connected, 'the agent socket to be disconnected');
    agent.close();
    const { io } = await import('socket.io-client');
    const refused = await new Promise<boolean>((resolve) => {
      const s2 = io(`${tp.url}/p/provider/agents`, { auth: { token: 'agent-secret' }, transports: ['websocket'], reconnection: false });
      s2.on('connect', () => { s2.close(); resolve(false); });
      s2.on('connect_error', () => { s2.close(); resolve(true); });
    });
    expect(refused).toBe(true);
    const ticks = providerState().ticks;
    const events = providerState().events.length;
    const me = await owner.get('/api/v1/auth/me');
    await owner.post('/api/v1/tenants', { parentId: me.body.tenant.id, kind: 'customer', name: 'After disable' });
    await new Promise((r) => setTimeout(r, 400));
    expect(providerState().ticks).toBe(ticks);
    expect(providerState().events.length).toBe(events);
    // The customer role no longer carries the permission.
    const roles = await owner.get('/api/v1/roles');
    expect(roles.body.find((r: { key: string }) => r.key === 'customer').permissions).not.toContain('provider.use');
  });

  it('enabling the consumer while its requirement is disabled is refused', async () => {
    const res = await owner.post('/api/v1/plugins/consumer/enable');
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('plugin-dependency');
  });
});

describe('plugin UI modules are served under a versioned URL', () => {
  it('serves files of an enabled plugin’s UI folder and nothing else', async () => {
    const hello = (await import('node:path')).resolve(import.meta.dirname, '../../examples/hello');
    const tp = await startTestPanel({ plugins: [hello] });
    try {
      const owner = await tp.owner();
      const list = await owner.get('/api/v1/ui/contributions');
      const ui = list.body.find((c: { id: string }) => c.id === 'hello').ui as string;
      expect(ui).toBe('/api/v1/plugin-ui/hello/1.0.0/index.js');
      const js = await owner.get(ui);
      expect(js.status).toBe(200);
      expect(js.headers.get('content-type')).toContain('text/javascript');
      expect(js.text).toContain('export function install');
      expect((await tp.client().get(ui)).status).toBe(401);
      expect((await owner.get('/api/v1/plugin-ui/hello/0.9.0/index.js')).status).toBe(404);
      expect((await owner.get('/api/v1/plugin-ui/hello/1.0.0/..%2F..%2Fpackage.json')).status).toBe(404);
      expect((await owner.get('/api/v1/plugin-ui/hello/1.0.0/../index.js')).status).toBe(404);
      expect((await owner.post('/api/v1/plugins/hello/disable')).status).toBe(200);
      expect((await owner.get(ui)).status).toBe(404);
    } finally {
      await tp.close();
    }
  });
});
