import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import http from 'node:http';
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, type TestPanel } from './helpers/panel.js';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { BIN, ensureBuilt } from './helpers/build.js';

const WAIT_MS = 60_000;

/** Resolves when a TCP connection to the port succeeds (true) or is refused (false). */
function tryConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/** A GET on a fresh (non-pooled) connection. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess, ms = WAIT_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    const t = setTimeout(() => reject(new Error(`process did not exit within ${ms} ms`)), ms);
    child.once('exit', (code, signal) => { clearTimeout(t); resolve({ code, signal }); });
  });
}

describe('graceful shutdown (in process)', () => {
  let tp: TestPanel;
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await tp?.panel.close();
    await db?.drop();
  });

  it('finishes the in-flight request, refuses new connections once close begins, and resolves', async () => {
    tp = await startTestPanel({ db });
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    tp.panel.kernel.routes.register({
      method: 'GET',
      path: '/api/v1/test/slow',
      summary: 'slow',
      public: true,
      handler: async () => {
        started();
        await gate;
        await new Promise((r) => setTimeout(r, 500));
        return { done: true };
      },
    }, 'test');
    const port = Number(new URL(tp.url).port);
    expect((await get(`${tp.url}/readyz`)).status).toBe(200);

    const inFlight = get(`${tp.url}/api/v1/test/slow`);
    await handlerStarted;
    let closeResolved = false;
    const closing = tp.panel.close().then(() => { closeResolved = true; });
    // The listener is closed synchronously by close(): new connections are refused at once.
    expect(await tryConnect(port)).toBe(false);
    await expect(get(`${tp.url}/healthz`)).rejects.toThrow(/ECONNREFUSED/);
    // close waits for the in-flight request.
    expect(closeResolved).toBe(false);
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ done: true });
    await closing;
    expect(closeResolved).toBe(true);
    // Closing twice is harmless.
    await tp.panel.close();
  });

  it('an in-flight state change commits, is audited and its event delivered before the database closes', async () => {
    tp = await startTestPanel({ db });
    const owner = await tp.owner();
    const me = await owner.get('/api/v1/auth/me');
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const delivered: string[] = [];
    tp.panel.kernel.events.subscribe('tenant.created', (e) => void delivered.push(String(e.payload.name)));
    // Hold a tenant creation open: the route's transaction waits on this hook before commit.
    const origTenantRoute = tp.panel.kernel.routes.list().find((r) => r.def.method === 'POST' && r.def.path === '/api/v1/tenants')!.def;
    const origHandler = origTenantRoute.handler;
    origTenantRoute.handler = async (ctx) => {
      started();
      await gate;
      return origHandler(ctx);
    };
    const inFlight = owner.post('/api/v1/tenants', { parentId: me.body.tenant.id, kind: 'customer', name: 'Made during shutdown' });
    await handlerStarted;
    const closing = tp.panel.close();
    release();
    const res = await inFlight;
    expect(res.status).toBe(201);
    await closing;
    expect(delivered).toContain('Made during shutdown');
    // Start again on the same database and check the change and the audit chain.
    tp = await startTestPanel({ db });
    const c = await tp.owner();
    expect((await c.get(`/api/v1/tenants/${res.body.id}`)).status).toBe(200);
    const v = await c.get('/api/v1/audit/verify');
    expect(v.body.ok).toBe(true);
    const a = await c.get('/api/v1/audit?action=tenant.create');
    expect(a.body.items[0]).toMatchObject({ target: `tenant:${res.body.id}`, outcome: 'success' });
    await tp.panel.close();
  });

  it('a request that outlives the grace period is cut off and close still resolves', async () => {
    tp = await startTestPanel({ db, config: { shutdownGraceSeconds: 1 } });
    let started!: () => void;
    const handlerStarted = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const never = new Promise<void>((r) => (release = r));
    tp.panel.kernel.routes.register({
      method: 'GET',
      path: '/api/v1/test/stuck',
      summary: 'stuck',
      public: true,
      handler: async () => {
        started();
        await never;
        return { done: true };
      },
    }, 'test');
    const inFlight = get(`${tp.url}/api/v1/test/stuck`).then((r) => r, (e: Error) => e);
    await handlerStarted;
    await tp.panel.close();
    const outcome = await inFlight;
    expect(outcome).toBeInstanceOf(Error);
    release();
  });
});

describe('SIGTERM on the real binary', () => {
  let db: TestDatabase;
  let dataDir: string;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    db = await createTestDatabase();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-sigterm-'));
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await db?.drop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function startBinary(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, 'start'], {
      env: { ...process.env, DATABASE_URL: db.url, MPANEL_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', MPANEL_SHUTDOWN_GRACE: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`mpanel start exited early (${child.exitCode}): ${out}`);
      const r = await get(`${url}/readyz`).catch(() => null);
      if (r?.status === 200) {
        expect(JSON.parse(r.body)).toEqual({ status: 'ready', database: 'postgresql' });
        break;
      }
      if (Date.now() > deadline) throw new Error(`mpanel start did not become ready: ${out}`);
      await new Promise((res) => setTimeout(res, 100));
    }
    return { child, url, output: () => out };
  }

  it('mpanel start becomes ready, prints the setup token, and exits 0 on SIGTERM', async () => {
    const { child, url, output } = await startBinary();
    expect(output()).toContain('Setup token:');
    expect((await get(`${url}/api/v1/setup`)).body).toContain('"needed":true');
    child.kill('SIGTERM');
    const { code, signal } = await exited(child);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(await tryConnect(Number(new URL(url).port))).toBe(false);
  });

  it('exits 0 on SIGINT as well', async () => {
    const { child } = await startBinary();
    child.kill('SIGINT');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
  });
});
