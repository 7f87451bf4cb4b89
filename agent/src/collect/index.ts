import { CpuCollector } from './cpu.js';
import { DiskCollector } from './disks.js';
import { NetworkCollector } from './network.js';
import { collectLoad } from './load.js';
import { collectMemory } from './memory.js';
import { collectFilesystems } from './filesystems.js';
import { collectUptime } from './uptime.js';
import { collectProcesses } from './processes.js';
import type { Readings } from './proc.js';

export type { Readings } from './proc.js';

export interface CollectOptions {
  /** File system types to report although they are skipped by default (e.g. `tmpfs`). */
  includeFsTypes?: string[];
  includeLoopback?: boolean;
}

/** One snapshot: metric names (sorted, so the same host gives the same layout) and their values. */
export interface Snapshot { ts: number; names: string[]; values: number[] }

/**
 * Reads every /proc source once. Rates (CPU, disk, network) are relative to
 * the previous call, so the first snapshot reports them as 0.
 */
export class SystemCollector {
  private readonly cpu = new CpuCollector();
  private readonly disks = new DiskCollector();
  private readonly net: NetworkCollector;

  constructor(private readonly options: CollectOptions = {}) {
    this.net = new NetworkCollector(!options.includeLoopback);
  }

  collect(now = Date.now()): Snapshot {
    const r: Readings = new Map();
    const sources: Array<[string, () => void]> = [
      ['cpu', () => this.cpu.collect(r)],
      ['load', () => collectLoad(r)],
      ['memory', () => collectMemory(r)],
      ['filesystems', () => collectFilesystems(r, this.options.includeFsTypes)],
      ['disks', () => this.disks.collect(r, now)],
      ['network', () => this.net.collect(r, now)],
      ['uptime', () => collectUptime(r)],
      ['processes', () => collectProcesses(r)],
    ];
    // One broken source (e.g. a missing /proc file in a container) must not cost the others.
    for (const [, fn] of sources) {
      try {
        fn();
      } catch {
        r.set('agent_collect_errors', (r.get('agent_collect_errors') ?? 0) + 1);
      }
    }
    const names = [...r.keys()].sort();
    return { ts: now, names, values: names.map((n) => r.get(n)!) };
  }
}
