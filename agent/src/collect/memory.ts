import { readProc, type Readings } from './proc.js';

/** Parses /proc/meminfo into bytes. */
export function meminfo(): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of readProc('meminfo').split('\n')) {
    const match = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?/.exec(line);
    if (match) m.set(match[1]!, Number(match[2]) * (line.endsWith('kB') ? 1024 : 1));
  }
  return m;
}

/**
 * Memory and swap as `free` (procps ≥ 4) reports them: used = total − available,
 * buff/cache = Buffers + Cached + SReclaimable.
 */
export function collectMemory(out: Readings): void {
  const m = meminfo();
  const g = (k: string) => m.get(k) ?? 0;
  const total = g('MemTotal');
  const available = m.has('MemAvailable') ? g('MemAvailable') : g('MemFree') + g('Buffers') + g('Cached');
  out.set('memory_total_bytes', total);
  out.set('memory_available_bytes', available);
  out.set('memory_used_bytes', total - available);
  out.set('memory_free_bytes', g('MemFree'));
  out.set('memory_buff_cache_bytes', g('Buffers') + g('Cached') + g('SReclaimable'));
  out.set('memory_used_percent', total ? Math.round(((total - available) / total) * 10000) / 100 : 0);
  out.set('swap_total_bytes', g('SwapTotal'));
  out.set('swap_used_bytes', g('SwapTotal') - g('SwapFree'));
}
