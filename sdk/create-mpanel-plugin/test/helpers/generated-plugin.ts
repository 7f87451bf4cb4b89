/**
 * Runs the real scaffolder bin and works with what it generated, without a
 * registry: the generated plugin's dependencies are symlinked to this
 * repository's copies, then its own `npm run build` and `npm test` run.
 */
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const PACKAGE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const REPO_ROOT = path.resolve(PACKAGE_DIR, '../..');
const BIN = path.join(PACKAGE_DIR, JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')).bin['create-mpanel-plugin']);

/**
 * Compiles the scaffolder when dist/ is older than src/, so the tests never
 * run a stale dist/cli.js. Test files run in parallel: a lock directory
 * (mkdir is atomic) keeps one compiler from writing while another test runs the bin.
 */
export function buildScaffolder(): void {
  const lock = path.join(PACKAGE_DIR, '.build-lock');
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${lock} is held for 2 minutes; remove it if no test is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (!isStale()) return;
    const tsc = path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(PACKAGE_DIR, 'tsconfig.json')], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`building create-mpanel-plugin failed:\n${r.stdout}${r.stderr}`);
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

function isStale(): boolean {
  const src = path.join(PACKAGE_DIR, 'src');
  for (const f of fs.readdirSync(src)) {
    const out = path.join(PACKAGE_DIR, 'dist', f.replace(/\.ts$/, '.js'));
    if (!fs.existsSync(out) || fs.statSync(out).mtimeMs < fs.statSync(path.join(src, f)).mtimeMs) return true;
  }
  return false;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface BinResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the bin like `npm create` does: in `cwd`, with the given arguments. */
export function runBin(cwd: string, args: string[]): BinResult {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: cleanEnv() });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The environment for child tools: without this test run's vitest and npm
 * variables, which would make the nested vitest think it is a worker of ours.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(VITEST|npm_|NODE_OPTIONS$|NODE_ENV$|TEST$|TINYPOOL|FORCE_COLOR$)/i.test(k)) continue;
    env[k] = v;
  }
  env.NO_COLOR = '1'; // plain output to assert on
  return env;
}

/** What `npm install` would put there, as links to this repository's packages. */
const LINKS: Record<string, string> = {
  '@mpanel/sdk': 'sdk',
  '@mpanel/core': 'core',
  typescript: 'node_modules/typescript',
  vitest: 'node_modules/vitest',
  '@types/node': 'node_modules/@types/node',
};
const BINS: Record<string, string> = {
  tsc: 'node_modules/typescript/bin/tsc',
  vitest: 'node_modules/vitest/vitest.mjs',
};

export function linkDependencies(pluginDir: string): void {
  const nm = path.join(pluginDir, 'node_modules');
  for (const [name, target] of Object.entries(LINKS)) {
    const link = path.join(nm, name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(REPO_ROOT, target), link, 'dir');
  }
  fs.mkdirSync(path.join(nm, '.bin'), { recursive: true });
  for (const [name, target] of Object.entries(BINS)) fs.symlinkSync(path.join(REPO_ROOT, target), path.join(nm, '.bin', name));
}

/** `npm run <script>` in the plugin; resolves with the output, rejects with it on failure. */
export async function npmRun(pluginDir: string, script: string): Promise<string> {
  try {
    const { stdout, stderr } = await run('npm', ['run', script, '--silent'], { cwd: pluginDir, env: cleanEnv(), timeout: 240_000, maxBuffer: 20 * 1024 * 1024 });
    return stripAnsi(stdout + stderr);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`npm run ${script} in ${pluginDir} failed: ${e.message}\n${stripAnsi(`${e.stdout ?? ''}${e.stderr ?? ''}`)}`);
  }
}

const stripAnsi = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** Every file below `dir` (skipping node_modules), relative, with `/`. */
export function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.posix.join(prefix, e.name);
    if (e.name === 'node_modules') continue;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}
