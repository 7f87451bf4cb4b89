import { createRequire } from 'node:module';
import type { ChildProcess } from 'node:child_process';

// `node:child_process` is loaded on the first command only: most agents never run one,
// and loading it costs resident memory for the agent's whole life.
const lazy = createRequire(import.meta.url);
const spawn = (file: string, args: string[], options: import('node:child_process').SpawnOptions): ChildProcess =>
  (lazy('node:child_process') as typeof import('node:child_process')).spawn(file, args, options) as ChildProcess;
import type { KeyObject } from 'node:crypto';
import { verifyCommand, type SignedCommand } from './signature.js';

/** Name → exact argv. No shell is ever involved, so nothing in a name or request can inject arguments. */
export type Allowlist = Record<string, string[] | string>;

export type CommandEvent =
  | { type: 'output'; id: string; stream: 'stdout' | 'stderr'; data: string }
  | { type: 'exit'; id: string; exitCode: number | null; signal: string | null; timedOut: boolean; truncated: boolean; durationMs: number }
  | { type: 'refused'; id: string; reason: string };

export interface RunnerOptions {
  agentId: string;
  panelKey: KeyObject;
  allowlist: Allowlist;
  /** Longest timeout the agent accepts, whatever the panel asks. */
  maxTimeoutMs?: number;
  maxOutputBytes?: number;
  maxConcurrent?: number;
  /** Tolerated clock difference to the panel. */
  clockSkewMs?: number;
  now?: () => number;
}

function argvOf(entry: string[] | string): string[] {
  return Array.isArray(entry) ? entry : entry.trim().split(/\s+/);
}

/**
 * Runs allowlisted commands the panel asked for, after checking the panel's
 * Ed25519 signature against the key pinned at enrolment, that the request is
 * for this agent, fresh, and not a replay. Output is streamed as it comes.
 */
export class CommandRunner {
  private readonly seen = new Map<string, number>();
  private readonly running = new Map<string, ChildProcess>();
  private readonly now: () => number;

  constructor(private readonly o: RunnerOptions) {
    this.now = o.now ?? Date.now;
  }

  names(): string[] {
    return Object.keys(this.o.allowlist).sort();
  }

  /** Checks a request; returns the reason to refuse it, or null. */
  check(c: SignedCommand): string | null {
    if (!c || typeof c !== 'object' || typeof c.id !== 'string' || typeof c.name !== 'string') return 'malformed request';
    if (!verifyCommand(c, this.o.panelKey)) return 'bad signature';
    if (c.agentId !== this.o.agentId) return 'addressed to another agent';
    const now = this.now();
    const skew = this.o.clockSkewMs ?? 30_000;
    if (!(c.expiresAt >= now - skew) || !(c.issuedAt <= now + skew) || c.expiresAt - c.issuedAt > 10 * 60_000) return 'expired';
    if (this.seen.has(c.id)) return 'replayed';
    if (!Object.hasOwn(this.o.allowlist, c.name)) return `"${c.name}" is not in this agent's allowlist`;
    if (this.running.size >= (this.o.maxConcurrent ?? 4)) return 'too many commands running';
    return null;
  }

  /** Runs a request (or refuses it), reporting through `emit`. */
  handle(c: SignedCommand, emit: (e: CommandEvent) => void): void {
    const id = typeof c?.id === 'string' ? c.id : '';
    const reason = this.check(c);
    if (reason) {
      emit({ type: 'refused', id, reason });
      return;
    }
    // Remember ids until they could no longer pass the freshness check anyway.
    this.seen.set(c.id, c.expiresAt);
    for (const [k, exp] of this.seen) if (exp < this.now() - 60_000) this.seen.delete(k);
    const [file, ...args] = argvOf(this.o.allowlist[c.name]!);
    const started = this.now();
    const timeoutMs = Math.max(100, Math.min(c.timeoutMs || 30_000, this.o.maxTimeoutMs ?? 300_000));
    const maxBytes = this.o.maxOutputBytes ?? 1_000_000;
    let sent = 0;
    let truncated = false;
    let timedOut = false;
    let child: ChildProcess;
    try {
      child = spawn(file!, args, { shell: false, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' } });
    } catch (err) {
      emit({ type: 'refused', id, reason: `could not start: ${(err as Error).message}` });
      return;
    }
    this.running.set(id, child);
    const forward = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      if (truncated) return;
      const room = maxBytes - sent;
      const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
      sent += piece.length;
      if (piece.length) emit({ type: 'output', id, stream, data: piece.toString('utf8') });
      if (chunk.length > room) truncated = true;
    };
    child.stdout!.on('data', forward('stdout'));
    child.stderr!.on('data', forward('stderr'));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 2000).unref();
    }, timeoutMs);
    let done = false;
    const finish = (exitCode: number | null, signal: string | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.running.delete(id);
      emit({ type: 'exit', id, exitCode, signal, timedOut, truncated, durationMs: this.now() - started });
    };
    child.on('error', (err) => {
      emit({ type: 'output', id, stream: 'stderr', data: `${err.message}\n` });
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
  }

  killAll(): void {
    for (const c of this.running.values()) c.kill('SIGKILL');
  }
}
