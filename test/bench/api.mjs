#!/usr/bin/env node
/**
 * API throughput benchmark: the real panel against a bare express 5 app,
 * both measured in the same run so the ratio means something on any machine.
 *
 *   npm run bench:api                     (builds @mpanel/core first)
 *   BENCH_SECONDS=20 BENCH_CONNECTIONS=100 node test/bench/api.mjs
 *
 * What is measured (loopback only, pipelining 1, same connection count):
 *   bare   GET /hello on an express 5 app whose one handler returns a small JSON body
 *   panel  GET /api/v1/auth/me with a session cookie on a freshly set-up panel
 *          (real PostgreSQL at 127.0.0.1:5432): authentication, RBAC check,
 *          tenant-scoped request context, JSON response.
 *
 * Process layout — why the servers run in a child process: the load generator
 * (autocannon) is itself CPU-heavy JavaScript. If it shared one event loop
 * with the server under test, every request would also pay for the client's
 * work and the two would interleave on one core, hiding the server's real
 * cost. So each server runs in its own forked child (`--serve bare|panel`),
 * one at a time, and autocannon drives it from this parent process. The
 * machine's cores are still shared (and PostgreSQL uses them too), which is
 * why only the ratio panel/bare is a meaningful figure, not absolute numbers.
 *
 * Environment:
 *   BENCH_SECONDS      measured duration per target (default 10)
 *   BENCH_WARMUP       warm-up duration per target in seconds (default 3)
 *   BENCH_CONNECTIONS  concurrent connections (default 50)
 *   BENCH_PG_URL       admin URL used to create/drop the scratch database
 *                      (default postgres://postgres@127.0.0.1:5432/postgres)
 *   BENCH_CPU_PROF     a directory: run the panel child with `node --cpu-prof`
 *                      and write its .cpuprofile there (open it in Chrome
 *                      DevTools). Profiling slows the panel: don't compare
 *                      the figures of a profiled run with a clean one.
 *
 * Output: a table on stdout and the same figures as JSON in
 * test/bench/results/api-latest.json (git-ignored). The run is bounded by a
 * watchdog, stops by itself, closes the servers and always drops the scratch
 * database. Exit code 0 on a completed run (the target ratio is reported, not
 * asserted), 1 when something failed.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SELF = fileURLToPath(import.meta.url);
const HERE = path.dirname(SELF);

function intEnv(name, fallback, min = 1) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`bench: ${name} must be an integer ≥ ${min}, got "${raw}"\n`);
    process.exit(2);
  }
  return n;
}

// ───────────────────────────── server side (child) ─────────────────────────────

async function serveBare() {
  const { default: express } = await import('express');
  const app = express();
  app.get('/hello', (_req, res) => {
    res.json({ hello: 'world', ok: true });
  });
  const server = await new Promise((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err) => (err ? reject(err) : resolve(s)));
  });
  server.keepAliveTimeout = 65_000;
  const { port } = server.address();
  process.send({ type: 'ready', url: `http://127.0.0.1:${port}` });
  process.on('message', (msg) => {
    if (msg?.type !== 'close') return;
    server.close(() => process.exit(0));
    server.closeAllConnections();
  });
}

async function servePanel() {
  const { Panel, loadConfig } = await import('@mpanel/core');
  const { pino } = await import('pino');
  const databaseUrl = process.env.BENCH_DATABASE_URL;
  const dataDir = process.env.BENCH_DATA_DIR;
  const config = loadConfig(
    { LOG_LEVEL: 'silent' },
    { databaseUrl, dataDir, host: '127.0.0.1', port: 0, logLevel: 'silent', shutdownGraceSeconds: 2 },
  );
  const panel = await Panel.create(config, { logger: pino({ level: 'silent' }), validateResponses: false });
  const { url } = await panel.listen(0, '127.0.0.1');
  process.send({ type: 'ready', url, setupToken: panel.setupToken });
  process.on('message', (msg) => {
    if (msg?.type !== 'close') return;
    panel.close().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`bench panel: close failed: ${err?.stack ?? err}\n`);
        process.exit(1);
      },
    );
  });
}

// ───────────────────────────── load generator (parent) ─────────────────────────────

const SECONDS = intEnv('BENCH_SECONDS', 10);
const WARMUP = intEnv('BENCH_WARMUP', 3, 0);
const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50);
const PG_ADMIN_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF ? path.resolve(process.env.BENCH_CPU_PROF) : null;
/** Hard limit for the whole run: two targets × (warm-up + measure) + start-up and clean-up slack. */
const WATCHDOG_MS = (2 * (SECONDS + WARMUP) + 120) * 1000;

