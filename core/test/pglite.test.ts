import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OWNER, startTestPanel, type TestPanel } from './helpers/panel.js';
import { TestClient } from './helpers/client.js';
import { ensureBuilt, runCli } from './helpers/build.js';

// PGlite loads its WASM on the first query (~5 s); every hook gets a generous timeout.
const SLOW = 180_000;

describe('the whole core on the embedded PGlite', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-pglite-'));
  let tp: TestPanel | null = null;
  let cookie = '';
  let csrf = '';
  let platformId = '';
  let tenantId = '';

  beforeAll(async () => {
    tp = await startTestPanel({ pglite: true, dataDir });
  }, SLOW);
  afterAll(async () => {
    await tp?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, SLOW);

  it('first start: a setup token, then setup → login → me → create a tenant', async () => {
    expect(tp!.db).toBeNull();
    const ready = await tp!.client().get('/readyz');
    expect(ready.body).toEqual({ status: 'ready', database: 'pglite' });
    expect(fs.existsSync(path.join(dataDir, 'pgdata'))).toBe(true);
    const token = tp!.panel.setupToken;
    expect(token).toBeTruthy();
    expect(fs.readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()).toBe(token);
    const c = tp!.client();
    expect((await c.get('/api/v1/setup')).body).toEqual({ needed: true });
    const setup = await c.post('/api/v1/setup', { token, ...OWNER });
    expect(setup.status).toBe(201);
    expect(fs.existsSync(path.join(dataDir, 'setup-token'))).toBe(false);
    await c.login(OWNER.email, OWNER.password);
    const me = await c.get('/api/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(OWNER.email);
    platformId = me.body.tenant.id;
    const t = await c.post('/api/v1/tenants', { parentId: platformId, kind: 'reseller', name: 'Embedded Reseller' });
    expect(t.status).toBe(201);
    tenantId = t.body.id;
    const u = await c.post('/api/v1/users', { tenantId, email: 'pg-reseller@example.test', name: 'R', password: 'quiet-meadow-4411', roles: ['reseller'] });
    expect(u.status).toBe(201);
    const v = await c.get('/api/v1/audit/verify');
    expect(v.body).toMatchObject({ ok: true });
    expect(v.body.checked).toBeGreaterThanOrEqual(4);
    cookie = c.cookieHeader();
    csrf = c.csrf!;
  }, SLOW);

  it('parallel changes keep the audit chain whole on PGlite too', async () => {
    const c = new TestClient(tp!.url);
    for (const part of cookie.split('; ')) {
      const i = part.indexOf('=');
      c.setCookie(part.slice(0, i), part.slice(i + 1));
    }
    c.csrf = csrf;
    const res = await Promise.all(Array.from({ length: 8 }, (_, i) => c.post('/api/v1/tenants', { parentId: tenantId, kind: 'customer', name: `Embedded ${i}` })));
    expect(res.map((r) => r.status)).toEqual(Array(8).fill(201));
    const v = await c.get('/api/v1/audit/verify');
    expect(v.body.ok).toBe(true);
    const all = await c.get('/api/v1/audit?limit=500');
    const seqs = all.body.items.map((e: { seq: number }) => e.seq);
    expect(seqs).toEqual(Array.from({ length: seqs.length }, (_, i) => seqs.length - i));
  }, SLOW);

  it('after a restart on the same data dir: the session, the data and the setup state survive', async () => {
    await tp!.close();
    tp = null;
    tp = await startTestPanel({ pglite: true, dataDir });
    expect(tp.panel.setupToken).toBeNull();
    expect(fs.existsSync(path.join(dataDir, 'setup-token'))).toBe(false);
    const c = new TestClient(tp.url);
    expect((await c.get('/api/v1/setup')).body).toEqual({ needed: false });
    for (const part of cookie.split('; ')) {
      const i = part.indexOf('=');
      c.setCookie(part.slice(0, i), part.slice(i + 1));
    }
    c.csrf = csrf;
    const me = await c.get('/api/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(OWNER.email);
    const t = await c.get(`/api/v1/tenants/${tenantId}`);
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ name: 'Embedded Reseller', kind: 'reseller', parentId: platformId });
    const children = await c.get(`/api/v1/tenants?parentId=${tenantId}&limit=100`);
    expect(children.body.items).toHaveLength(8);
    // State changes still work with the old CSRF token, and the chain continues across the restart.
    const again = await c.patch(`/api/v1/tenants/${tenantId}`, { name: 'Embedded Reseller 2' });
    expect(again.status).toBe(200);
    const v = await c.get('/api/v1/audit/verify');
    expect(v.body.ok).toBe(true);
    const r = new TestClient(tp.url);
    await r.login('pg-reseller@example.test', 'quiet-meadow-4411');
    expect((await r.get(`/api/v1/tenants/${tenantId}`)).body.name).toBe('Embedded Reseller 2');
    // A second setup is refused.
    expect((await tp.client().post('/api/v1/setup', { token: 'x', ...OWNER })).status).toBeGreaterThanOrEqual(400);
  }, SLOW);
});

describe('the CLI on the embedded PGlite (no DATABASE_URL)', () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-pglite-cli-'));
  const env = { DATABASE_URL: '', MPANEL_DATA_DIR: dataDir };
  let tp: TestPanel | null = null;

  beforeAll(async () => {
    await ensureBuilt();
  }, SLOW);
  afterAll(async () => {
    await tp?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, SLOW);

  it('migrate, user create --owner and audit verify work; the panel then starts on the same data', async () => {
    const m = await runCli(['migrate'], { env, timeoutMs: SLOW });
    expect(m.code, m.stderr).toBe(0);
    expect(m.stdout).toMatch(/^applied: 0001-initial/);
    const u = await runCli(['user', 'create', '--owner', '--email', OWNER.email, '--name', OWNER.name, '--password-stdin'], { env, input: OWNER.password, timeoutMs: SLOW });
    expect(u.code, u.stderr).toBe(0);
    const v = await runCli(['audit', 'verify'], { env, timeoutMs: SLOW });
    expect(v.code, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, checked: 1, lastSeq: 1 });
    tp = await startTestPanel({ pglite: true, dataDir });
    expect(tp.panel.setupToken).toBeNull();
    const c = tp.client();
    await c.login(OWNER.email, OWNER.password);
    expect((await c.get('/api/v1/auth/me')).status).toBe(200);
  }, SLOW);
});
