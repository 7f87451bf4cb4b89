import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import type { TestPanel } from '@mpanel/sdk/testing';
import { API, agentDir, agentProcess, createToken, enrolAgent, patchConfig, runCli, startPanel, until, type AgentProcess } from './helpers.js';

let t: TestPanel;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  t = await startPanel();
});
afterAll(async () => {
  for (const a of agents) await a.stop();
  await t?.close();
});


it('enrols: credential stored 0600, panel key pinned, token single-use', async () => {
  const tok = await createToken(t, { label: 'web-1' });
  expect(tok.command).toContain('--fingerprint sha256:');
  const dir = agentDir();
  const configFile = path.join(dir, 'config.json');
  const r = await runCli(['enroll', '--url', t.url, '--token', tok.token, '--config', configFile, '--data-dir', path.join(dir, 'data'), '--fingerprint', tok.panelKeyFingerprint]);
  expect(r.code, r.stderr).toBe(0);
  expect(fs.statSync(configFile).mode & 0o777).toBe(0o600);
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  expect(config.panelKeyFingerprint).toBe(tok.panelKeyFingerprint);
  expect(config.credential).toMatch(/^mpa_/);
  const [row] = await t.sql<{ credential_hash: string }>('select credential_hash from plugin_monitoring.agent where id = $1', [config.agentId]);
  expect(row!.credential_hash).not.toContain(config.credential); // only a hash is stored

  // The same token again: refused.
  const again = await runCli(['enroll', '--url', t.url, '--token', tok.token, '--config', path.join(dir, 'other.json')]);
  expect(again.code).not.toBe(0);
  expect(again.stderr).toContain('enrollment-token-invalid');
  const list = await t.as('admin').get(`${API}/enrollment-tokens`);
  expect(list.body.items.find((x: any) => x.id === tok.id).status).toBe('used');
});

it('refuses expired and revoked enrolment tokens, and a wrong fingerprint', async () => {
  const expired = await createToken(t, { label: 'old', ttlMinutes: 1 });
  await t.sql("update plugin_monitoring.enrollment_token set expires_at = now() - interval '1 second' where id = $1", [expired.id]);
  const r1 = await t.anonymous().post(`${API}/enroll`, { token: expired.token, hostname: 'h' });
  expect(r1.status).toBe(401);
  expect(r1.headers.get('content-type')).toContain('application/problem+json');
  expect(r1.body.code).toBe('enrollment-token-invalid');

  const revoked = await createToken(t, { label: 'rev' });
  expect((await t.as('admin').delete(`${API}/enrollment-tokens/${revoked.id}`)).status).toBe(204);
  expect((await t.anonymous().post(`${API}/enroll`, { token: revoked.token, hostname: 'h' })).status).toBe(401);

  const fresh = await createToken(t, { label: 'fp' });
  const dir = agentDir();
  const r = await runCli(['enroll', '--url', t.url, '--token', fresh.token, '--config', path.join(dir, 'c.json'), '--fingerprint', 'sha256:00']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('fingerprint');
  expect(fs.existsSync(path.join(dir, 'c.json'))).toBe(false);

  expect((await t.anonymous().post(`${API}/enroll`, { token: 'x' })).status).toBe(400);
  expect((await t.as('customer').post(`${API}/enrollment-tokens`, {})).status).toBe(403);
});

it('reports samples; survives a panel restart with every sample stored exactly once and in order', async () => {
  const { dir, configFile, agentId } = await enrolAgent(t, 'replay');
  patchConfig(configFile, { reconnect: { delayMs: 100, maxDelayMs: 500 }, logLevel: 'debug' });
  const agent = agentProcess(dir, configFile);
  agents.push(agent);
  agent.start();
  await until('samples from the agent', async () => Number((await t.sql<{ n: string }>('select count(*) as n from plugin_monitoring.sample where agent_id = $1', [agentId]))[0]!.n) >= 3);
  const list = await t.as('admin').get(`${API}/agents`);
  expect(list.body.items.find((a: any) => a.id === agentId).status).toBe('online');

  // Kill the panel; the agent keeps collecting into its buffer.
  await t.stop();
  const stateFile = path.join(dir, 'data', agentId, 'state.json');
  const acked = JSON.parse(fs.readFileSync(stateFile, 'utf8')).ackedSeq as number;
  await until('samples buffered while the panel is down', () => {
    const files = fs.readdirSync(path.join(dir, 'data', agentId)).filter((f) => f.startsWith('seg-'));
    const lines = files.flatMap((f) => fs.readFileSync(path.join(dir, 'data', agentId, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).seq as number));
    return lines.filter((s) => s > acked).length >= 10;
  });
  expect(agent.child!.exitCode).toBeNull();

  await t.start(); // same database, data directory and port
  // Every sample the agent collected reaches the panel: the buffer drains to zero pending.
  await until('the buffer to drain after the restart', () => {
    const st = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    return st.ackedSeq > acked + 10;
  }, 30_000);
  await agent.stop();
  const st = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
  const seqs = (await t.sql<{ seq: string }>('select seq from plugin_monitoring.sample where agent_id = $1 order by ts, seq', [agentId])).map((r) => Number(r.seq));
  // Exactly once: 1..ackedSeq with no gaps and no duplicates (the primary key also forbids duplicates), in time order.
  expect(seqs[0]).toBe(1);
  expect(seqs.length).toBeGreaterThanOrEqual(st.ackedSeq);
  expect(seqs.slice(0, st.ackedSeq)).toEqual(Array.from({ length: st.ackedSeq }, (_, i) => i + 1));
  expect(st.dropped).toBe(0);
  const [a] = await t.sql<{ dropped: string }>('select dropped from plugin_monitoring.agent where id = $1', [agentId]);
  expect(Number(a!.dropped)).toBe(0);
});

it('refuses a revoked agent', async () => {
  const { configFile, agentId } = await enrolAgent(t, 'to-revoke');
  const config = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  const url = `${t.url}/p/monitoring/agents`;
  const connect = (auth: Record<string, unknown>) => new Promise<string>((resolve) => {
    const s = io(url, { auth, transports: ['websocket'], reconnection: false });
    s.on('connect', () => {
      s.disconnect();
      resolve('connected');
    });
    s.on('connect_error', (e) => {
      s.disconnect();
      resolve(e.message);
    });
  });
  expect(await connect({ agentId, credential: config.credential })).toBe('connected');
  expect(await connect({ agentId, credential: `${config.credential}x` })).toBe('unauthorized');
  expect((await t.as('customer').post(`${API}/agents/${agentId}/revoke`)).status).toBe(403);
  expect((await t.as('reseller').post(`${API}/agents/${agentId}/revoke`)).status).toBe(404);
  const res = await t.as('admin').post(`${API}/agents/${agentId}/revoke`);
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('revoked');
  expect(await connect({ agentId, credential: config.credential })).toBe('unauthorized');
  const audit = await t.as('owner').get('/api/v1/audit?action=monitoring.agent.revoke');
  expect(audit.body.items[0].target).toBe(`monitoring-agent:${agentId}`);
});
