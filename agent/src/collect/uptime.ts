import { readProc, type Readings } from './proc.js';

/** Seconds since boot from /proc/uptime. */
export function collectUptime(out: Readings): void {
  out.set('uptime_seconds', Math.floor(Number(readProc('uptime').split(' ')[0])));
}
