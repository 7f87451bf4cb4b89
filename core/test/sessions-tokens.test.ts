import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, startTestPanel, type TestPanel } from './helpers/panel.js';
import { buildWorld, PASSWORD, type World } from './helpers/world.js';
import { sql } from './helpers/db.js';
import { auditOf, dumpDatabase, expectProblem } from './helpers/auth-helpers.js';
import type { TestClient } from './helpers/client.js';

const ME = '/api/v1/auth/me';
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

async function sessionIdOf(c: TestClient): Promise<string> {
  const me = await c.get(ME);
  expect(me.status, me.text).toBe(200);
  return me.body.sessionId;
}

describe('sessions', () => {
  let tp: TestPanel;
  let world: World;
  /** A user in customer C (directly under the platform, outside the reseller's subtree). */
  let customerC: { id: string; client: TestClient };

  beforeAll(async () => {
    tp = await startTestPanel({ config: { loginMaxFailuresPerIp: 1000 } });
    world = await buildWorld(tp);
    const owner = world.users.owner.client;
    const r = await owner.post('/api/v1/users', { tenantId: world.customerCId, email: 'customerc@world.test', name: 'C', password: PASSWORD, roles: ['customer'] });
    expect(r.status, r.text).toBe(201);
    const client = tp.client();
    await client.login('customerc@world.test', PASSWORD);
    customerC = { id: r.body.id, client };
  });
  afterAll(async () => tp?.close());

  it('lists your own active sessions with the current one flagged', async () => {
    const { email, id } = world.users.customerA;
    const a = tp.client();
    const b = tp.client();
    await a.login(email, PASSWORD);
    await b.login(email, PASSWORD);
    const aId = await sessionIdOf(a);
    const bId = await sessionIdOf(b);
    const list = await a.get('/api/v1/auth/sessions');
    expect(list.status).toBe(200);
    const mine = list.body.filter((s: any) => s.id === aId || s.id === bId);
    expect(mine).toHaveLength(2);
    expect(list.body.every((s: any) => s.userId === id)).toBe(true);
    expect(list.body.filter((s: any) => s.current).map((s: any) => s.id)).toEqual([aId]);
    const fromB = await b.get('/api/v1/auth/sessions');
    expect(fromB.body.filter((s: any) => s.current).map((s: any) => s.id)).toEqual([bId]);
    // No secrets in the view.
    expect(JSON.stringify(list.body)).not.toMatch(/tokenHash|token_hash|csrf/i);
    for (const s of list.body) expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastSeenAt', 'userAgent', 'userId']);
  });

  it('revoking another of your sessions ends it on its next request; the current one keeps working', async () => {
    const { email } = world.users.customerA;
    const a = tp.client();
    const b = tp.client();
    await a.login(email, PASSWORD);
    await b.login(email, PASSWORD);
    const bId = await sessionIdOf(b); // also warms the credential cache
    const res = await a.delete(`/api/v1/auth/sessions/${bId}`);
    expect(res.status, res.text).toBe(204);
    expectProblem(await b.get(ME), 401, 'unauthenticated');
    expect((await a.get(ME)).status).toBe(200);
    const list = await a.get('/api/v1/auth/sessions');
    expect(list.body.map((s: any) => s.id)).not.toContain(bId);
    // Revoking it again: 404.
    expectProblem(await a.delete(`/api/v1/auth/sessions/${bId}`), 404, 'not-found');
    const audit = (await auditOf(tp, 'auth.session.revoke')).filter((r) => r.target === `session:${bId}`);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.outcome).toBe('success');
  });

  it('a user cannot end another user\'s session through /auth/sessions (404), nor through /sessions without session.manage (403)', async () => {
    const bSession = await sessionIdOf(world.users.customerB.client);
    const a = world.users.customerA.client;
    expectProblem(await a.delete(`/api/v1/auth/sessions/${bSession}`), 404, 'not-found');
    expectProblem(await a.delete(`/api/v1/sessions/${bSession}`), 403, 'forbidden');
    expectProblem(await a.get('/api/v1/sessions'), 403, 'forbidden');
    expect((await world.users.customerB.client.get(ME)).status).toBe(200);
  });

  it('admins see sessions of the whole platform; a reseller only those in its subtree', async () => {
    const ids = {
      admin: await sessionIdOf(world.users.admin.client),
      reseller: await sessionIdOf(world.users.reseller.client),
      customerA: await sessionIdOf(world.users.customerA.client),
      customerB: await sessionIdOf(world.users.customerB.client),
      customerC: await sessionIdOf(customerC.client),
      owner: await sessionIdOf(world.users.owner.client),
    };
    const asAdmin = await world.users.admin.client.get('/api/v1/sessions');
    expect(asAdmin.status).toBe(200);
    const adminSees = asAdmin.body.map((s: any) => s.id);
    for (const id of Object.values(ids)) expect(adminSees).toContain(id);

    const asReseller = await world.users.reseller.client.get('/api/v1/sessions');
    expect(asReseller.status).toBe(200);
    const resellerSees = asReseller.body.map((s: any) => s.id);
    expect(resellerSees).toEqual(expect.arrayContaining([ids.reseller, ids.customerA, ids.customerB]));
    for (const id of [ids.admin, ids.owner, ids.customerC]) expect(resellerSees).not.toContain(id);
    const inSubtree = new Set([world.users.reseller.id, world.users.customerA.id, world.users.customerB.id]);
    expect(asReseller.body.every((s: any) => inSubtree.has(s.userId))).toBe(true);

    // Filtering on a user outside the subtree yields nothing.
    const filtered = await world.users.reseller.client.get(`/api/v1/sessions?userId=${world.users.admin.id}`);
    expect(filtered.status).toBe(200);
    expect(filtered.body).toEqual([]);
  });

  it('a reseller can end a customer\'s session in its subtree but not one outside it (404)', async () => {
    const victim = tp.client();
    await victim.login(world.users.customerB.email, PASSWORD);
    const victimId = await sessionIdOf(victim);
    const reseller = world.users.reseller.client;
    const res = await reseller.delete(`/api/v1/sessions/${victimId}`);
    expect(res.status, res.text).toBe(204);
    expectProblem(await victim.get(ME), 401, 'unauthenticated');
    const audit = (await auditOf(tp, 'session.revoke')).filter((r) => r.target === `session:${victimId}`);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ outcome: 'success', actor_id: world.users.reseller.id, tenant_id: world.customerBId });

    for (const outside of [await sessionIdOf(world.users.admin.client), await sessionIdOf(customerC.client)]) {
      expectProblem(await reseller.delete(`/api/v1/sessions/${outside}`), 404, 'not-found');
    }
    expect((await world.users.admin.client.get(ME)).status).toBe(200);
    expect((await customerC.client.get(ME)).status).toBe(200);
  });

  it('malformed session ids are 400, unknown ones 404', async () => {
    const admin = world.users.admin.client;
    expectProblem(await admin.delete('/api/v1/sessions/not-a-uuid'), 400, 'validation-failed');
    expectProblem(await admin.delete('/api/v1/sessions/00000000-0000-4000-8000-000000000000'), 404, 'not-found');
  });
});

