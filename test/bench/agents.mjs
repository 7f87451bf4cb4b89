#!/usr/bin/env node
/**
 * Agent ingest benchmark: simulated agents (real socket.io clients) against
 * one panel process with the monitoring plugin on real PostgreSQL, plus the
 * real agent's own footprint.
 *
 *   npm run bench:agents                  (builds first)
 *   BENCH_AGENTS=500 BENCH_SECONDS=10 node test/bench/agents.mjs
 *
 * Processes (all on loopback):
 *   parent   orchestrates, measures the panel's RSS/CPU from /proc, runs the baseline
 *   --serve  the panel (core + monitoring plugin) — the process under test
 *   --sim    every simulated agent: socket.io clients sending sample batches
 *   agent    the real `mpanel-agent run` via agent/scripts/measure-rss.mjs (own panel, HTTPS), after the load
 *
 * Phases:
 *   steady    BENCH_AGENTS agents (default 2000) each send one snapshot of
 *             BENCH_METRICS values (default 50: what the real agent reports on
 *             a small server) every BENCH_INTERVAL_MS (default 1000 — time
 *             compressed ten-fold) for BENCH_SECONDS. A "sample" is one metric
 *             reading; a snapshot holds BENCH_METRICS of them.
 *             → readings stored/s over the middle of the phase (every agent
 *               sending; ≈ the offered load when the panel keeps up),
 *               p50/p99 acknowledgement latency (emit → ack, the ack is sent after COMMIT)
 *   capacity  the same agents replay a backlog as fast as acknowledged (batches
 *             of 20 snapshots, as after an outage) for BENCH_BURST_SECONDS.
 *             → readings stored/s at saturation
 *   baseline  the same multi-row INSERT statement, same row shape, straight
 *             from one pg connection (no socket.io, no panel) for the same time.
 *             → capacity / baseline ratio
 *   connect   idle agents are added up to BENCH_MAX_AGENTS (default 10000).
 *             → agents connected, panel RSS per connected agent
 *   agent     the real agent at a 10 s interval over HTTPS, after a 10 s
 *             warm-up, for BENCH_AGENT_SECONDS (60): RSS (peak) and CPU % of
 *             one core from /proc/<pid>; the warm-up's peak is reported too.
 *
 * Bounded by a watchdog; stops by itself; always drops its scratch database.
 * Figures go to stdout and test/bench/results/agents-latest.json.
 */
