import { createHmac } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPanel, type TestPanel } from '@mpanel/sdk/testing';
import { startReceiver, until, type Receiver } from './receiver.js';

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const API = '/api/v1/p/webhooks';
/** Fast retries for tests; the receiver listens on 127.0.0.1, so private networks are allowed. */
const SETTINGS = { baseDelayMs: 50, maxDelayMs: 1000, maxAttempts: 3, timeoutMs: 2000, allowPrivateNetworks: true };

/** What a receiver does to check a delivery: HMAC-SHA256 of "<timestamp>.<body>" with the endpoint secret. */
function expectedSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

describe('webhooks plugin (SDK test harness, real core + PostgreSQL + a real HTTP receiver)', () => {
  let t: TestPanel;
  const receivers: Receiver[] = [];
  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const createTenant = async (parentId: string, kind: 'reseller' | 'customer', name: string): Promise<string> => {
    const res = await t.as('owner').post('/api/v1/tenants', { parentId, kind, name });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const createEndpoint = async (role: 'admin' | 'reseller' | 'owner', body: Record<string, unknown>) => {
    const res = await t.as(role).post(`${API}/endpoints`, body);
    expect(res.status, res.text).toBe(201);
    return res.body as { id: string; secret: string; tenantId: string };
  };
  const delivery = async (id: string) => (await t.as('admin').get(`${API}/deliveries/${id}`)).body;

  beforeAll(async () => {
    t = await createTestPanel({ plugins: [pluginDir], settings: { webhooks: SETTINGS } });
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await t?.close();
  });

  it('delivers a signed tenant.created caused by a real API action', async () => {
    const r = await receiver();
    const ep = await createEndpoint('admin', { url: r.url, events: ['tenant.created'], description: 'CRM sync' });
    expect(ep.secret).toMatch(/^whsec_[A-Za-z0-9_-]{40,}$/);
    expect(ep.tenantId).toBe(t.tenants.platform);
    // The secret is shown once: reads only carry a hint.
    const read = await t.as('admin').get(`${API}/endpoints/${ep.id}`);
    expect(read.status).toBe(200);
    expect(read.body.secret).toBeUndefined();
    expect(read.body.secretHint).toBe(`whsec_…${ep.secret.slice(-4)}`);
    expect(read.text).not.toContain(ep.secret);

    const tenantId = await createTenant(t.tenants.reseller, 'customer', 'Hooked Ltd');
    const got = await until('tenant.created at the receiver', () => r.requests.find((q) => q.json?.payload?.id === tenantId));

    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['x-mpanel-event']).toBe('tenant.created');
    const ts = String(got.headers['x-mpanel-timestamp']);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(60);
    expect(got.headers['x-mpanel-signature']).toBe(expectedSignature(ep.secret, ts, got.body));
    expect(got.headers['x-mpanel-signature']).not.toBe(expectedSignature('whsec_wrong', ts, got.body));
    expect(got.json).toEqual({
      id: expect.any(String), type: 'tenant.created', createdAt: expect.any(String), tenantId,
      payload: expect.objectContaining({ id: tenantId, name: 'Hooked Ltd', kind: 'customer', parentId: t.tenants.reseller }),
    });
    expect(Object.keys(got.json).sort()).toEqual(['createdAt', 'id', 'payload', 'tenantId', 'type']);

    const deliveryId = String(got.headers['x-mpanel-delivery']);
    expect(deliveryId).toMatch(/^[0-9a-f-]{36}$/);
    const logged = await until('the delivery marked delivered', async () => {
      const d = await delivery(deliveryId);
      return d.state === 'delivered' && d;
    });
    expect(logged).toMatchObject({ endpointId: ep.id, eventType: 'tenant.created', attempts: 1, statusCode: 200, lastError: null, body: got.body });

    const list = await t.as('admin').get(`${API}/deliveries?endpointId=${ep.id}&eventType=tenant.*`);
    expect(list.status).toBe(200);
    expect(list.body.items.map((d: { id: string }) => d.id)).toContain(deliveryId);
    // Persisted before sending: the row exists in the plugin's own schema.
    const rows = await t.sql<{ n: string }>('select count(*) as n from plugin_webhooks.delivery where endpoint_id = $1', [ep.id]);
    expect(Number(rows[0]!.n)).toBeGreaterThanOrEqual(1);
    const audit = await t.as('owner').get('/api/v1/audit?action=webhooks.endpoint.create');
    expect(audit.body.items[0]).toMatchObject({ target: `webhook-endpoint:${ep.id}`, outcome: 'success' });
  });

  it('retries a failing receiver with exponential backoff until it answers 2xx', async () => {
    const r = await receiver();
    r.failFirst(2);
    const ep = await createEndpoint('admin', { url: r.url, events: ['nothing.matches'] });
    const ping = await t.as('admin').post(`${API}/endpoints/${ep.id}/test`);
    expect(ping.status).toBe(202);
    expect(ping.body).toMatchObject({ eventType: 'webhooks.ping', state: 'pending', attempts: 0 });
    const done = await until('the ping delivered', async () => {
      const d = await delivery(ping.body.id);
      return d.state === 'delivered' && d;
    });
    expect(done.attempts).toBe(3);
    expect(done.statusCode).toBe(200);
    const tries = r.forDelivery(ping.body.id);
    expect(tries.map((q) => q.status)).toEqual([500, 500, 200]);
    // Same delivery id and body on every attempt, each signed afresh.
    expect(new Set(tries.map((q) => q.body)).size).toBe(1);
    for (const q of tries) expect(q.headers['x-mpanel-signature']).toBe(expectedSignature(ep.secret, String(q.headers['x-mpanel-timestamp']), q.body));
    // Backoff: base 50 ms, doubled, ±20 % jitter → at least 40 ms, then at least 80 ms.
    expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(40);
    expect(tries[2]!.at - tries[1]!.at).toBeGreaterThanOrEqual(80);
    expect(tries[0]!.json).toMatchObject({ type: 'webhooks.ping', tenantId: t.tenants.platform, payload: { endpointId: ep.id } });
  });

  it('marks a delivery failed after maxAttempts, audits it, and replays it on request', async () => {
    const r = await receiver();
    r.failAlways(503);
    const ep = await createEndpoint('admin', { url: r.url, events: ['nothing.matches'] });
    const ping = await t.as('admin').post(`${API}/endpoints/${ep.id}/test`);
    const failed = await until('the ping to fail for good', async () => {
      const d = await delivery(ping.body.id);
      return d.state === 'failed' && d;
    });
    expect(failed).toMatchObject({ attempts: SETTINGS.maxAttempts, statusCode: 503, nextAttemptAt: null });
    expect(failed.lastError).toMatch(/^HTTP 503/);
    expect(r.forDelivery(ping.body.id)).toHaveLength(SETTINGS.maxAttempts);
    const filtered = await t.as('auditor').get(`${API}/deliveries?state=failed&endpointId=${ep.id}`);
    expect(filtered.body.items.map((d: { id: string }) => d.id)).toEqual([ping.body.id]);
    const audit = await t.as('owner').get('/api/v1/audit?action=webhooks.delivery.failed');
    expect(audit.body.items.map((a: { target: string }) => a.target)).toContain(`delivery:${ping.body.id}`);

    // Replay: a new delivery with the same body; the original stays in the log.
    r.heal();
    expect((await t.as('auditor').post(`${API}/deliveries/${ping.body.id}/replay`)).status).toBe(403);
    const replay = await t.as('admin').post(`${API}/deliveries/${ping.body.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toMatchObject({ replayOf: ping.body.id, state: 'pending', eventType: 'webhooks.ping' });
    const redelivered = await until('the replay delivered', async () => {
      const d = await delivery(replay.body.id);
      return d.state === 'delivered' && d;
    });
    expect(redelivered.attempts).toBe(1);
    const again = r.forDelivery(replay.body.id);
    expect(again).toHaveLength(1);
    expect(again[0]!.body).toBe(r.forDelivery(ping.body.id)[0]!.body);
    expect((await delivery(ping.body.id)).state).toBe('failed');
    const replayAudit = await t.as('owner').get('/api/v1/audit?action=webhooks.delivery.replay');
    expect(replayAudit.body.items[0]).toMatchObject({ target: `delivery:${ping.body.id}`, outcome: 'success' });
    // A delivery that is still being attempted is not replayed (the receiver hangs for the 2 s timeout).
    const slow = await receiver();
    slow.hang(true);
    const slowEp = await createEndpoint('admin', { url: slow.url, events: ['nothing.matches'] });
    const inFlight = await t.as('admin').post(`${API}/endpoints/${slowEp.id}/test`);
    const pending = await t.as('admin').post(`${API}/deliveries/${inFlight.body.id}/replay`);
    expect(pending.status).toBe(409);
    expect(pending.body.code).toBe('delivery-pending');
    expect((await t.as('admin').delete(`${API}/endpoints/${slowEp.id}`)).status).toBe(204);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const r = await receiver();
    r.hang(true);
    expect((await t.as('owner').request('PUT', '/api/v1/plugins/webhooks/settings', { ...SETTINGS, timeoutMs: 300, maxAttempts: 1 })).status).toBe(200);
    try {
      const ep = await createEndpoint('admin', { url: r.url, events: ['nothing.matches'] });
      const ping = await t.as('admin').post(`${API}/endpoints/${ep.id}/test`);
      const failed = await until('the hanging ping to fail', async () => {
        const d = await delivery(ping.body.id);
        return d.state === 'failed' && d;
      });
      expect(failed).toMatchObject({ attempts: 1, statusCode: null, lastError: 'timed out after 300 ms' });
    } finally {
      expect((await t.as('owner').request('PUT', '/api/v1/plugins/webhooks/settings', SETTINGS)).status).toBe(200);
    }
  });

  it('keeps endpoints and deliveries inside the tenant subtree', async () => {
    const r = await receiver();
    const resellerEp = await createEndpoint('reseller', { url: r.url, events: ['nothing.matches'] });
    expect(resellerEp.tenantId).toBe(t.tenants.reseller);
    const customerEp = await createEndpoint('reseller', { url: r.url, events: ['nothing.matches'], tenantId: t.tenants.customer });
    expect(customerEp.tenantId).toBe(t.tenants.customer);
    const adminEp = await createEndpoint('admin', { url: r.url, events: ['nothing.matches'] });
    // The reseller cannot place an endpoint above itself.
    const above = await t.as('reseller').post(`${API}/endpoints`, { url: r.url, tenantId: t.tenants.platform });
    expect(above.status).toBe(404);
    expect(above.headers.get('content-type')).toContain('application/problem+json');

    // Customers hold no webhooks permission by default.
    for (const who of ['customer', 'otherCustomer'] as const) {
      expect((await t.as(who).get(`${API}/endpoints`)).status).toBe(403);
      expect((await t.as(who).get(`${API}/endpoints/${resellerEp.id}`)).status).toBe(403);
      expect((await t.as(who).patch(`${API}/endpoints/${resellerEp.id}`, { active: false })).status).toBe(403);
      expect((await t.as(who).get(`${API}/deliveries`)).status).toBe(403);
    }

    // The reseller sees its subtree, not the platform's endpoints.
    const mine = (await t.as('reseller').get(`${API}/endpoints?limit=200`)).body.items.map((e: { id: string }) => e.id);
    expect(mine).toEqual(expect.arrayContaining([resellerEp.id, customerEp.id]));
    expect(mine).not.toContain(adminEp.id);
    expect((await t.as('reseller').get(`${API}/endpoints/${adminEp.id}`)).status).toBe(404);
    expect((await t.as('reseller').patch(`${API}/endpoints/${adminEp.id}`, { active: false })).status).toBe(404);
    expect((await t.as('reseller').delete(`${API}/endpoints/${adminEp.id}`)).status).toBe(404);
    expect((await t.as('reseller').post(`${API}/endpoints/${adminEp.id}/test`)).status).toBe(404);
    const adminPing = await t.as('admin').post(`${API}/endpoints/${adminEp.id}/test`);
    await until('the admin ping delivered', async () => (await delivery(adminPing.body.id)).state === 'delivered');
    expect((await t.as('reseller').get(`${API}/deliveries/${adminPing.body.id}`)).status).toBe(404);
    expect((await t.as('reseller').post(`${API}/deliveries/${adminPing.body.id}/replay`)).status).toBe(404);
    const resellerLog = (await t.as('reseller').get(`${API}/deliveries?limit=200`)).body.items.map((d: { id: string }) => d.id);
    expect(resellerLog).not.toContain(adminPing.body.id);
    // Admins see everything below the platform; the auditor reads but cannot write.
    const all = (await t.as('admin').get(`${API}/endpoints?limit=200`)).body.items.map((e: { id: string }) => e.id);
    expect(all).toEqual(expect.arrayContaining([resellerEp.id, customerEp.id, adminEp.id]));
    expect((await t.as('auditor').get(`${API}/endpoints/${resellerEp.id}`)).status).toBe(200);
    expect((await t.as('auditor').post(`${API}/endpoints`, { url: r.url })).status).toBe(403);

    // A customer given webhooks.read (custom role) sees only its own tenant's endpoint.
    const role = await t.as('owner').post('/api/v1/roles', { tenantId: t.tenants.platform, key: 'hook-viewer', name: 'Webhook viewer', permissions: ['webhooks.read'] });
    expect(role.status, role.text).toBe(201);
    const bind = await t.as('owner').post(`/api/v1/users/${t.users.customer.id}/roles`, { role: 'hook-viewer' });
    expect(bind.status, bind.text).toBe(201);
    const customerView = (await t.as('customer').get(`${API}/endpoints?limit=200`)).body.items.map((e: { id: string }) => e.id);
    expect(customerView).toEqual([customerEp.id]);
    expect((await t.as('customer').get(`${API}/endpoints/${resellerEp.id}`)).status).toBe(404);
    expect((await t.as('customer').patch(`${API}/endpoints/${customerEp.id}`, { active: false })).status).toBe(403);
    expect((await t.as('otherCustomer').get(`${API}/endpoints`)).status).toBe(403);

    // The reseller manages its customer's endpoint.
    const off = await t.as('reseller').patch(`${API}/endpoints/${customerEp.id}`, { active: false, description: 'paused' });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ active: false, description: 'paused' });
    expect((await t.as('reseller').post(`${API}/endpoints/${customerEp.id}/test`)).status).toBe(409);
    const rotated = await t.as('reseller').post(`${API}/endpoints/${customerEp.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(customerEp.secret);
    expect((await t.as('reseller').delete(`${API}/endpoints/${customerEp.id}`)).status).toBe(204);
    expect((await t.as('reseller').get(`${API}/endpoints/${customerEp.id}`)).status).toBe(404);
  });

  it('does not deliver events of tenants outside an endpoint\'s subtree', async () => {
    const rootR = await receiver();
    const resellerR = await receiver();
    await createEndpoint('admin', { url: rootR.url, events: ['tenant.created'] });
    const resellerEp = await createEndpoint('reseller', { url: resellerR.url, events: ['tenant.*'] });
    const outside = await createTenant(t.tenants.platform, 'reseller', 'Competitor');
    const inside = await createTenant(t.tenants.reseller, 'customer', 'Inside Co');
    await until('both tenants at the root endpoint', () => [outside, inside].every((id) => rootR.requests.some((q) => q.json?.payload?.id === id)));
    await until('the inside tenant at the reseller endpoint', () => resellerR.requests.some((q) => q.json?.payload?.id === inside));
    // Fan-out is in event order: once "inside" was fanned out, "outside" was decided too.
    expect(resellerR.requests.some((q) => q.json?.payload?.id === outside)).toBe(false);
    const rows = await t.sql<{ n: string }>(
      "select count(*) as n from plugin_webhooks.delivery where endpoint_id = $1 and body::jsonb -> 'payload' ->> 'id' = $2", [resellerEp.id, outside]);
    expect(Number(rows[0]!.n)).toBe(0);
  });

  it('answers problems for invalid URLs and event filters', async () => {
    const bad: Array<[string, number, string]> = [
      ['ftp://example.com/hook', 422, 'invalid-url'],
      ['javascript:alert(1)', 422, 'invalid-url'],
      ['http://user:secret@example.com/hook', 422, 'invalid-url'],
      ['https://:secret@example.com/hook', 422, 'invalid-url'],
      ['example.com/hook', 422, 'invalid-url'],
      ['http://exa mple.com/', 422, 'invalid-url'],
      ['http://example.com/\nx', 422, 'invalid-url'],
      [`https://example.com/${'a'.repeat(2100)}`, 400, 'validation-failed'],
      ['', 400, 'validation-failed'],
    ];
    for (const [url, status, code] of bad) {
      const res = await t.as('admin').post(`${API}/endpoints`, { url });
      expect(res.status, url).toBe(status);
      expect(res.body.code, url).toBe(code);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
    }
    expect((await t.as('admin').post(`${API}/endpoints`, { url: 42 })).status).toBe(400);
    expect((await t.as('admin').post(`${API}/endpoints`, { url: 'https://example.com/', events: ['Not A Pattern'] })).status).toBe(400);
    expect((await t.as('admin').post(`${API}/endpoints`, { url: 'https://example.com/', events: [] })).status).toBe(400);
    expect((await t.as('admin').post(`${API}/endpoints`, { url: 'https://example.com/', extra: true })).status).toBe(400);
    expect((await t.as('admin').get(`${API}/deliveries?cursor=garbage`)).status).toBe(400);
    const ok = await t.as('admin').post(`${API}/endpoints`, { url: 'https://example.com/hooks', events: ['user.created', 'tenant.*', '*'] });
    expect(ok.status).toBe(201);
    expect((await t.as('admin').patch(`${API}/endpoints/${ok.body.id}`, { url: 'gopher://example.com/' })).status).toBe(422);
    expect((await t.as('admin').patch(`${API}/endpoints/${ok.body.id}`, {})).status).toBe(400);
    expect((await t.as('admin').delete(`${API}/endpoints/${ok.body.id}`)).status).toBe(204);

    // With private networks disallowed (the default), loopback and metadata addresses are refused.
    expect((await t.as('owner').request('PUT', '/api/v1/plugins/webhooks/settings', { ...SETTINGS, allowPrivateNetworks: false })).status).toBe(200);
    try {
      for (const url of ['http://127.0.0.1:8080/', 'http://localhost/hook', 'http://[::1]/', 'http://169.254.169.254/latest/meta-data', 'http://10.1.2.3/', 'http://[::ffff:127.0.0.1]/']) {
        const res = await t.as('admin').post(`${API}/endpoints`, { url });
        expect(res.status, url).toBe(422);
        expect(res.body.code, url).toBe('url-not-allowed');
      }
    } finally {
      expect((await t.as('owner').request('PUT', '/api/v1/plugins/webhooks/settings', SETTINGS)).status).toBe(200);
    }
  });

  it('disabling the plugin stops deliveries; enabling resumes them', async () => {
    const rootR = await receiver();
    const resellerR = await receiver();
    await createEndpoint('admin', { url: rootR.url, events: ['tenant.created', 'plugin.*'] });
    await createEndpoint('reseller', { url: resellerR.url, events: ['tenant.created', 'plugin.*'] });

    const off = await t.as('owner').post('/api/v1/plugins/webhooks/disable');
    expect(off.status).toBe(200);
    expect(off.body.state).toBe('disabled');
    expect((await t.as('admin').get(`${API}/endpoints`)).status).toBe(404);
    const whileOff = await createTenant(t.tenants.reseller, 'customer', 'Created while disabled');
    // Wait until the event bus has handed the event to the (remaining) subscribers.
    await until('the outbox to deliver the event', async () => {
      const rows = await t.sql<{ delivered_at: Date | null }>(
        "select delivered_at from public.outbox_event where type = 'tenant.created' and payload ->> 'id' = $1", [whileOff]);
      return rows[0]?.delivered_at;
    });

    const on = await t.as('owner').post('/api/v1/plugins/webhooks/enable');
    expect(on.status).toBe(200);
    const afterOn = await createTenant(t.tenants.reseller, 'customer', 'Created after enabling');
    await until('the new tenant at both endpoints', () =>
      [rootR, resellerR].every((r) => r.requests.some((q) => q.json?.payload?.id === afterOn)));
    for (const r of [rootR, resellerR]) expect(r.requests.some((q) => q.json?.payload?.id === whileOff)).toBe(false);
    // plugin.enabled concerns no tenant: only the root endpoint gets it.
    await until('plugin.enabled at the root endpoint', () => rootR.requests.some((q) => q.json?.type === 'plugin.enabled'));
    expect(resellerR.requests.some((q) => q.json?.type === 'plugin.enabled')).toBe(false);
    expect(rootR.requests.some((q) => q.json?.type === 'plugin.disabled')).toBe(false);
  });
});
