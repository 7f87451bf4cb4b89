import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { OWNER, startTestPanel, type TestPanel } from './helpers/panel.js';
import { sql } from './helpers/db.js';

const SETUP = '/api/v1/setup';

function expectProblem(res: { status: number; headers: Headers; body: any }, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body.code).toBe(code);
  expect(res.body.status).toBe(status);
  expect(res.body.type).toBe(`urn:mpanel:problem:${code}`);
}

describe('first-run setup', () => {
  let tp: TestPanel | undefined;
  afterEach(async () => {
    await tp?.close();
    tp = undefined;
  });

  it('writes the one-time token to <data dir>/setup-token with mode 0600', async () => {
    tp = await startTestPanel();
    expect(tp.panel.setupToken).toEqual(expect.any(String));
    expect(tp.panel.setupToken!.length).toBeGreaterThanOrEqual(24);
    const file = path.join(tp.dataDir, 'setup-token');
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim()).toBe(tp.panel.setupToken);
    // Only a hash of the token is kept in the database.
    const state = await sql(tp.db!.url, `select value::text as v from system_state where key = 'setup'`);
    expect(state).toHaveLength(1);
    expect(state[0]!.v).not.toContain(tp.panel.setupToken!);
    const res = await tp.client().get(SETUP);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ needed: true });
  });

  it('refuses setup without a token or with a wrong one (403 setup-token-invalid) and creates nothing', async () => {
    tp = await startTestPanel();
    const c = tp.client();
    expectProblem(await c.post(SETUP, { ...OWNER }), 403, 'setup-token-invalid');
    expectProblem(await c.post(SETUP, { ...OWNER, token: '' }), 403, 'setup-token-invalid');
    expectProblem(await c.post(SETUP, { ...OWNER, token: 'wrong-token-value' }), 403, 'setup-token-invalid');
    // A token differing in one character.
    const t = tp.panel.setupToken!;
    const almost = t.slice(0, -1) + (t.endsWith('A') ? 'B' : 'A');
    expectProblem(await c.post(SETUP, { ...OWNER, token: almost }), 403, 'setup-token-invalid');
    expect(await sql(tp.db!.url, 'select id from app_user')).toHaveLength(0);
    expect(await sql(tp.db!.url, 'select id from tenant')).toHaveLength(0);
    expect(fs.existsSync(path.join(tp.dataDir, 'setup-token'))).toBe(true);
    expect((await c.get(SETUP)).body).toEqual({ needed: true });
    // The failed attempts are audited.
    const failures = await sql(tp.db!.url, `select outcome, details from audit_entry where action = 'setup.complete'`);
    expect(failures.length).toBeGreaterThanOrEqual(3);
    expect(failures.every((f) => f.outcome === 'failure')).toBe(true);
  });

  it('succeeds once with the right token (201), removes the token file, then answers 409 setup-done', async () => {
    tp = await startTestPanel();
    const c = tp.client();
    const token = tp.panel.setupToken!;
    const res = await c.post(SETUP, { ...OWNER, token, tenantName: 'Acme Hosting' });
    expect(res.status, res.text).toBe(201);
    expect(res.body.user.email).toBe(OWNER.email);
    expect(res.body.tenant.name).toBe('Acme Hosting');
    expect(JSON.stringify(res.body)).not.toContain('password');
    expect(fs.existsSync(path.join(tp.dataDir, 'setup-token'))).toBe(false);
    expect((await c.get(SETUP)).body).toEqual({ needed: false });

    // The owner can log in and holds everything on the platform tenant.
    const owner = tp.client();
    await owner.login(OWNER.email, OWNER.password);
    const me = await owner.get('/api/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body.tenant.id).toBe(res.body.tenant.id);
    expect(me.body.permissions).toContain('*');

    // Same token again, a wrong token, another e-mail: all 409 setup-done.
    expectProblem(await c.post(SETUP, { ...OWNER, token }), 409, 'setup-done');
    expectProblem(await c.post(SETUP, { ...OWNER, email: 'other@example.test', token: 'whatever-token' }), 409, 'setup-done');
    expect(await sql(tp.db!.url, 'select id from app_user')).toHaveLength(1);
    expect(await sql(tp.db!.url, 'select id from tenant')).toHaveLength(1);
  });

  it('audits the completed setup as setup.complete naming the new owner', async () => {
    tp = await startTestPanel();
    const res = await tp.client().post(SETUP, { ...OWNER, token: tp.panel.setupToken! });
    expect(res.status).toBe(201);
    const rows = await sql(tp.db!.url, `select target, outcome, tenant_id, details from audit_entry where action = 'setup.complete' and outcome = 'success'`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.target).toBe(`user:${res.body.user.id}`);
    expect(rows[0]!.tenant_id).toBe(res.body.tenant.id);
    expect(rows[0]!.details.email).toBe(OWNER.email);
    // Neither the password nor the setup token ends up in the audit trail.
    const all = JSON.stringify(await sql(tp.db!.url, 'select * from audit_entry'));
    expect(all).not.toContain(OWNER.password);
    expect(all).not.toContain(tp.panel.setupToken!);
  });

  it('concurrent setups with the right token: exactly one succeeds, the others get 409', async () => {
    tp = await startTestPanel();
    const token = tp.panel.setupToken!;
    const attempts = await Promise.all(
      Array.from({ length: 5 }, (_, i) => tp!.client().post(SETUP, { token, email: `owner${i}@example.test`, password: OWNER.password, name: `Owner ${i}` })),
    );
    const statuses = attempts.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409, 409]);
    for (const r of attempts.filter((a) => a.status === 409)) expect(r.body.code).toBe('setup-done');
    expect(await sql(tp.db!.url, 'select id from app_user')).toHaveLength(1);
    expect(await sql(tp.db!.url, `select id from tenant where kind = 'platform'`)).toHaveLength(1);
    expect(await sql(tp.db!.url, `select seq from audit_entry where action = 'setup.complete' and outcome = 'success'`)).toHaveLength(1);
  });

  it('rejects a weak owner password with 400 and keeps setup open', async () => {
    tp = await startTestPanel();
    const c = tp.client();
    const res = await c.post(SETUP, { ...OWNER, password: 'aaaaaaaaaaaa', token: tp.panel.setupToken! });
    expectProblem(res, 400, 'validation-failed');
    expect((await c.get(SETUP)).body).toEqual({ needed: true });
    expect(fs.existsSync(path.join(tp.dataDir, 'setup-token'))).toBe(true);
  });

  it('a restart before setup writes a fresh token (the old one stops working); after setup no token is written', async () => {
    tp = await startTestPanel();
    const first = tp.panel.setupToken!;
    const db = tp.db!;
    const dataDir = tp.dataDir;
    await tp.panel.close();
    const again = await startTestPanel({ db, dataDir });
    try {
      const second = again.panel.setupToken!;
      expect(second).not.toBe(first);
      expect(fs.readFileSync(path.join(dataDir, 'setup-token'), 'utf8').trim()).toBe(second);
      expectProblem(await again.client().post(SETUP, { ...OWNER, token: first }), 403, 'setup-token-invalid');
      expect((await again.client().post(SETUP, { ...OWNER, token: second })).status).toBe(201);
    } finally {
      await again.panel.close();
    }
    const third = await startTestPanel({ db, dataDir });
    try {
      expect(third.panel.setupToken).toBeNull();
      expect(fs.existsSync(path.join(dataDir, 'setup-token'))).toBe(false);
    } finally {
      await third.panel.close();
    }
    await db.drop();
    tp = undefined;
  });
});