import { fork, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SELF = fileURLToPath(import.meta.url);
const HERE = path.dirname(SELF);
const ROOT = path.resolve(HERE, '../..');

const intEnv = (name, fallback) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench: ${name} must be a positive integer\n`);
    process.exit(2);
  }
  return n;
};
const AGENTS = intEnv('BENCH_AGENTS', 2000);
const MAX_AGENTS = Math.max(AGENTS, intEnv('BENCH_MAX_AGENTS', 10000));
const METRICS = intEnv('BENCH_METRICS', 50);
const INTERVAL = intEnv('BENCH_INTERVAL_MS', 1000);
const SECONDS = intEnv('BENCH_SECONDS', 20);
const BURST_SECONDS = intEnv('BENCH_BURST_SECONDS', 10);
const AGENT_SECONDS = intEnv('BENCH_AGENT_SECONDS', 60);
const ROLLUP_MS = Number(process.env.BENCH_ROLLUP_MS ?? 60000);
const PG = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432';
const NAMES = Array.from({ length: METRICS }, (_, i) => (i < 2 ? ['cpu_usage_percent', 'memory_used_bytes'][i] : `bench_metric_${i}{n="${i}"}`)).sort();
const hash = (s) => createHash('sha256').update(s, 'utf8').digest('hex');

// ───────────────────────────── panel child ─────────────────────────────
async function serve() {
  const core = await import('@mpanel/core');
  const { dataDir, databaseUrl } = JSON.parse(process.argv[3]);
  const config = core.loadConfig({}, { port: 0, host: '127.0.0.1', dataDir, databaseUrl, logLevel: 'silent', shutdownGraceSeconds: 1 });
  const panel = await core.Panel.create(config);
  const { url } = await panel.listen(0, '127.0.0.1');
  await panel.plugins.installLocal(path.join(ROOT, 'plugins/monitoring'), { capabilities: ['mail:send'] });
  await panel.plugins.updateSettings('monitoring', { defaultIntervalMs: INTERVAL, rollupEveryMs: ROLLUP_MS });
  // First-run setup creates the platform tenant the bench agents belong to.
  const res = await fetch(`${url}/api/v1/setup`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: panel.setupToken, email: 'owner@bench.test', password: 'bench-password-123', name: 'Owner' }),
  });
  if (res.status !== 201) throw new Error(`setup failed: ${res.status} ${await res.text()}`);
  process.send({ ready: true, url });
  process.on('message', async (m) => {
    if (m.cmd === 'close') {
      await panel.close();
      process.exit(0);
    }
  });
}

// ───────────────────────────── simulated agents child ─────────────────────────────
async function sim() {
  const { io } = await import('socket.io-client');
  const agents = [];
  const layoutKey = 'bench-layout-1';
  const values = () => NAMES.map(() => Math.round(Math.random() * 10000) / 100);
  const connectOne = (url, a) => new Promise((resolve) => {
    const s = io(`${url}/p/monitoring/agents`, { auth: { agentId: a.id, credential: a.credential }, transports: ['websocket'], reconnection: false, timeout: 30_000 });
    const st = { ...a, socket: s, seq: 0, sentLayout: false };
    s.once('connect', async () => {
      try {
        await s.timeout(30_000).emitWithAck('hello', { version: 'bench', hostname: a.id.slice(0, 8), commands: [] });
        resolve(st);
      } catch {
        resolve(null);
      }
    });
    s.once('connect_error', () => resolve(null));
  });
  const send = (a, n) => new Promise((resolve) => {
    const now = Date.now();
    const samples = Array.from({ length: n }, (_, i) => ({ seq: ++a.seq, ts: now + i, l: layoutKey, v: values() }));
    const layouts = a.sentLayout ? {} : { [layoutKey]: NAMES };
    const t0 = performance.now();
    a.socket.timeout(30_000).emit('samples', { samples, layouts, dropped: 0 }, (err, res) => {
      if (!err && res?.ok) a.sentLayout = true;
      resolve({ ok: !err && !!res?.ok, ms: performance.now() - t0 });
    });
  });
  process.on('message', async (m) => {
    if (m.cmd === 'connect') {
      let ok = 0;
      for (let i = 0; i < m.agents.length; i += 250) {
        const wave = await Promise.all(m.agents.slice(i, i + 250).map((a) => connectOne(m.url, a)));
        for (const w of wave) if (w) (agents.push(w), ok++);
      }
      process.send({ connected: ok, total: agents.length });
    } else if (m.cmd === 'steady') {
      const active = agents.slice(0, m.count);
      const lat = [];
      let failed = 0;
      const end = Date.now() + m.seconds * 1000;
      // Each agent on its own phase within the interval, like real agents started at random times.
      await Promise.all(active.map(async (a, i) => {
        await new Promise((r) => setTimeout(r, (i / active.length) * m.intervalMs));
        let next = Date.now();
        while (Date.now() < end) {
          const r = await send(a, 1);
          if (r.ok) lat.push(r.ms);
          else failed++;
          next += m.intervalMs;
          await new Promise((res) => setTimeout(res, Math.max(0, next - Date.now())));
        }
      }));
      lat.sort((x, y) => x - y);
      const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? null;
      process.send({ acked: lat.length, failed, p50: q(0.5), p99: q(0.99), p999: q(0.999), over100: lat.filter((x) => x > 100).length, max: lat[lat.length - 1] ?? null });
    } else if (m.cmd === 'warm') {
      // First contact: each agent's first batch carries its metric layout, which the panel stores once per agent.
      const t0 = Date.now();
      const r = await Promise.all(agents.slice(0, m.count).map((a) => send(a, 1)));
      process.send({ ok: r.filter((x) => x.ok).length, ms: Date.now() - t0 });
    } else if (m.cmd === 'burst') {
      const active = agents.slice(0, m.count);
      let acked = 0;
      let failed = 0;
      const end = Date.now() + m.seconds * 1000;
      await Promise.all(active.map(async (a) => {
        while (Date.now() < end) {
          const r = await send(a, m.batch);
          if (r.ok) acked += m.batch;
          else failed++;
        }
      }));
      process.send({ acked, failed });
    } else if (m.cmd === 'close') {
      for (const a of agents) a.socket.disconnect();
      setTimeout(() => process.exit(0), 200);
    }
  });
  process.send({ ready: true });
}

// ───────────────────────────── parent ─────────────────────────────
function procStat(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime + stime
  return { rss, cpuSeconds: ticks / 100 };
}
const mb = (b) => Math.round((b / 1048576) * 10) / 10;
const once = (child) => new Promise((resolve, reject) => {
  const onMsg = (m) => {
    child.off('exit', onExit);
    resolve(m);
  };
  const onExit = (code) => {
    child.off('message', onMsg);
    reject(new Error(`child exited (${code})`));
  };
  child.once('message', onMsg);
  child.once('exit', onExit);
});

async function main() {
  const pg = (await import('pg')).default;
  const dbName = `mpanel_bench_agents_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: `${PG}/postgres` });
  await admin.connect();
  await admin.query(`create database "${dbName}"`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-bench-agents-'));
  const databaseUrl = `${PG}/${dbName}`;
  const children = [];
  let db = null;
  const watchdog = setTimeout(() => {
    process.stderr.write('bench: watchdog fired (run took too long)\n');
    cleanup().finally(() => process.exit(1));
  }, (SECONDS + BURST_SECONDS + AGENT_SECONDS + 600) * 1000);
  watchdog.unref();
  let cleaned = false;
  async function cleanup() {
    if (cleaned) return;
    cleaned = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await db?.end().catch(() => undefined);
    await admin.query(`drop database if exists "${dbName}" with (force)`).catch(() => undefined);
    await admin.end().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const results = { machine: { cpus: os.cpus().length, node: process.version }, config: { agents: AGENTS, maxAgents: MAX_AGENTS, metrics: METRICS, intervalMs: INTERVAL, seconds: SECONDS } };
  try {
    const panel = fork(SELF, ['--serve', JSON.stringify({ dataDir, databaseUrl })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.push(panel);
    const { url } = await once(panel);
    console.log(`panel up at ${url} (pid ${panel.pid})`);
    db = new pg.Client({ connectionString: databaseUrl });
    await db.connect();
    const { id: tenantId, path: tenantPath } = (await db.query('select id, path from tenant order by length(path) limit 1')).rows[0];

    // Bench agents are inserted directly (enrolment is not what is measured; the real agent below enrols properly).
    const creds = Array.from({ length: MAX_AGENTS }, () => ({ id: randomUUID(), credential: `mpa_${randomBytes(24).toString('base64url')}` }));
    for (let i = 0; i < creds.length; i += 1000) {
      const chunk = creds.slice(i, i + 1000);
      await db.query(
        `insert into plugin_monitoring.agent (id, tenant_id, tenant_path, name, credential_hash)
         select (x->>0)::uuid, $1, $2, 'bench-' || (x->>0), x->>1 from jsonb_array_elements($3::jsonb) x`,
        [tenantId, tenantPath, JSON.stringify(chunk.map((c) => [c.id, hash(c.credential)]))]);
    }

    const simChild = fork(SELF, ['--sim'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--max-old-space-size=4096'] });
    children.push(simChild);
    await once(simChild);
    const panelIdle = procStat(panel.pid);

    // connect the active agents
    let t0 = Date.now();
    simChild.send({ cmd: 'connect', url, agents: creds.slice(0, AGENTS) });
    const c1 = await once(simChild);
    console.log(`connected ${c1.connected}/${AGENTS} agents in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // warm-up: first contact (layouts) is measured apart from the steady state
    simChild.send({ cmd: 'warm', count: AGENTS });
    const warm = await once(simChild);
    results.firstContact = { agents: warm.ok, seconds: +(warm.ms / 1000).toFixed(2) };
    console.log('first contact (layout stored per agent)', results.firstContact);

    // steady
    const count = async () => Number((await db.query('select count(*) as n from plugin_monitoring.sample')).rows[0].n);
    await new Promise((r) => setTimeout(r, 1000));
    let before = await count();
    let cpu0 = procStat(panel.pid);
    t0 = Date.now();
    simChild.send({ cmd: 'steady', count: AGENTS, seconds: SECONDS, intervalMs: INTERVAL });
    const steadyDone = once(simChild);
    // The stored rate is read over the middle of the phase, when every agent is sending: not over the
    // first interval (agents start staggered across it) nor the last (they stop one by one).
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    await sleep(INTERVAL + 500);
    const w0 = { n: await count(), at: Date.now() };
    await sleep(Math.max(1000, SECONDS * 1000 - 2 * INTERVAL - 1000));
    const w1 = { n: await count(), at: Date.now() };
    const steady = await steadyDone;
    let secs = (Date.now() - t0) / 1000;
    let stored = (await count()) - before;
    let cpu1 = procStat(panel.pid);
    const windowSecs = (w1.at - w0.at) / 1000;
    const offered = (AGENTS * METRICS * 1000) / INTERVAL;
    results.steady = {
      offeredReadingsPerSecond: offered, windowSeconds: +windowSecs.toFixed(1),
      snapshotsPerSecond: Math.round((w1.n - w0.n) / windowSecs), readingsPerSecond: Math.round(((w1.n - w0.n) * METRICS) / windowSecs),
      wholePhaseReadingsPerSecond: Math.round((stored * METRICS) / secs),
      ackP50ms: +steady.p50?.toFixed(1), ackP99ms: +steady.p99?.toFixed(1), ackP999ms: +steady.p999?.toFixed(1), ackMaxMs: +steady.max?.toFixed(1), acksOver100ms: steady.over100, acked: steady.acked, failed: steady.failed,
      panelCpuPercentOfOneCore: Math.round(((cpu1.cpuSeconds - cpu0.cpuSeconds) / secs) * 100),
    };
    console.log('steady', results.steady);

    // capacity
    before = await count();
    cpu0 = procStat(panel.pid);
    t0 = Date.now();
    simChild.send({ cmd: 'burst', count: AGENTS, seconds: BURST_SECONDS, batch: 20 });
    const burst = await once(simChild);
    secs = (Date.now() - t0) / 1000;
    stored = (await count()) - before;
    cpu1 = procStat(panel.pid);
    results.capacity = {
      snapshotsPerSecond: Math.round(stored / secs), readingsPerSecond: Math.round((stored * METRICS) / secs), acked: burst.acked, failed: burst.failed,
      panelCpuPercentOfOneCore: Math.round(((cpu1.cpuSeconds - cpu0.cpuSeconds) / secs) * 100),
    };
    console.log('capacity', results.capacity);

    // baseline: the same statement shape straight into a copy of the table
    await db.query('create table plugin_monitoring.bench_baseline (like plugin_monitoring.sample including all)');
    const layoutId = (await db.query('select id from plugin_monitoring.layout limit 1')).rows[0].id;
    let bRows = 0;
    let bSeq = 0;
    const bEnd = Date.now() + BURST_SECONDS * 1000;
    t0 = Date.now();
    while (Date.now() < bEnd) {
      const rows = [];
      for (let i = 0; i < 2000; i++) rows.push([creds[i % AGENTS].id, ++bSeq, Date.now(), layoutId, `{${NAMES.map(() => Math.round(Math.random() * 10000) / 100).join(',')}}`]);
      await db.query(
        `insert into plugin_monitoring.bench_baseline (agent_id, seq, ts, layout_id, vals)
         select (r->>0)::uuid, (r->>1)::bigint, to_timestamp((r->>2)::float8 / 1000), (r->>3)::int, (r->>4)::float8[] from jsonb_array_elements($1::jsonb) r
         on conflict (agent_id, seq) do nothing`, [JSON.stringify(rows)]);
      bRows += rows.length;
    }
    secs = (Date.now() - t0) / 1000;
    results.baseline = { snapshotsPerSecond: Math.round(bRows / secs), readingsPerSecond: Math.round((bRows * METRICS) / secs) };
    results.capacity.ratioToBaseline = +(results.capacity.readingsPerSecond / results.baseline.readingsPerSecond).toFixed(2);
    console.log('baseline (direct INSERT, one connection)', results.baseline);
    await db.query('drop table plugin_monitoring.bench_baseline');

    // connect up to MAX_AGENTS
    t0 = Date.now();
    simChild.send({ cmd: 'connect', url, agents: creds.slice(AGENTS) });
    const c2 = await once(simChild);
    await new Promise((r) => setTimeout(r, 2000));
    const panelFull = procStat(panel.pid);
    const online = Number((await db.query('select count(*) as n from plugin_monitoring.agent where online')).rows[0].n);
    results.connect = {
      connected: c2.total, onlineInPanel: online, seconds: +((Date.now() - t0) / 1000).toFixed(1),
      panelRssIdleMB: mb(panelIdle.rss), panelRssMB: mb(panelFull.rss), panelRssPerAgentKB: Math.round((panelFull.rss - panelIdle.rss) / c2.total / 1024),
    };
    console.log('connect', results.connect);

    simChild.send({ cmd: 'close' });
    panel.send({ cmd: 'close' });
    await new Promise((r) => setTimeout(r, 1500));

    // The real agent, alone on the machine after the load phases: agent/scripts/measure-rss.mjs
    // (its own panel, enrolment through a real token, the systemd unit's flags, HTTPS as in production).
    results.realAgent = await measureRealAgent();
    console.log('real agent', results.realAgent);

    const targets = [
      // Steady: the panel keeps up with what 2,000 agents offer (100,000/s by default); capacity: how far it goes.
      ['readings stored/s (steady window)', results.steady.readingsPerSecond, `≈ offered ${results.steady.offeredReadingsPerSecond}`, results.steady.readingsPerSecond >= 0.98 * results.steady.offeredReadingsPerSecond],
      ['readings stored/s (capacity)', results.capacity.readingsPerSecond, '≥ 100000', results.capacity.readingsPerSecond >= 100000],
      ['p99 ack latency ms (steady)', results.steady.ackP99ms, '< 100', results.steady.ackP99ms < 100],
      ['agents connected', results.connect.connected, `≥ 10000`, results.connect.connected >= 10000],
      ['panel RSS per agent KB', results.connect.panelRssPerAgentKB, '(reported)', true],
      ['real agent RSS MB (peak, after warm-up)', results.realAgent.rssMaxMB, '< 45', results.realAgent.rssMaxMB < 45],
      ['real agent RSS MB (warm-up peak)', results.realAgent.warmupMaxMB, '(reported)', true],
      ['real agent CPU % of a core', results.realAgent.cpuPercentOfOneCore, '< 0.1', results.realAgent.cpuPercentOfOneCore < 0.1],
      ['capacity / direct-INSERT baseline', results.capacity.ratioToBaseline, '(ratio)', true],
    ];
    console.log('\nfigure                                      value        target     met');
    for (const [k, v, target, ok] of targets) console.log(`${k.padEnd(44)}${String(v).padEnd(13)}${target.padEnd(11)}${ok ? 'yes' : 'NO'}`);
    results.targets = Object.fromEntries(targets.map(([k, v, target, ok]) => [k, { value: v, target, met: ok }]));
    fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
    fs.writeFileSync(path.join(HERE, 'results', 'agents-latest.json'), JSON.stringify(results, null, 2));
  } finally {
    await cleanup();
  }
}

/** Runs agent/scripts/measure-rss.mjs over HTTPS and returns its figures (its last JSON line). */
async function measureRealAgent() {
  const child = spawn(process.execPath, [path.join(ROOT, 'agent/scripts/measure-rss.mjs'), String(AGENT_SECONDS), '--tls'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const code = await new Promise((r) => child.on('close', r));
  const line = out.trim().split('\n').reverse().find((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`measure-rss failed (exit ${code}): ${out}`);
  return JSON.parse(line);
}

if (process.argv[2] === '--serve') serve().catch((err) => {
  console.error(err);
  process.exit(1);
});
else if (process.argv[2] === '--sim') sim().catch((err) => {
  console.error(err);
  process.exit(1);
});
else main().then(() => process.exit(0), (err) => {
  console.error(err);
  process.exit(1);
});
