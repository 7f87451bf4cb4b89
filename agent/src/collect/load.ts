import { readProc, type Readings } from './proc.js';

/** Load averages and the scheduler's thread count from /proc/loadavg. */
export function collectLoad(out: Readings): void {
  const [l1, l5, l15, entities] = readProc('loadavg').trim().split(/\s+/);
  out.set('load1', Number(l1));
  out.set('load5', Number(l5));
  out.set('load15', Number(l15));
  out.set('threads_total', Number(entities?.split('/')[1] ?? 0));
}
