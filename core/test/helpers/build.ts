import fs from 'node:fs';
import path from 'node:path';
import { execFile, spawn } from 'node:child_process';

export const CORE_DIR = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(CORE_DIR, 'dist/cli/main.js');
const SRC = path.join(CORE_DIR, 'src');
const LOCK = path.join(CORE_DIR, '.build-lock');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : fs.statSync(p).mtimeMs);
  }
  return newest;
}

function isFresh(): boolean {
  return fs.existsSync(BIN) && fs.statSync(BIN).mtimeMs >= newestMtime(SRC);
}

/**
 * Compiles core to core/dist when dist is missing or older than src (test
 * files that spawn the real binary call this in beforeAll). A lock directory
 * keeps parallel test files from compiling into dist at the same time.
 */
export async function ensureBuilt(timeoutMs = 120_000): Promise<void> {
  if (isFresh()) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      break;
    } catch {
      // Someone else is building; a lock older than the timeout is stale.
      try {
        if (Date.now() - fs.statSync(LOCK).mtimeMs > timeoutMs) fs.rmSync(LOCK, { recursive: true, force: true });
      } catch { /* gone already */ }
      if (Date.now() > deadline) throw new Error('timed out waiting for another build of core');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (isFresh()) return;
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [path.join(CORE_DIR, '../node_modules/typescript/bin/tsc'), '-p', path.join(CORE_DIR, 'tsconfig.json')], { timeout: timeoutMs }, (err, stdout) => {
        // Type errors still emit JavaScript; only a missing binary is fatal.
        if (err && !fs.existsSync(BIN)) reject(new Error(`tsc failed: ${stdout}`));
        else resolve();
      });
    });
    // tsc does not rewrite outputs whose content is unchanged: mark the build as fresh.
    const now = new Date();
    fs.utimesSync(BIN, now, now);
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `mpanel` binary; `input` is written to its stdin. Fails if it runs longer than `timeoutMs`. */
export function runCli(args: string[], opts: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, LOG_LEVEL: 'warn', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`mpanel ${args.join(' ')} did not exit within ${opts.timeoutMs ?? 60_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}
