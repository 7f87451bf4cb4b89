import os from 'node:os';
import { readConfig, writeConfig, DEFAULT_DATA_DIR, type AgentConfig } from './config.js';
import { fingerprint, panelKey } from './commands/signature.js';
import { AGENT_VERSION } from './version.js';
import { postJson } from './http-post.js';

export interface EnrollOptions {
  url: string;
  token: string;
  configFile: string;
  dataDir?: string;
  name?: string;
  /** Expected fingerprint of the panel's signing key (`sha256:…`), as the panel shows it with the token. */
  fingerprint?: string;
}

/**
 * Exchanges a single-use enrolment token for this agent's own credential and
 * pins the panel's public key. Keeps an existing allowlist and log settings.
 */
export async function enroll(o: EnrollOptions): Promise<AgentConfig> {
  const url = o.url.replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw new Error('--url must be the panel\'s http(s) address');
  const res = await postJson(`${url}/api/v1/p/monitoring/enroll`,
    { token: o.token, hostname: o.name ?? os.hostname(), platform: `${os.platform()} ${os.release()}`, arch: os.arch(), agentVersion: AGENT_VERSION }, 30_000);
  const text = res.text;
  let body: Record<string, any> = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below
  }
  if (res.status !== 201) throw new Error(`the panel refused the enrolment (${res.status}${body.code ? ` ${body.code}` : ''}): ${body.detail ?? text.slice(0, 200)}`);
  panelKey(body.panelPublicKey); // must be a usable Ed25519 key
  const fp = fingerprint(body.panelPublicKey);
  if (o.fingerprint && o.fingerprint !== fp) throw new Error(`the panel's key fingerprint ${fp} is not the expected ${o.fingerprint}: not enrolling`);
  let previous: Partial<AgentConfig> = {};
  try {
    previous = readConfig(o.configFile);
  } catch {
    // first enrolment
  }
  const config: AgentConfig = {
    ...previous,
    url,
    agentId: body.agentId,
    credential: body.credential,
    panelPublicKey: body.panelPublicKey,
    panelKeyFingerprint: fp,
    dataDir: o.dataDir ?? previous.dataDir ?? DEFAULT_DATA_DIR,
    intervalMs: body.intervalMs ?? previous.intervalMs,
    commands: previous.commands ?? {},
    logs: previous.logs ?? [],
  };
  writeConfig(o.configFile, config);
  return config;
}
