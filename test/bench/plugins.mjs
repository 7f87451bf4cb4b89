#!/usr/bin/env node
/**
 * Plugin runtime benchmark (`npm run bench:plugins`):
 *
 *  1. boot time with 0 vs 10 generated plugins (each: a migration, a
 *     permission, a route). Every boot runs in a fresh child process so ESM
 *     caching can't flatter it. "cold" = first boot (installs + migrates),
 *     "warm" = a restart with everything installed (median of BENCH_BOOTS,
 *     default 7, the two series alternating).
 *  2. install-to-live: a real Verdaccio on loopback; for each of
 *     BENCH_INSTALLS plugins, time from the install request to the plugin's
 *     route answering 200.
 *  3. failed requests during those installs: autocannon keeps requesting
 *     GET /api/v1/auth/me (bearer token) and /healthz for the whole phase.
 *
 * The panel runs in a child process; the load generator and the registry in
 * this one. Real PostgreSQL at 127.0.0.1:5432; scratch databases are dropped
 * at the end even on failure. Bounded by a watchdog; stops by itself.
 * Targets: install-to-live < 2 s, 0 failed requests, warm boot with 10
 * plugins ≤ 1.5× warm boot with none. Figures → test/bench/results/plugins-latest.json.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SELF = fileURLToPath(import.meta.url);
const HERE = path.dirname(SELF);
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const BOOTS = Number(process.env.BENCH_BOOTS ?? 7);
const INSTALLS = Number(process.env.BENCH_INSTALLS ?? 5);
const PASSWORD = 'correct-horse-battery-9';

// ───────────────────────────── child: one panel ─────────────────────────────

async function child() {
  const { Panel, loadConfig } = await import('@mpanel/core');
  const { pino } = await import('pino');
  const opts = JSON.parse(process.env.BENCH_CHILD);
  const config = loadConfig({}, { port: 0, host: '127.0.0.1', dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, logLevel: 'silent', registryUrl: opts.registryUrl ?? 'http://127.0.0.1:9' });
  const t0 = process.hrtime.bigint();
  const panel = await Panel.create(config, { logger: pino({ level: 'silent' }), plugins: opts.plugins ?? [] });
  const { url } = await panel.listen(0, '127.0.0.1');
  const bootMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const stop = async () => {
    await panel.close();
    process.exit(0);
  };
  process.on('message', (m) => m === 'stop' && void stop());
  process.send({ type: 'ready', url, bootMs, setupToken: panel.setupToken });
}

// ───────────────────────────── parent ─────────────────────────────

async function pgAdmin(sql) {
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: PG });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const databases = [];
async function scratchDb() {
  const name = `mpanel_bench_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await pgAdmin(`create database "${name}"`);
  databases.push(name);
  return PG.replace(/\/[^/]*$/, `/${name}`);
}

function startPanel(opts) {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, ['--child'], { env: { ...process.env, BENCH_CHILD: JSON.stringify(opts) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ ...m, child }));
    child.once('exit', (code) => reject(new Error(`panel child exited with ${code}`)));
  });
}

function stopPanel(p) {
  return new Promise((resolve) => {
    p.child.removeAllListeners('exit');
    p.child.once('exit', () => resolve());
    p.child.send('stop');
  });
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Cold boots (first start: installs + migrates) then warm restarts of the
 * 0-plugin and the 10-plugin installation, alternating, so that both series
 * see the same background noise on this shared machine.
 */
async function bootSeries(generatedPlugin) {
  const setups = [];
  for (const count of [0, 10]) {
    const databaseUrl = await scratchDb();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-bench-boot-'));
    const plugins = Array.from({ length: count }, (_, i) => generatedPlugin(`gen${i}`));
    const cold = await startPanel({ databaseUrl, dataDir, plugins });
    await stopPanel(cold);
    setups.push({ count, databaseUrl, dataDir, plugins, coldMs: cold.bootMs, warm: [] });
  }
  for (let i = 0; i < BOOTS; i++) {
    for (const s of setups) {
      const p = await startPanel({ databaseUrl: s.databaseUrl, dataDir: s.dataDir, plugins: s.plugins });
      s.warm.push(p.bootMs);
      await stopPanel(p);
    }
  }
  return setups.map((s) => ({ plugins: s.count, coldMs: Math.round(s.coldMs), warmMs: s.warm.map(Math.round), warmMedianMs: Math.round(median(s.warm)) }));
}

