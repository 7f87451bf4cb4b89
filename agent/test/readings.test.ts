import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { SystemCollector } from '../src/collect/index.js';

/**
 * The agent's readings against what /proc, df and free say, read
 * independently here. Tolerances (stated): memory within 2 % of total
 * (memory moves between the two reads), load within 0.5, uptime within 2 s,
 * processes within 25, disk bytes within 64 MiB or 1 % of the size, CPU
 * within 15 percentage points over the same window.
 */
const snapshot = async () => {
  const c = new SystemCollector();
  c.collect();
  await new Promise((r) => setTimeout(r, 500));
  const s = c.collect();
  return Object.fromEntries(s.names.map((n, i) => [n, s.values[i]!])) as Record<string, number>;
};

describe('readings', () => {
  it('match free (memory and swap)', async () => {
    const m = await snapshot();
    const out = execFileSync('free', ['-b'], { encoding: 'utf8' }).split('\n');
    const mem = out.find((l) => l.startsWith('Mem:'))!.trim().split(/\s+/).map(Number);
    const swap = out.find((l) => l.startsWith('Swap:'))!.trim().split(/\s+/).map(Number);
    const total = mem[1]!;
    expect(m.memory_total_bytes).toBe(total);
    const tol = total * 0.02;
    expect(Math.abs(m.memory_used_bytes! - mem[2]!)).toBeLessThan(tol);
    expect(Math.abs(m.memory_available_bytes! - mem[6]!)).toBeLessThan(tol);
    expect(Math.abs(m.memory_buff_cache_bytes! - mem[5]!)).toBeLessThan(tol);
    expect(m.swap_total_bytes).toBe(swap[1]);
    expect(Math.abs(m.swap_used_bytes! - swap[2]!)).toBeLessThan(Math.max(tol, 1));
  });

  it('match df (size, used, available per mount)', async () => {
    const m = await snapshot();
    const lines = execFileSync('df', ['-B1', '--output=target,size,used,avail'], { encoding: 'utf8' }).trim().split('\n').slice(1);
    const df = new Map(lines.map((l) => {
      const f = l.trim().split(/\s+/);
      const avail = Number(f.pop());
      const used = Number(f.pop());
      const size = Number(f.pop());
      return [f.join(' '), { size, used, avail }];
    }));
    const mounts = Object.keys(m).filter((k) => k.startsWith('filesystem_size_bytes{')).map((k) => JSON.parse(k.slice(k.indexOf('=') + 1, -1)) as string);
    expect(mounts).toContain('/');
    for (const mount of mounts) {
      const d = df.get(mount);
      if (!d) continue; // df hides some file systems the agent reports
      const tol = Math.max(64 * 1024 * 1024, d.size * 0.01);
      expect(m[`filesystem_size_bytes{mount="${mount}"}`]).toBe(d.size);
      expect(Math.abs(m[`filesystem_used_bytes{mount="${mount}"}`]! - d.used)).toBeLessThan(tol);
      expect(Math.abs(m[`filesystem_avail_bytes{mount="${mount}"}`]! - d.avail)).toBeLessThan(tol);
    }
  });

  it('match /proc: load, uptime, cores, processes, interfaces, disks', async () => {
    const m = await snapshot();
    const [l1, l5, l15] = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    expect(Math.abs(m.load1! - l1!)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.load5! - l5!)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.load15! - l15!)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(m.uptime_seconds! - Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]))).toBeLessThanOrEqual(2);
    const cores = fs.readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length;
    expect(m.cpu_cores).toBe(cores);
    for (let i = 0; i < cores; i++) expect(m[`cpu_core_usage_percent{core="${i}"}`]).toBeGreaterThanOrEqual(0);
    const ps = execFileSync('ps', ['-e', '--no-headers'], { encoding: 'utf8' }).trim().split('\n').length;
    expect(Math.abs(m.processes_total! - ps)).toBeLessThanOrEqual(25);
    const ifaces = fs.readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0]!.trim()).filter((n) => n && n !== 'lo');
    for (const i of ifaces) expect(m[`network_receive_bytes_per_second{interface="${i}"}`]).toBeGreaterThanOrEqual(0);
    const disks = fs.readFileSync('/proc/diskstats', 'utf8').split('\n').map((l) => l.trim().split(/\s+/)[2]).filter((d): d is string => !!d && /^(sd[a-z]+|vd[a-z]+|nvme\d+n\d+|xvd[a-z]+)$/.test(d));
    for (const d of disks) expect(m[`disk_read_bytes_per_second{device="${d}"}`]).toBeGreaterThanOrEqual(0);
  });

  it('match /proc/stat for CPU usage over the same window', async () => {
    const read = () => fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
    const c = new SystemCollector();
    const a = read();
    c.collect();
    // Some load in the window so the figure is not trivially 0.
    const end = Date.now() + 400;
    while (Date.now() < end) Math.sqrt(Math.random());
    const s = c.collect();
    const b = read();
    const d = b.map((x, i) => x - a[i]!);
    const total = d.reduce((x, y) => x + y, 0);
    const busy = total - d[3]! - d[4]!;
    const expected = (busy / total) * 100;
    const got = s.values[s.names.indexOf('cpu_usage_percent')]!;
    expect(Math.abs(got - expected)).toBeLessThan(15);
    expect(got).toBeGreaterThan(100 / os.cpus().length / 4); // the busy loop shows
  });
});
