import fs from 'node:fs';
import path from 'node:path';
import type { Allowlist } from './commands/runner.js';
import type { LogSource } from './logs/tailer.js';

/** The agent's configuration file (JSON). Holds a credential: always mode 0600. */
export interface AgentConfig {
  url: string;
  agentId: string;
  credential: string;
  /** The panel's Ed25519 public key (base64 DER), pinned at enrolment; commands must be signed with it. */
  panelPublicKey: string;
  panelKeyFingerprint: string;
  /** Where the sample buffer lives. */
  dataDir: string;
  /** Collection interval until the panel says otherwise. */
  intervalMs?: number;
  /** Commands the panel may run: name → exact argv (or a command line split on spaces, no shell). */
  commands?: Allowlist;
  commandTimeoutMaxMs?: number;
  logs?: LogSource[];
  buffer?: { maxSamples?: number; segmentSize?: number; sync?: boolean };
  /** The on-disk queue of log lines (`<dataDir>/<agentId>/logs/`): lines kept at most (oldest dropped), line length cut, fdatasync. */
  logBuffer?: { maxLines?: number; maxLineBytes?: number; sync?: boolean };
  collect?: { includeFsTypes?: string[]; includeLoopback?: boolean };
  reconnect?: { delayMs?: number; maxDelayMs?: number };
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export const DEFAULT_CONFIG = process.env.MPANEL_AGENT_CONFIG ?? '/etc/mpanel-agent/config.json';
export const DEFAULT_DATA_DIR = '/var/lib/mpanel-agent';

export function readConfig(file: string): AgentConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no agent configuration at ${file}: enrol first (mpanel-agent enroll --url … --token …)`);
  }
  const c = JSON.parse(text) as AgentConfig;
  for (const k of ['url', 'agentId', 'credential', 'panelPublicKey', 'dataDir'] as const) {
    if (typeof c[k] !== 'string' || !c[k]) throw new Error(`${file}: "${k}" is missing; enrol again`);
  }
  const mode = fs.statSync(file).mode & 0o077;
  if (mode) throw new Error(`${file} is readable by others (mode ${(fs.statSync(file).mode & 0o777).toString(8)}); chmod 600 it — it holds the agent's credential`);
  return c;
}

/** Writes the configuration atomically with mode 0600 (created so, never widened). */
export function writeConfig(file: string, config: AgentConfig): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  fs.chmodSync(tmp, 0o600);
  fs.renameSync(tmp, file);
}