async function json(res, what) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function installPhase(generatedPlugin, startRegistry, autocannon) {
  const registry = await startRegistry();
  let panel;
  try {
    for (let i = 0; i < INSTALLS; i++) await registry.publish(generatedPlugin(`live${i}`));
    panel = await startPanel({ databaseUrl: await scratchDb(), dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-bench-live-')), registryUrl: registry.url });
    const { url } = panel;
    await json(await fetch(`${url}/api/v1/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: panel.setupToken, email: 'bench@example.test', password: PASSWORD, name: 'Bench' }) }), 'setup');
    const login = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.test', password: PASSWORD }) });
    const { csrfToken } = await json(login, 'login');
    const cookie = login.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const tok = await json(await fetch(`${url}/api/v1/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken }, body: JSON.stringify({ name: 'bench', permissions: ['*'] }) }), 'token');
    const auth = { authorization: `Bearer ${tok.secret}` };

    const load = autocannon({
      url,
      connections: 8,
      duration: 600,
      requests: [{ method: 'GET', path: '/api/v1/auth/me', headers: auth }, { method: 'GET', path: '/healthz' }],
    });
    const loadDone = new Promise((resolve) => load.on('done', resolve));
    const times = [];
    for (let i = 0; i < INSTALLS; i++) {
      const id = `live${i}`;
      const t0 = performance.now();
      await json(await fetch(`${url}/api/v1/plugins`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ package: `mpanel-plugin-${id}`, approve: { capabilities: [] } }) }), `install ${id}`);
      for (;;) {
        const r = await fetch(`${url}/api/v1/p/${id}/ping`, { headers: auth });
        await r.arrayBuffer();
        if (r.status === 200) break;
        if (performance.now() - t0 > 30_000) throw new Error(`${id} never went live`);
      }
      times.push(performance.now() - t0);
    }
    load.stop();
    const result = await loadDone;
    return {
      installs: INSTALLS,
      installToLiveMs: times.map(Math.round),
      installToLiveMedianMs: Math.round(median(times)),
      installToLiveMaxMs: Math.round(Math.max(...times)),
      loadRequests: result.requests.total,
      loadFailed: result.errors + result.timeouts + result.non2xx,
    };
  } finally {
    if (panel) await stopPanel(panel);
    await registry.close();
  }
}

async function main() {
  const watchdog = setTimeout(() => {
    process.stderr.write('bench: watchdog fired after 10 minutes\n');
    process.exit(1);
  }, 600_000);
  watchdog.unref();
  const { generatedPlugin, startRegistry } = await import(path.join(HERE, '..', 'support', 'registry.mjs'));
  const autocannon = (await import('autocannon')).default;
  try {
    const [none, ten] = await bootSeries(generatedPlugin);
    const live = await installPhase(generatedPlugin, startRegistry, autocannon);
    const ratio = ten.warmMedianMs / none.warmMedianMs;
    const out = {
      date: new Date().toISOString(), node: process.version, cpus: os.cpus().length,
      boot: { none, ten, warmRatio: Number(ratio.toFixed(2)) }, install: live,
      targets: { installToLiveMs: 2000, failedRequests: 0, bootRatio: 1.5 },
    };
    const line = (k, v) => process.stdout.write(`${k.padEnd(44)} ${v}\n`);
    process.stdout.write('\nmpanel plugin benchmark\n');
    line('boot, 0 plugins (cold / warm median)', `${none.coldMs} ms / ${none.warmMedianMs} ms  (warm runs ${none.warmMs.join(', ')})`);
    line('boot, 10 plugins (cold / warm median)', `${ten.coldMs} ms / ${ten.warmMedianMs} ms  (warm runs ${ten.warmMs.join(', ')})`);
    line('warm boot ratio 10 / 0 (target ≤ 1.5)', `${ratio.toFixed(2)}×`);
    line(`install-to-live, ${live.installs} installs (median / max)`, `${live.installToLiveMedianMs} ms / ${live.installToLiveMaxMs} ms  (target < 2000 ms; runs ${live.installToLiveMs.join(', ')})`);
    line('requests during installs (failed / total)', `${live.loadFailed} / ${live.loadRequests}  (target 0 failed)`);
    fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
    fs.writeFileSync(path.join(HERE, 'results', 'plugins-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
  } finally {
    for (const name of databases) await pgAdmin(`drop database if exists "${name}" with (force)`).catch(() => undefined);
  }
}

if (process.argv.includes('--child')) await child();
else
  await main().then(
    () => process.exit(0),
    (err) => {
      process.stderr.write(`bench failed: ${err.stack ?? err}\n`);
      process.exit(1);
    },
  );
