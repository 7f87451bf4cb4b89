import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './helpers/until.js';
import { io, type Socket } from 'socket.io-client';
import { startPanelPair, OWNER, type PanelPair, type TestPanel } from './helpers/panel.js';
import type { TestClient } from './helpers/client.js';

/**
 * Two panel processes' worth of kernels on one PostgreSQL database: what one
 * revokes, the other stops accepting at once, and events caused on one reach
 * sockets connected to the other — through LISTEN/NOTIFY, no cluster protocol.
 */
describe('several panels on one PostgreSQL', () => {
  let pair: PanelPair;
  let a: TestPanel;
  let b: TestPanel;
  let ownerA: TestClient;

  beforeAll(async () => {
    // A long credential cache: only the cluster message can make B forget a session in time.
    ({ a, b, ownerA } = pair = await startPanelPair({ credentialCacheSeconds: 3600 }));
  });
  afterAll(() => pair?.close());

  it('a session revoked on one node is refused by the other on its next request', async () => {
    const c = a.client();
    await c.login(OWNER.email, OWNER.password);
    const onB = b.client();
    onB.setCookie('mpanel_session', c.cookieHeader().match(/mpanel_session=([^;]+)/)![1]!);
    expect((await onB.get('/api/v1/auth/me')).status).toBe(200); // now cached on B
    expect((await c.post('/api/v1/auth/logout')).status).toBe(204);
    await until(async () => (await onB.get('/api/v1/auth/me')).status === 401 || undefined, 'B to refuse the revoked session');
  });

  it('an event caused on one node reaches a socket connected to the other', async () => {
    const c = b.client();
    await c.login(OWNER.email, OWNER.password);
    const socket: Socket = io(b.url, { path: '/socket.io', transports: ['websocket'], extraHeaders: { cookie: c.cookieHeader() }, reconnection: false });
    const seen: Array<{ type: string; payload: { name?: string } }> = [];
    socket.on('event', (e) => seen.push(e));
    await until(() => socket.connected || undefined, 'the socket to connect');
    const me = await ownerA.get('/api/v1/auth/me');
    const created = await ownerA.post('/api/v1/tenants', { parentId: me.body.tenant.id, kind: 'customer', name: 'Made on A' });
    expect(created.status).toBe(201);
    const event = await until(() => seen.find((e) => e.type === 'tenant.created' && e.payload.name === 'Made on A'), 'the event on B’s socket');
    expect(event).toBeTruthy();
    socket.close();
  });
});
