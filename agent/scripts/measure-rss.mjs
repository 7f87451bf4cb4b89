#!/usr/bin/env node
// Measures the real agent's resident memory and CPU: boots a test panel with
// the monitoring plugin (PostgreSQL as for the tests), enrols the built CLI,
// runs it at a 10 s interval and, after a 10 s warm-up (whose peak is
// reported too), samples /proc/<pid>/status VmRSS every second for SECONDS.
//
//   node agent/scripts/measure-rss.mjs [seconds=60] [--tls] [-- node flags…]
//   (no flags given: the flags and Environment= of agent/mpanel-agent.service)
//   --tls: the agent talks to the panel over HTTPS/WSS (as in production)
//   through a TLS-terminating proxy with a throw-away certificate that the
//   agent trusts via NODE_EXTRA_CA_CERTS.
//   MEASURE_CLI=path/to/cli.cjs, MEASURE_ENV='UV_THREADPOOL_SIZE=1 …' to vary.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestPanel } from '@mpanel/sdk/testing';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const all = process.argv.slice(2);
const dd = all.indexOf('--');
const own = dd >= 0 ? all.slice(0, dd) : all;
const TLS = own.includes('--tls');
const SECONDS = Number(own.find((a) => /^\d+$/.test(a)) ?? 60);
/** One collection interval. */
const WARMUP_MS = 10_000;
const argv = all;
const unit = fs.readFileSync(path.join(ROOT, 'agent/mpanel-agent.service'), 'utf8');
const unitFlags = /ExecStart=\S+node((?:\s+--[\w-]+(?:=\S+)?)*)/.exec(unit)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
const flags = dd >= 0 ? argv.slice(dd + 1) : unitFlags;
const cli = process.env.MEASURE_CLI ?? path.join(ROOT, 'agent/dist/cli.cjs');
const unitEnv = Object.fromEntries([...unit.matchAll(/^Environment=(\w+)=(\S*)$/gm)].map((m) => [m[1], m[2]]));
const extraEnv = process.env.MEASURE_ENV !== undefined ? Object.fromEntries(process.env.MEASURE_ENV.split(/\s+/).filter(Boolean).map((kv) => kv.split('='))) : unitEnv;

function procStat(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const rss = Number(/VmRSS:\s+(\d+)/.exec(status)[1]) * 1024;
  const anon = Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  const file = Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { rss, anon, file, cpuSeconds: (Number(f[11]) + Number(f[12])) / 100 };
}
const mb = (b) => Math.round((b / 1048576) * 10) / 10;

const t = await createTestPanel({ plugins: [path.join(ROOT, 'plugins/monitoring')], settings: { monitoring: { defaultIntervalMs: 10000 } } });
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-agent-rss-'));
let child = null;
let proxy = null;
let panelUrl = t.url;
const agentEnv = {};
if (TLS) {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const target = new URL(t.url);
  proxy = tls.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, (c) => {
    const up = net.connect(Number(target.port), target.hostname);
    c.pipe(up).pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
  panelUrl = `https://127.0.0.1:${proxy.address().port}`;
  agentEnv.NODE_EXTRA_CA_CERTS = cert;
}
try {
  const tok = await t.as('admin').post('/api/v1/p/monitoring/enrollment-tokens', { label: 'rss' });
  const config = path.join(dir, 'config.json');
  // Async: the panel runs in this process.
  const e = spawn(process.execPath, [...flags, cli, 'enroll', '--url', panelUrl, '--token', tok.body.token, '--config', config, '--data-dir', path.join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...agentEnv } });
  let err = '';
  e.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => e.on('close', r));
  if (code !== 0) throw new Error(`enroll: ${err}`);
  const agentId = JSON.parse(fs.readFileSync(config, 'utf8')).agentId;
  child = spawn(process.execPath, [...flags, cli, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...agentEnv, ...extraEnv } });
  // Warm-up: start-up (parsing, enrolment check, first TLS handshake, first collection) is measured on
  // its own and reported as warmupMaxMB; the figures are the minute after it.
  const warmupEnd = Date.now() + WARMUP_MS;
  let warmupMax = 0;
  while (Date.now() < warmupEnd) {
    await new Promise((r) => setTimeout(r, 250));
    warmupMax = Math.max(warmupMax, procStat(child.pid).rss);
  }
  const start = { ...procStat(child.pid), at: Date.now() };
  let max = start;
  const series = [];
  while (Date.now() - start.at < SECONDS * 1000) {
    await new Promise((r) => setTimeout(r, 1000));
    const s = procStat(child.pid);
    series.push(s.rss);
    if (s.rss > max.rss) max = s;
  }
  const end = procStat(child.pid);
  const secs = (Date.now() - start.at) / 1000;
  const [n] = await t.sql('select count(*)::int as n from plugin_monitoring.sample where agent_id = $1', [agentId]);
  const [maps] = [fs.readFileSync(`/proc/${child.pid}/smaps_rollup`, 'utf8')];
  console.log(JSON.stringify({
    cli: path.relative(ROOT, cli), transport: TLS ? 'https/wss' : 'http/ws', flags: flags.join(' '), env: extraEnv, seconds: Math.round(secs), intervalMs: 10000, warmupSeconds: WARMUP_MS / 1000, warmupMaxMB: mb(warmupMax),
    rssStartMB: mb(start.rss), rssEndMB: mb(end.rss), rssMaxMB: mb(max.rss), anonMaxMB: mb(max.anon), fileAtMaxMB: mb(max.file),
    cpuPercentOfOneCore: +(((end.cpuSeconds - start.cpuSeconds) / secs) * 100).toFixed(3), samplesStored: n.n,
    pss: /Pss:\s+(\d+)/.exec(maps)?.[1] + ' kB',
  }));
} finally {
  child?.kill('SIGTERM');
  proxy?.close();
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