describe('API tokens', () => {
  let tp: TestPanel;
  let world: World;

  beforeAll(async () => {
    tp = await startTestPanel({ config: { loginMaxFailuresPerIp: 1000 } });
    world = await buildWorld(tp);
  });
  afterAll(async () => tp?.close());

  const bearer = (secret: string) => {
    const c = tp.client();
    c.bearer = secret;
    return c;
  };

  it('returns an mpt_ secret once, stores only its SHA-256, and never lists it', async () => {
    const admin = world.users.admin.client;
    const res = await admin.post('/api/v1/auth/tokens', { name: 'deploy', permissions: ['tenant.read'] });
    expect(res.status, res.text).toBe(201);
    const { secret, token } = res.body;
    expect(secret).toMatch(/^mpt_[A-Za-z0-9_-]{40,}$/);
    expect(token).toMatchObject({ name: 'deploy', permissions: ['tenant.read'], revoked: false, lastUsedAt: null });
    expect(secret.startsWith(token.prefix)).toBe(true);
    expect(token.prefix.length).toBeLessThan(16);
    expect(JSON.stringify(token)).not.toContain(secret);

    const rows = await sql(tp.db!.url, 'select token_hash, prefix from api_token where id = $1', [token.id]);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(sha256(secret));

    const list = await admin.get('/api/v1/auth/tokens');
    expect(list.status).toBe(200);
    const listed = list.body.items.find((t: any) => t.id === token.id);
    expect(listed).toMatchObject({ id: token.id, name: 'deploy', prefix: token.prefix });
    expect(list.text).not.toContain(secret);
    expect(list.text).not.toContain(sha256(secret));

    // Use it once, then prove the secret is stored nowhere (tables, audit trail, outbox).
    expect((await bearer(secret).get('/api/v1/tenants')).status).toBe(200);
    const dump = await dumpDatabase(tp);
    expect(dump).not.toContain(secret);
    expect(dump).not.toContain(secret.slice(4));
    expect(dump).toContain(sha256(secret));
    const audit = (await auditOf(tp, 'auth.token.create')).filter((r) => r.target === `token:${token.id}`);
    expect(audit).toHaveLength(1);
    expect(audit[0]!.details.permissions).toEqual(['tenant.read']);
  });

  it('a token is limited to the permissions it was given', async () => {
    const res = await world.users.admin.client.post('/api/v1/auth/tokens', { name: 'read-tenants', permissions: ['tenant.read'] });
    expect(res.status).toBe(201);
    const bot = bearer(res.body.secret);
    const tenants = await bot.get('/api/v1/tenants');
    expect(tenants.status).toBe(200);
    expectProblem(await bot.get('/api/v1/users'), 403, 'forbidden');
    expectProblem(await bot.get('/api/v1/auth/me'), 403, 'forbidden');
    expectProblem(await bot.post('/api/v1/tenants', { parentId: world.platformId, kind: 'customer', name: 'Nope' }), 403, 'forbidden');
  });

  it('a token sees only its user\'s subtree', async () => {
    const res = await world.users.reseller.client.post('/api/v1/auth/tokens', { name: 'r', permissions: ['tenant.read', 'user.read'] });
    expect(res.status, res.text).toBe(201);
    const bot = bearer(res.body.secret);
    expectProblem(await bot.get(`/api/v1/tenants/${world.customerCId}`), 404, 'not-found');
    expect((await bot.get(`/api/v1/tenants/${world.customerAId}`)).status).toBe(200);
    const users = await bot.get('/api/v1/users?limit=500');
    expect(users.status).toBe(200);
    expect(users.body.items.map((u: any) => u.email)).not.toContain(world.users.admin.email);
  });

  it('cannot carry permissions the user does not hold (403), nor unknown ones (400)', async () => {
    const customer = world.users.customerA.client;
    const asked = await customer.post('/api/v1/auth/tokens', { name: 'escalate', permissions: ['tenant.read', 'user.create'] });
    expectProblem(asked, 403, 'forbidden');
    expect(asked.body.missing).toEqual(['user.create']);
    expectProblem(await customer.post('/api/v1/auth/tokens', { name: 'all', permissions: ['*'] }), 403, 'forbidden');
    expectProblem(await world.users.reseller.client.post('/api/v1/auth/tokens', { name: 'x', permissions: ['role.manage'] }), 403, 'forbidden');
    expectProblem(await customer.post('/api/v1/auth/tokens', { name: 'x', permissions: ['no.such-permission'] }), 400, 'validation-failed');
    expectProblem(await customer.post('/api/v1/auth/tokens', { name: 'x', permissions: [] }), 400, 'validation-failed');
    const mine = await sql(tp.db!.url, 'select id from api_token where user_id = $1', [world.users.customerA.id]);
    expect(mine).toHaveLength(0);
  });

  it('a revoked token is refused on its next request', async () => {
    const admin = world.users.admin.client;
    const res = await admin.post('/api/v1/auth/tokens', { name: 'temp', permissions: ['tenant.read'] });
    const bot = bearer(res.body.secret);
    expect((await bot.get('/api/v1/tenants')).status).toBe(200); // warm the cache
    const del = await admin.delete(`/api/v1/auth/tokens/${res.body.token.id}`);
    expect(del.status, del.text).toBe(204);
    expectProblem(await bot.get('/api/v1/tenants'), 401, 'unauthenticated');
    const listed = (await admin.get('/api/v1/auth/tokens')).body.items.find((t: any) => t.id === res.body.token.id);
    expect(listed.revoked).toBe(true);
    expectProblem(await admin.delete(`/api/v1/auth/tokens/${res.body.token.id}`), 404, 'not-found');
  });

  it('another user cannot revoke your token (404)', async () => {
    const res = await world.users.customerA.client.post('/api/v1/auth/tokens', { name: 'mine', permissions: ['tenant.read'] });
    expect(res.status).toBe(201);
    expectProblem(await world.users.customerB.client.delete(`/api/v1/auth/tokens/${res.body.token.id}`), 404, 'not-found');
    expectProblem(await world.users.admin.client.delete(`/api/v1/auth/tokens/${res.body.token.id}`), 404, 'not-found');
    expect((await bearer(res.body.secret).get('/api/v1/tenants')).status).toBe(200);
  });

  it('tokens cannot create tokens', async () => {
    const res = await world.users.admin.client.post('/api/v1/auth/tokens', { name: 'self', permissions: ['account.self', 'tenant.read'] });
    expect(res.status).toBe(201);
    const bot = bearer(res.body.secret);
    expectProblem(await bot.post('/api/v1/auth/tokens', { name: 'child', permissions: ['tenant.read'] }), 403, 'forbidden');
    const narrow = await world.users.admin.client.post('/api/v1/auth/tokens', { name: 'narrow', permissions: ['tenant.read'] });
    expectProblem(await bearer(narrow.body.secret).post('/api/v1/auth/tokens', { name: 'child', permissions: ['tenant.read'] }), 403, 'forbidden');
    const children = await sql(tp.db!.url, `select id from api_token where name = 'child'`);
    expect(children).toHaveLength(0);
  });

  it('a disabled user\'s token stops working', async () => {
    const owner = world.users.owner.client;
    const u = await owner.post('/api/v1/users', { tenantId: world.customerCId, email: 'tokenuser@world.test', name: 'T', password: PASSWORD, roles: ['customer'] });
    const c = tp.client();
    await c.login('tokenuser@world.test', PASSWORD);
    const t = await c.post('/api/v1/auth/tokens', { name: 't', permissions: ['tenant.read'] });
    const bot = bearer(t.body.secret);
    expect((await bot.get('/api/v1/tenants')).status).toBe(200);
    expect((await owner.patch(`/api/v1/users/${u.body.id}`, { disabled: true })).status).toBe(200);
    expectProblem(await bot.get('/api/v1/tenants'), 401, 'unauthenticated');
  });

  it('garbage bearer values are 401, never 500', async () => {
    for (const value of ['mpt_nope', 'not-a-token', 'mpt_' + 'x'.repeat(500)]) {
      expectProblem(await bearer(value).get('/api/v1/tenants'), 401, 'unauthenticated');
    }
    expectProblem(await tp.client().get('/api/v1/tenants', { authorization: 'Basic abc' }), 401, 'unauthenticated');
  });
});

