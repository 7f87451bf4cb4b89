#!/usr/bin/env node
// Measures the real agent's resident memory and CPU: boots a test panel with
// the monitoring plugin (PostgreSQL as for the tests), enrols the built CLI,
// runs it at a 10 s interval for SECONDS and samples /proc/<pid>/status VmRSS
// every second.
//
//   node agent/scripts/measure-rss.mjs [seconds=60] [-- node flags…]
//   (no flags given: the flags and Environment= of agent/mpanel-agent.service)
//   MEASURE_CLI=path/to/cli.js, MEASURE_ENV='UV_THREADPOOL_SIZE=1 …' to vary.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createTestPanel } from '@mpanel/sdk/testing';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const argv = process.argv.slice(2);
const dd = argv.indexOf('--');
const SECONDS = Number(argv[0] && argv[0] !== '--' ? argv[0] : 60);
const unit = fs.readFileSync(path.join(ROOT, 'agent/mpanel-agent.service'), 'utf8');
const unitFlags = /ExecStart=\S+node((?:\s+--[\w-]+(?:=\S+)?)*)/.exec(unit)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
const flags = dd >= 0 ? argv.slice(dd + 1) : unitFlags;
const cli = process.env.MEASURE_CLI ?? path.join(ROOT, 'agent/dist/cli.js');
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
try {
  const tok = await t.as('admin').post('/api/v1/p/monitoring/enrollment-tokens', { label: 'rss' });
  const config = path.join(dir, 'config.json');
  // Async: the panel runs in this process.
  const e = spawn(process.execPath, [cli, 'enroll', '--url', t.url, '--token', tok.body.token, '--config', config, '--data-dir', path.join(dir, 'data')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  e.stderr.on('data', (d) => (err += d));
  const code = await new Promise((r) => e.on('close', r));
  if (code !== 0) throw new Error(`enroll: ${err}`);
  const agentId = JSON.parse(fs.readFileSync(config, 'utf8')).agentId;
  child = spawn(process.execPath, [...flags, cli, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...extraEnv } });
  await new Promise((r) => setTimeout(r, 3000));
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
    cli: path.relative(ROOT, cli), flags: flags.join(' '), env: extraEnv, seconds: Math.round(secs), intervalMs: 10000,
    rssStartMB: mb(start.rss), rssEndMB: mb(end.rss), rssMaxMB: mb(max.rss), anonMaxMB: mb(max.anon), fileAtMaxMB: mb(max.file),
    cpuPercentOfOneCore: +(((end.cpuSeconds - start.cpuSeconds) / secs) * 100).toFixed(3), samplesStored: n.n,
    pss: /Pss:\s+(\d+)/.exec(maps)?.[1] + ' kB',
  }));
} finally {
  child?.kill('SIGTERM');
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