const children = new Set();

/** Forks `--serve <kind>` and resolves once it reports its URL. */
function startServer(kind, env = {}, execArgv = []) {
  return new Promise((resolve, reject) => {
    const child = fork(SELF, ['--serve', kind], {
      execArgv,
      env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    const timer = setTimeout(() => reject(new Error(`${kind} server did not start within 60 s`)), 60_000);
    child.once('exit', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${kind} server exited before it was ready (code ${code}, signal ${signal})`));
    });
    child.on('message', (msg) => {
      if (msg?.type === 'ready') {
        clearTimeout(timer);
        resolve({ child, ...msg });
      }
    });
  });
}

/** Asks a child to close gracefully; kills it if it has not exited after 10 s. */
function stopServer(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(kill);
      children.delete(child);
      resolve();
    });
    try {
      child.send({ type: 'close' });
    } catch {
      child.kill('SIGKILL');
    }
  });
}

async function load(autocannon, url, headers, duration) {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, pipelining: 1, duration });
  return {
    requestsPerSecond: result.requests.average,
    requestsTotal: result.requests.total,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    latencyMeanMs: result.latency.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}

async function measure(autocannon, name, url, headers) {
  if (WARMUP > 0) {
    process.stdout.write(`  ${name}: warming up ${WARMUP} s …\n`);
    await load(autocannon, url, headers, WARMUP);
  }
  process.stdout.write(`  ${name}: measuring ${SECONDS} s with ${CONNECTIONS} connections …\n`);
  return load(autocannon, url, headers, SECONDS);
}

async function expectJson(res, what) {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : undefined;
}

/** Setup + login over HTTP; returns the Cookie header for the session. */
async function loginToPanel(url, setupToken) {
  if (!setupToken) throw new Error('the fresh panel did not report a setup token');
  const email = 'bench-owner@example.test';
  const password = `Bench-${randomBytes(12).toString('hex')}`;
  const json = { 'content-type': 'application/json' };
  await expectJson(
    await fetch(`${url}/api/v1/setup`, { method: 'POST', headers: json, body: JSON.stringify({ token: setupToken, email, password, name: 'Bench Owner' }) }),
    'POST /api/v1/setup',
  );
  const res = await fetch(`${url}/api/v1/auth/login`, { method: 'POST', headers: json, body: JSON.stringify({ email, password }) });
  await expectJson(res, 'POST /api/v1/auth/login');
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  if (!cookie.includes('mpanel_session=')) throw new Error('login set no session cookie');
  const me = await expectJson(await fetch(`${url}/api/v1/auth/me`, { headers: { cookie } }), 'GET /api/v1/auth/me');
  if (!me?.user?.email) throw new Error('GET /api/v1/auth/me returned no user');
  return cookie;
}

function fmt(n, digits = 1) {
  return typeof n === 'number' && Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function printTable(bare, panel, ratios) {
  const rows = [
    ['target', 'requests/s', 'p50 ms', 'p99 ms', 'errors', 'non-2xx'],
    ['bare express 5  GET /hello', fmt(bare.requestsPerSecond, 0), fmt(bare.latencyP50Ms), fmt(bare.latencyP99Ms), String(bare.errors + bare.timeouts), String(bare.non2xx)],
    ['panel  GET /api/v1/auth/me', fmt(panel.requestsPerSecond, 0), fmt(panel.latencyP50Ms), fmt(panel.latencyP99Ms), String(panel.errors + panel.timeouts), String(panel.non2xx)],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const line = (r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [
    '',
    line(rows[0]),
    widths.map((w) => '─'.repeat(w)).join('  '),
    line(rows[1]),
    line(rows[2]),
    '',
    `throughput ratio panel/bare: ${fmt(ratios.throughput, 2)}×  (target ≥ 0.50× — ${ratios.throughput >= 0.5 ? 'met' : 'NOT met'})`,
    `p99 latency ratio panel/bare: ${fmt(ratios.p99, 2)}×`,
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
}

async function main() {
  const [{ default: autocannon }, { default: pg }] = await Promise.all([import('autocannon'), import('pg')]);
  const dbName = `mpanel_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-bench-'));
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  let dbCreated = false;
  let current = null;

  const cleanup = async () => {
    for (const child of [...children]) await stopServer(child);
    if (dbCreated) {
      try {
        await admin.query(`drop database if exists "${dbName}" with (force)`);
        dbCreated = false;
      } catch (error) {
        process.stderr.write(`bench: could not drop database ${dbName}: ${error.message}\n`);
      }
    }
    await admin.end().catch(() => {});
    fs.rmSync(dataDir, { recursive: true, force: true });
  };

  const watchdog = setTimeout(() => {
    process.stderr.write(`bench: watchdog — run exceeded ${WATCHDOG_MS / 1000} s, aborting\n`);
    cleanup().finally(() => process.exit(1));
  }, WATCHDOG_MS);

  const onSignal = (signal) => {
    process.stderr.write(`bench: ${signal}, cleaning up\n`);
    cleanup().finally(() => process.exit(1));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    process.stdout.write(
      `mpanel API benchmark — node ${process.version}, ${os.cpus().length} CPUs, ${CONNECTIONS} connections, pipelining 1, ` +
        `warm-up ${WARMUP} s, measure ${SECONDS} s per target\n`,
    );

    // (a) bare express baseline
    current = await startServer('bare');
    const bare = await measure(autocannon, 'bare', `${current.url}/hello`, {});
    await stopServer(current.child);
    current = null;

    // (b) the real panel on a scratch PostgreSQL database
    await admin.connect();
    await admin.query(`create database "${dbName}"`);
    dbCreated = true;
    const dbUrl = new URL(PG_ADMIN_URL);
    dbUrl.pathname = `/${dbName}`;
    const profArgs = CPU_PROF_DIR ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF_DIR}`] : [];
    if (CPU_PROF_DIR) process.stdout.write(`  panel: profiling with --cpu-prof into ${CPU_PROF_DIR} (figures are not comparable)\n`);
    current = await startServer('panel', { BENCH_DATABASE_URL: dbUrl.toString(), BENCH_DATA_DIR: dataDir }, profArgs);
    const cookie = await loginToPanel(current.url, current.setupToken);
    const panel = await measure(autocannon, 'panel', `${current.url}/api/v1/auth/me`, { cookie });
    await stopServer(current.child);
    current = null;

    const ratios = {
      throughput: panel.requestsPerSecond / bare.requestsPerSecond,
      p99: panel.latencyP99Ms / bare.latencyP99Ms,
    };
    printTable(bare, panel, ratios);

    const report = {
      benchmark: 'api',
      date: new Date().toISOString(),
      node: process.version,
      platform: `${os.platform()} ${os.arch()}`,
      cpus: os.cpus().length,
      settings: { seconds: SECONDS, warmupSeconds: WARMUP, connections: CONNECTIONS, pipelining: 1, cpuProfile: !!CPU_PROF_DIR },
      bare: { route: 'GET /hello', ...bare },
      panel: { route: 'GET /api/v1/auth/me', ...panel },
      ratios: { ...ratios, throughputTarget: 0.5, throughputTargetMet: ratios.throughput >= 0.5 },
    };
    const outDir = path.join(HERE, 'results');
    fs.mkdirSync(outDir, { recursive: true });
    const outFile = path.join(outDir, 'api-latest.json');
    fs.writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`figures written to ${path.relative(process.cwd(), outFile)}\n`);
  } finally {
    clearTimeout(watchdog);
    await cleanup();
  }
}

if (process.argv[2] === '--serve') {
  const kind = process.argv[3];
  const serve = kind === 'bare' ? serveBare : kind === 'panel' ? servePanel : null;
  if (!serve || !process.send) {
    process.stderr.write('bench: --serve bare|panel is only used by the benchmark itself (forked with IPC)\n');
    process.exit(2);
  }
  // The parent going away must not leave a server behind.
  process.on('disconnect', () => process.exit(0));
  serve().catch((error) => {
    process.stderr.write(`bench ${kind} server: ${error?.stack ?? error}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error) => {
      process.stderr.write(`bench: ${error?.stack ?? error}\n`);
      process.exit(1);
    },
  );
}
