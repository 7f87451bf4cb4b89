import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestPanel, type TestPanel } from '@mpanel/sdk/testing';

export const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const agentCli = path.resolve(pluginDir, '../../agent/dist/cli.cjs');
/** The node flags of the shipped systemd unit: the tests run the agent as it is deployed. */
export const agentNodeFlags = (() => {
  const unit = fs.readFileSync(path.resolve(pluginDir, '../../agent/mpanel-agent.service'), 'utf8');
  return /ExecStart=\S+node((?:\s+--[\w-]+(?:=\S+)?)*)/.exec(unit)?.[1]?.trim().split(/\s+/).filter(Boolean) ?? [];
})();
export const API = '/api/v1/p/monitoring';

/** Boots a real panel with the monitoring plugin (fast intervals so tests don't wait). */
export function startPanel(settings: Record<string, unknown> = {}, config: Record<string, unknown> = {}): Promise<TestPanel> {
  return createTestPanel({ plugins: [pluginDir], settings: { monitoring: { defaultIntervalMs: 200, alertEvaluationMs: 200, ...settings } }, config });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns a truthy value (bounded). */
export async function until<T>(what: string, fn: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as T;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(everyMs);
  }
}

export async function createToken(t: TestPanel, body: Record<string, unknown> = {}): Promise<{ token: string; id: string; panelKeyFingerprint: string; command: string }> {
  const res = await t.as('admin').post(`${API}/enrollment-tokens`, body);
  if (res.status !== 201) throw new Error(`token: ${res.status} ${res.text}`);
  return res.body;
}

export interface EnrolledAgent { dir: string; configFile: string; agentId: string; credential: string }

/** Enrols the real agent CLI with a new token (fingerprint checked), in a new directory. */
export async function enrolAgent(t: TestPanel, label: string): Promise<EnrolledAgent> {
  const tok = await createToken(t, { label });
  const dir = agentDir();
  const configFile = path.join(dir, 'config.json');
  const r = await runCli(['enroll', '--url', t.url, '--token', tok.token, '--config', configFile, '--data-dir', path.join(dir, 'data'), '--fingerprint', tok.panelKeyFingerprint]);
  if (r.code !== 0) throw new Error(`enrol failed (${r.code}): ${r.stderr}`);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  return { dir, configFile, agentId: config.agentId, credential: config.credential };
}

export interface AgentProcess {
  dir: string;
  configFile: string;
  child: ChildProcess | null;
  stderr: string;
  start(): void;
  stop(): Promise<void>;
}

/** Runs the real agent CLI (`node agent/dist/cli.cjs …`). */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [...agentNodeFlags, agentCli, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export function agentDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-agent-test-'));
}

/** Patches the agent's config file (keeps mode 0600). */
export function patchConfig(configFile: string, patch: Record<string, unknown>): void {
  const c = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  fs.writeFileSync(configFile, JSON.stringify({ ...c, ...patch }, null, 2), { mode: 0o600 });
}

export function agentProcess(dir: string, configFile: string): AgentProcess {
  const p: AgentProcess = {
    dir, configFile, child: null, stderr: '',
    start() {
      const c = spawn(process.execPath, [...agentNodeFlags, agentCli, 'run', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      c.stderr!.on('data', (d) => (p.stderr += d));
      p.child = c;
    },
    async stop() {
      const c = p.child;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('close', () => resolve());
        c.kill('SIGTERM');
        setTimeout(() => c.kill('SIGKILL'), 3000).unref();
      });
    },
  };
  return p;
}
