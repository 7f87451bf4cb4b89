import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { buildWorld, type World } from './helpers/world.js';
import { sql } from './helpers/db.js';
import { ProblemError } from '../src/errors/problem.js';
import { matches } from '../src/events/bus.js';
import type { DomainEvent } from '../src/events/outbox.js';

const WAIT_MS = 10_000;

/** Resolves with the first item of `list` (now or later) matching `pred`; fails after `ms`. */
function waitFor<T>(list: T[], pred: (x: T) => boolean, what: string, ms = WAIT_MS): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = () => {
      const hit = list.find(pred);
      if (hit !== undefined) return resolve(hit);
      if (Date.now() - started > ms) return reject(new Error(`timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(list).slice(0, 2000)}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/** Polls `fn` until it returns a truthy value; fails after `ms`. */
async function eventually<T>(fn: () => Promise<T | undefined | null | false>, what: string, ms = WAIT_MS): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - started > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Listener {
  socket: Socket;
  events: DomainEvent[];
}

const sockets: Socket[] = [];

function connect(url: string, opts: { cookie?: string; token?: string; origin?: string } = {}): Socket {
  const s = io(url, {
    path: '/socket.io',
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: WAIT_MS,
    extraHeaders: { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...(opts.origin ? { origin: opts.origin } : {}) },
    ...(opts.token ? { auth: { token: opts.token } } : {}),
  });
  sockets.push(s);
  return s;
}

function connected(s: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('socket did not connect in time')), WAIT_MS);
    s.once('connect', () => { clearTimeout(t); resolve(); });
    s.once('connect_error', (err) => { clearTimeout(t); reject(err); });
  });
}

function refused(s: Socket): Promise<Error> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('socket was neither refused nor connected in time')), WAIT_MS);
    s.once('connect', () => { clearTimeout(t); reject(new Error('an unauthenticated socket was accepted')); });
    s.once('connect_error', (err) => { clearTimeout(t); resolve(err); });
  });
}

async function listen(url: string, opts: { cookie?: string; token?: string }): Promise<Listener> {
  const socket = connect(url, opts);
  const events: DomainEvent[] = [];
  socket.on('event', (e: DomainEvent) => events.push(e));
  await connected(socket);
  return { socket, events };
}

describe('event type patterns (unit)', () => {
  it('matches exact types, prefixes and everything', () => {
    expect(matches('*', 'tenant.created')).toBe(true);
    expect(matches('tenant.*', 'tenant.created')).toBe(true);
    expect(matches('tenant.*', 'tenant.quota.changed')).toBe(true);
    expect(matches('tenant.*', 'tenants.created')).toBe(false);
    expect(matches('tenant.*', 'user.created')).toBe(false);
    expect(matches('tenant.created', 'tenant.created')).toBe(true);
    expect(matches('tenant.created', 'tenant.updated')).toBe(false);
  });
});

describe('domain events', () => {
  let tp: TestPanel;
  let world: World;
  const received: DomainEvent[] = [];
  let unsubscribes: Array<() => void> = [];

  beforeAll(async () => {
    tp = await startTestPanel();
    world = await buildWorld(tp);
    // A route that publishes and then fails: its event must never leave the transaction.
    tp.panel.kernel.routes.register({
      method: 'POST',
      path: '/api/v1/test/publish-then-fail',
      summary: 'test',
      permission: 'tenant.update',
      audit: 'test.publish-then-fail',
      handler: async (ctx) => {
        await ctx.publish('test.doomed', { marker: 'doomed' });
        throw new ProblemError('conflict', 'failing on purpose after publishing');
      },
    }, 'test');
  });
  afterAll(async () => {
    for (const s of sockets) s.disconnect();
    await tp?.close();
  });
  afterEach(() => {
    for (const u of unsubscribes) u();
    unsubscribes = [];
    received.length = 0;
  });

  const outbox = () => sql<{ id: string; type: string; payload: Record<string, unknown>; delivered_at: Date | null; tenant_id: string | null }>(tp.db!.url, 'select * from outbox_event order by id');

  it('a successful change writes its event with the change and delivers it after commit', async () => {
    unsubscribes.push(tp.panel.kernel.events.subscribe('tenant.*', (e) => void received.push(e)));
    const owner = world.users.owner.client;
    const res = await owner.post('/api/v1/tenants', { parentId: world.resellerId, kind: 'customer', name: 'Evented' });
    expect(res.status).toBe(201);
    const ev = await waitFor(received, (e) => e.type === 'tenant.created' && e.payload.id === res.body.id, 'tenant.created in-process');
    expect(ev).toMatchObject({ tenantId: res.body.id, tenantPath: res.body.path, permission: 'tenant.read', payload: { name: 'Evented', kind: 'customer', parentId: world.resellerId } });
    expect(typeof ev.id).toBe('number');
    expect(new Date(ev.createdAt).toISOString()).toBe(ev.createdAt);
    const row = await eventually(async () => (await outbox()).find((r) => r.type === 'tenant.created' && r.payload.id === res.body.id && r.delivered_at), 'delivered_at to be set');
    expect(Number(row.id)).toBe(ev.id);
    expect(row.tenant_id).toBe(res.body.id);
    // The tenant row and its event are in the database together.
    const [t] = await sql(tp.db!.url, 'select id from tenant where id = $1', [res.body.id]);
    expect(t).toBeDefined();
  });

  it('a failing request leaves no event (same transaction as the change)', async () => {
    const before = await outbox();
    const owner = world.users.owner.client;
    const failed = await owner.post('/api/v1/test/publish-then-fail');
    expect(failed.status).toBe(409);
    const missing = await owner.post('/api/v1/tenants', { parentId: '00000000-0000-4000-8000-000000000000', kind: 'customer', name: 'Ghost' });
    expect(missing.status).toBe(404);
    // A later successful change proves delivery has run past the failed ones.
    unsubscribes.push(tp.panel.kernel.events.subscribe('*', (e) => void received.push(e)));
    const ok = await owner.patch(`/api/v1/tenants/${world.customerCId}`, { name: 'Customer C renamed' });
    expect(ok.status).toBe(200);
    await waitFor(received, (e) => e.type === 'tenant.updated' && e.payload.id === world.customerCId, 'tenant.updated');
    const after = await outbox();
    expect(after.filter((r) => r.type === 'test.doomed')).toEqual([]);
    expect(after.some((r) => r.payload.name === 'Ghost')).toBe(false);
    expect(after.length).toBe(before.length + 1);
    expect(received.some((e) => e.type === 'test.doomed')).toBe(false);
    // The failed request itself was audited; its event was not.
    const audit = await owner.get('/api/v1/audit?action=test.publish-then-fail');
    expect(audit.body.items[0]).toMatchObject({ outcome: 'failure' });
  });

  it('in-process subscribers get tenant.* and user.* events; a throwing subscriber does not block others', async () => {
    const errors: Array<{ owner: string; type: string }> = [];
    tp.panel.kernel.events.onSubscriberError((owner, event) => errors.push({ owner, type: event.type }));
    const calls: string[] = [];
    unsubscribes.push(tp.panel.kernel.events.subscribe('tenant.*', () => {
      calls.push('thrower');
      throw new Error('subscriber bug');
    }, 'broken-plugin'));
    unsubscribes.push(tp.panel.kernel.events.subscribe('tenant.*', async (e) => {
      calls.push('async-thrower');
      await Promise.resolve();
      throw new Error(`async bug on ${e.type}`);
    }, 'broken-plugin-2'));
    unsubscribes.push(tp.panel.kernel.events.subscribe('tenant.updated', (e) => void received.push(e)));
    const users: DomainEvent[] = [];
    unsubscribes.push(tp.panel.kernel.events.subscribe('user.*', (e) => void users.push(e)));

    const owner = world.users.owner.client;
    expect((await owner.patch(`/api/v1/tenants/${world.customerAId}`, { name: 'Customer A2' })).status).toBe(200);
    const e = await waitFor(received, (x) => x.payload.id === world.customerAId, 'tenant.updated despite throwing subscribers');
    expect(e.payload.changes).toEqual(['name']);
    expect(calls).toEqual(['thrower', 'async-thrower']);
    expect(errors).toEqual([{ owner: 'broken-plugin', type: 'tenant.updated' }, { owner: 'broken-plugin-2', type: 'tenant.updated' }]);

    const created = await owner.post('/api/v1/users', { tenantId: world.customerBId, email: 'evented@world.test', name: 'Evented', password: 'another-password-42' });
    expect(created.status).toBe(201);
    await waitFor(users, (x) => x.type === 'user.created' && x.payload.id === created.body.id, 'user.created');
    expect((await owner.patch(`/api/v1/users/${created.body.id}`, { name: 'Evented 2' })).status).toBe(200);
    const upd = await waitFor(users, (x) => x.type === 'user.updated' && x.payload.id === created.body.id, 'user.updated');
    expect(upd).toMatchObject({ tenantId: world.customerBId, permission: 'user.read' });
    // The wildcard and exact subscribers never saw user events.
    expect(received.every((x) => x.type === 'tenant.updated')).toBe(true);
  });

  it('an event leased by a process that died is delivered again once its lease runs out; a live lease is respected', async () => {
    const got: DomainEvent[] = [];
    const off = tp.panel.kernel.events.subscribe('test.*', (e) => void got.push(e));
    try {
      const [expired] = await sql<{ id: string }>(tp.db!.url, "insert into outbox_event (type, payload, leased_until) values ('test.crashed', '{}', now() - interval '1 second') returning id");
      const [live] = await sql<{ id: string }>(tp.db!.url, "insert into outbox_event (type, payload, leased_until) values ('test.leased', '{}', now() + interval '1 hour') returning id");
      await tp.panel.kernel.events.drain();
      expect(got.map((e) => e.type)).toEqual(['test.crashed']);
      const rows = await sql<{ id: string; delivered: boolean }>(tp.db!.url, 'select id, delivered_at is not null as delivered from outbox_event where id in ($1, $2) order by id', [expired!.id, live!.id]);
      expect(rows.map((r) => r.delivered)).toEqual([true, false]);
      // The other process's lease ends: now it is delivered too.
      await sql(tp.db!.url, "update outbox_event set leased_until = now() - interval '1 second' where id = $1", [live!.id]);
      await tp.panel.kernel.events.drain();
      expect(got.map((e) => e.type)).toEqual(['test.crashed', 'test.leased']);
    } finally {
      off();
    }
  });

  it('unsubscribe stops delivery', async () => {
    const got: DomainEvent[] = [];
    const off = tp.panel.kernel.events.subscribe('tenant.updated', (e) => void got.push(e));
    unsubscribes.push(tp.panel.kernel.events.subscribe('tenant.updated', (e) => void received.push(e)));
    off();
    expect((await world.users.owner.client.patch(`/api/v1/tenants/${world.customerAId}`, { name: 'Customer A3' })).status).toBe(200);
    await waitFor(received, (x) => x.payload.id === world.customerAId, 'tenant.updated');
    expect(got).toEqual([]);
  });

  describe('socket.io', () => {
    it('refuses an unauthenticated socket and a bad token', async () => {
      const err = await refused(connect(tp.url));
      expect(err.message).toBe('unauthenticated');
      const bad = await refused(connect(tp.url, { token: 'mpt_not-a-real-token' }));
      expect(bad.message).toBe('unauthenticated');
      const badCookie = await refused(connect(tp.url, { cookie: 'mpanel_session=nope' }));
      expect(badCookie.message).toBe('unauthenticated');
    });

    it('a session cookie is only accepted from the panel\'s own origin (no cross-site WebSocket hijacking)', async () => {
      const cookie = world.users.owner.client.cookieHeader();
      const evil = await refused(connect(tp.url, { cookie, origin: 'https://evil.example' }));
      expect(evil.message).toBe('origin not allowed');
      const sibling = await refused(connect(tp.url, { cookie, origin: `http://other.${new URL(tp.url).hostname}.nip.io:${new URL(tp.url).port}` }));
      expect(sibling.message).toBe('origin not allowed');
      const garbage = await refused(connect(tp.url, { cookie, origin: 'null' }));
      expect(garbage.message).toBe('origin not allowed');
      const own = connect(tp.url, { cookie, origin: tp.url });
      await connected(own);
      own.disconnect();
      // An API token is not an ambient credential: any origin may use it.
      const tok = await world.users.owner.client.post('/api/v1/auth/tokens', { name: 'socket-origin', permissions: ['tenant.read'] });
      const viaToken = connect(tp.url, { token: tok.body.secret, origin: 'https://evil.example' });
      await connected(viaToken);
      viaToken.disconnect();
    });

    it('delivers events by permission and tenant subtree (cookie and API token)', async () => {
      const owner = world.users.owner.client;
      const ownerSock = await listen(tp.url, { cookie: owner.cookieHeader() });
      const tok = await owner.post('/api/v1/auth/tokens', { name: 'socket', permissions: ['tenant.read'] });
      expect(tok.status).toBe(201);
      expect(tok.body.secret).toMatch(/^mpt_/);
      const tokenSock = await listen(tp.url, { token: tok.body.secret });
      const resellerSock = await listen(tp.url, { cookie: world.users.reseller.client.cookieHeader() });
      const aSock = await listen(tp.url, { cookie: world.users.customerA.client.cookieHeader() });
      const bSock = await listen(tp.url, { cookie: world.users.customerB.client.cookieHeader() });

      // A tenant created under the reseller reaches the owner (cookie + token) and the reseller.
      const created = await owner.post('/api/v1/tenants', { parentId: world.resellerId, kind: 'customer', name: 'Socketed' });
      expect(created.status).toBe(201);
      const isCreated = (e: DomainEvent) => e.type === 'tenant.created' && e.payload.id === created.body.id;
      const seen = await waitFor(ownerSock.events, isCreated, 'owner socket: tenant.created');
      expect(seen).toMatchObject({ tenantId: created.body.id, tenantPath: created.body.path, payload: { name: 'Socketed' } });
      await waitFor(tokenSock.events, isCreated, 'token socket: tenant.created');
      await waitFor(resellerSock.events, isCreated, 'reseller socket: tenant.created');

      // Customer B's tenant changes; then customer A's. A sees only its own; B only its own.
      expect((await owner.patch(`/api/v1/tenants/${world.customerBId}`, { name: 'Customer B2' })).status).toBe(200);
      expect((await owner.patch(`/api/v1/tenants/${world.customerAId}`, { name: 'Customer A4' })).status).toBe(200);
      const userB = await owner.post('/api/v1/users', { tenantId: world.customerBId, email: 'sock-b@world.test', name: 'Sock B', password: 'another-password-42' });
      expect(userB.status).toBe(201);
      // Ordered delivery: once these arrive, every earlier event has been broadcast.
      await waitFor(aSock.events, (e) => e.type === 'tenant.updated' && e.payload.id === world.customerAId, 'customer A: its own tenant.updated');
      await waitFor(bSock.events, (e) => e.type === 'user.created' && e.payload.id === userB.body.id, 'customer B: user.created in its tenant');
      await waitFor(ownerSock.events, (e) => e.type === 'user.created' && e.payload.id === userB.body.id, 'owner: user.created');
      await waitFor(resellerSock.events, (e) => e.type === 'user.created' && e.payload.id === userB.body.id, 'reseller: user.created');
      // The tenant.read-only token must not get user.* events (needs user.read). A later tenant event is the marker.
      expect((await owner.patch(`/api/v1/tenants/${world.customerCId}`, { name: 'Customer C2' })).status).toBe(200);
      await waitFor(tokenSock.events, (e) => e.type === 'tenant.updated' && e.payload.id === world.customerCId, 'token: tenant.updated of C');
      await waitFor(ownerSock.events, (e) => e.type === 'tenant.updated' && e.payload.id === world.customerCId, 'owner: tenant.updated of C');

      const concerns = (evs: DomainEvent[], tenantId: string) => evs.filter((e) => e.tenantId === tenantId || e.payload.id === tenantId);
      expect(concerns(aSock.events, world.customerBId)).toEqual([]);
      expect(aSock.events.some((e) => e.payload.id === userB.body.id)).toBe(false);
      expect(aSock.events.some((e) => e.payload.id === created.body.id)).toBe(false);
      expect(concerns(bSock.events, world.customerAId)).toEqual([]);
      expect(aSock.events.every((e) => e.tenantId === world.customerAId)).toBe(true);
      expect(bSock.events.every((e) => e.tenantId === world.customerBId)).toBe(true);
      // Customer C is outside the reseller's subtree.
      expect(resellerSock.events.some((e) => e.tenantId === world.customerCId)).toBe(false);
      expect(tokenSock.events.some((e) => e.type.startsWith('user.'))).toBe(false);
      expect(ownerSock.events.some((e) => e.tenantId === world.customerCId)).toBe(true);
    });

    it('a logged-out session stops receiving events', async () => {
      const c = tp.client();
      await c.login(world.users.customerA.email, 'test-password-123');
      const sock = await listen(tp.url, { cookie: c.cookieHeader() });
      const ownerSock = await listen(tp.url, { cookie: world.users.owner.client.cookieHeader() });
      const owner = world.users.owner.client;
      expect((await owner.patch(`/api/v1/tenants/${world.customerAId}`, { name: 'Customer A5' })).status).toBe(200);
      await waitFor(sock.events, (e) => e.payload.id === world.customerAId, 'event before logout');
      expect((await c.post('/api/v1/auth/logout')).status).toBe(204);
      const n = sock.events.length;
      expect((await owner.patch(`/api/v1/tenants/${world.customerAId}`, { name: 'Customer A6' })).status).toBe(200);
      expect((await owner.patch(`/api/v1/tenants/${world.customerCId}`, { name: 'Customer C3' })).status).toBe(200);
      await waitFor(ownerSock.events, (e) => e.payload.id === world.customerCId && e.type === 'tenant.updated', 'marker event');
      expect(sock.events.length).toBe(n);
    });
  });
});
