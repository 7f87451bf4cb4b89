import fs from 'node:fs';
import { PROC, type Readings } from './proc.js';

/** Number of processes: the numeric directories of /proc (what `ps -e` lists). */
export function collectProcesses(out: Readings): void {
  let n = 0;
  for (const name of fs.readdirSync(PROC)) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) n++;
  }
  out.set('processes_total', n);
}