describe('expiry (fake clock)', () => {
  let tp: TestPanel;
  let fakeNow = Date.UTC(2030, 0, 1);

  /** A freshly logged-in owner (sessions idle out as the fake clock jumps). */
  const fresh = async () => {
    const c = tp.client();
    await c.login(OWNER.email, OWNER.password);
    return c;
  };

  beforeAll(async () => {
    tp = await startTestPanel({ now: () => fakeNow, config: { sessionTtlSeconds: 3600 } });
    await tp.owner(); // runs setup
  });
  afterAll(async () => tp?.close());

  it('an expired token is refused, even when it was cached', async () => {
    const owner = await fresh();
    const res = await owner.post('/api/v1/auth/tokens', { name: 'short', permissions: ['tenant.read'], expiresInDays: 1 });
    expect(res.status, res.text).toBe(201);
    expect(Date.parse(res.body.token.expiresAt)).toBe(fakeNow + 86_400_000);
    const bot = tp.client();
    bot.bearer = res.body.secret;
    expect((await bot.get('/api/v1/tenants')).status).toBe(200);
    fakeNow += 86_400_000 - 1000;
    expect((await bot.get('/api/v1/tenants')).status).toBe(200);
    fakeNow += 2000;
    expectProblem(await bot.get('/api/v1/tenants'), 401, 'unauthenticated');
  });

  it('a token cannot be created for longer than a year', async () => {
    const owner = await fresh();
    expectProblem(await owner.post('/api/v1/auth/tokens', { name: 'forever', permissions: ['tenant.read'], expiresInDays: 366 }), 400, 'validation-failed');
  });

  it('an idle session expires after its TTL; use slides the expiry', async () => {
    const c = await fresh();
    const idle = await fresh();
    const idleId = (await idle.get(ME)).body.sessionId;
    fakeNow += 3000 * 1000; // 50 min idle
    expect((await c.get(ME)).status).toBe(200); // slides to +60 min
    fakeNow += 3000 * 1000; // 100 min after login, 50 min after last use
    expect((await c.get(ME)).status).toBe(200);
    expectProblem(await idle.get(ME), 401, 'unauthenticated');
    // The session list no longer shows the idle one.
    const list = await c.get('/api/v1/auth/sessions');
    expect(list.status).toBe(200);
    expect(list.body.map((s: any) => s.id)).not.toContain(idleId);
    fakeNow += 3601 * 1000; // idle past the TTL
    expectProblem(await c.get(ME), 401, 'unauthenticated');
  });
});
