import fs from 'node:fs';

/** Where /proc lives (overridable so tests and containers can point elsewhere). */
export const PROC = process.env.MPANEL_AGENT_PROC ?? '/proc';

/** Reads a /proc file; these are tiny and generated on read, so a sync read is cheapest. */
export function readProc(rel: string): string {
  return fs.readFileSync(`${PROC}/${rel}`, 'utf8');
}

/** One reading: metric name (Prometheus style, labels in braces) → value. */
export type Readings = Map<string, number>;

/** `name{label="value"}` with the value escaped the Prometheus way. */
export function labelled(name: string, label: string, value: string): string {
  return `${name}{${label}="${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"}`;
}
