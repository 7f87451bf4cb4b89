import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { TestPanel, TestPeer } from '@mpanel/sdk/testing';
import { API, agentProcess, enrolAgent, patchConfig, startPanel, until, type AgentProcess } from './helpers.js';

/**
 * Two panel processes on one PostgreSQL (as behind a load balancer): the
 * real agent is connected to A, the admin's browser and API calls go to B.
 * Everything that needs the agent's connection must cross over.
 */
let a: TestPanel;
let b: TestPeer;
let agent: AgentProcess;
let agentId: string;
let credential: string;
const sockets: Socket[] = [];

beforeAll(async () => {
  a = await startPanel({ defaultIntervalMs: 300 });
  b = await a.startPeer();
  const { dir, configFile, ...enrolled } = await enrolAgent(a, 'behind-a');
  ({ agentId, credential } = enrolled);
  patchConfig(configFile, { commands: { greet: ['echo', 'hello across processes'] }, reconnect: { delayMs: 100, maxDelayMs: 400 } });
  agent = agentProcess(dir, configFile);
  agent.start();
  // B answers from the database A keeps up to date.
  await until('the agent online, seen through B', async () => {
    const res = await b.as('admin').get(`${API}/agents/${agentId}`);
    return res.body.status === 'online' && res.body.commands.length === 1;
  });
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  await agent?.stop();
  await a?.close();
});

async function liveSocketOnB(): Promise<Socket> {
  const ticket = await b.as('admin').get(`${API}/live-ticket`);
  expect(ticket.status).toBe(200);
  const s = io(`${b.url}${ticket.body.namespace}`, { auth: { ticket: ticket.body.ticket }, transports: ['websocket'], reconnection: false });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.on('connect', () => resolve());
    s.on('connect_error', reject);
  });
  return s;
}

const nodeOf = (panel: { kernel: { cluster: { nodeId: string } } }) => panel.kernel.cluster.nodeId;
const agentRow = async () => (await a.sql<{ online: boolean; connected_node: string | null }>('select online, connected_node from plugin_monitoring.agent where id = $1', [agentId]))[0]!;

describe('an agent on one process, its viewers on another', () => {
  it('records which process holds the agent’s connection', async () => {
    const row = await agentRow();
    expect(row.online).toBe(true);
    expect(row.connected_node).toBe(nodeOf(a.panel));
    expect(row.connected_node).not.toBe(nodeOf(b.panel));
  });

  it('live samples reach a browser watching through B', async () => {
    const live = await liveSocketOnB();
    const samples: Array<{ agentId: string; ts: number; metrics: Record<string, number | null> }> = [];
    live.on('sample', (s) => samples.push(s));
    expect(await live.emitWithAck('subscribe', { agentId })).toEqual({ ok: true });
    await until('two forwarded samples', () => samples.filter((s) => s.agentId === agentId).length >= 2);
    expect(samples[0]!.metrics.cpu_usage_percent).toEqual(expect.any(Number));
    expect(samples[1]!.ts).toBeGreaterThan(samples[0]!.ts);
  });

  it('a command requested through B runs on the agent connected to A; output streams to the browser on B and is stored', async () => {
    const live = await liveSocketOnB();
    const seen: Array<Record<string, unknown>> = [];
    live.on('command', (e) => seen.push(e));
    expect(await live.emitWithAck('subscribe', { agentId })).toEqual({ ok: true });
    const res = await b.as('admin').post(`${API}/agents/${agentId}/commands`, { name: 'greet' });
    expect(res.status, res.text).toBe(202);
    await until('live output on B', () => seen.some((e) => e.commandId === res.body.id && e.type === 'output' && e.data === 'hello across processes\n'));
    await until('live finish on B', () => seen.some((e) => e.commandId === res.body.id && e.type === 'finished' && e.status === 'succeeded'));
    const stored = await b.as('admin').get(`${API}/commands/${res.body.id}`);
    expect(stored.body).toMatchObject({ status: 'succeeded', exitCode: 0, output: 'hello across processes\n' });
  });

  it('an interval change made through B reaches the agent at once', async () => {
    const res = await b.as('admin').patch(`${API}/agents/${agentId}`, { intervalMs: 700 });
    expect(res.status, res.text).toBe(200);
    await until('the agent to switch', () => agent.stderr.includes('collection interval is now 700 ms'));
  });

  it('a newer connection on B replaces the one on A, and the replaced one going away doesn’t mark the agent offline', async () => {
    // An agent connection made through B (the agent's own credential; as if its traffic moved to B).
    const onB = io(`${b.url}/p/monitoring/agents`, { auth: { agentId, credential }, transports: ['websocket'], reconnection: false });
    sockets.push(onB);
    let bDisconnected = false;
    onB.on('disconnect', () => (bDisconnected = true));
    await new Promise<void>((resolve, reject) => {
      onB.on('connect', () => resolve());
      onB.on('connect_error', reject);
    });
    // A drops its (now stale) connection; the real agent reconnects to A, which in turn replaces B's.
    await until('the agent to notice A dropped it', () => agent.stderr.includes('disconnected from the panel'));
    await until('B’s connection replaced by the agent’s reconnect to A', () => bDisconnected);
    const row = await until('the agent online on A again', async () => {
      const r = await agentRow();
      return r.online && r.connected_node === nodeOf(a.panel) ? r : null;
    });
    expect(row.online).toBe(true);
    // And it stays online: B's disconnect must not have flipped it.
    const again = await b.as('admin').get(`${API}/agents/${agentId}`);
    expect(again.body.status).toBe('online');
  });

  it('revoking through B disconnects the agent from A', async () => {
    expect((await b.as('customer').post(`${API}/agents/${agentId}/revoke`)).status).toBe(403);
    const res = await b.as('admin').post(`${API}/agents/${agentId}/revoke`);
    expect(res.status, res.text).toBe(200);
    await until('the agent refused', () => agent.stderr.includes('the panel refused this agent'));
    const row = await until('the agent offline', async () => {
      const r = await agentRow();
      return r.online ? null : r;
    });
    expect(row.connected_node).toBeNull();
  });
});
