/**
 * The agent idles between collections for the rest of its life, but V8
 * keeps what start-up and each collection's garbage grew (heap pages, a grown
 * young generation, malloc arenas) and hands it back to the OS only under
 * memory pressure. A memory-reducing full collection ("last resort": it also
 * shrinks the young generation and releases free pages) once the agent is
 * connected, and then every 30 s, keeps its resident memory at what it
 * really uses — well under a millisecond of CPU each time on a heap this
 * small (measured: ~0.2 ms; 0.001 % of a core at this rate).
 * Needs `--expose-gc` (set in mpanel-agent.service); without it this does
 * nothing.
 */
type Gc = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async'; flavor?: 'regular' | 'last-resort' }) => void;

const SETTLE_EVERY_MS = 30_000;
let timer: NodeJS.Timeout | null = null;

function collect(gc: Gc): void {
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

/** Starts the settling (idempotent): once `delayMs` after the first connection, then every 30 s. */
export function settleAfterStartup(delayMs = 1000): void {
  const gc = (globalThis as { gc?: Gc }).gc;
  if (timer || typeof gc !== 'function') return;
  timer = setTimeout(() => {
    collect(gc);
    timer = setInterval(() => collect(gc), SETTLE_EVERY_MS);
    timer.unref();
  }, delayMs);
  timer.unref();
}
