import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { TestPanel } from '@mpanel/sdk/testing';
import { API, agentProcess, enrolAgent, patchConfig, runCli, startPanel, until, type AgentProcess } from './helpers.js';

let t: TestPanel;
const agents: AgentProcess[] = [];
const sockets: Socket[] = [];

beforeAll(async () => {
  t = await startPanel();
});
afterAll(async () => {
  for (const s of sockets) s.disconnect();
  for (const a of agents) await a.stop();
  await t?.close();
});


const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}`);
const text = (ls: string[]) => ls.map((l) => `${l}\n`).join('');

async function stored(agentId: string): Promise<Array<{ seq: number | null; file: string; line: string }>> {
  const r = await t.sql<{ seq: string | null; file: string; line: string }>('select seq, file, line from plugin_monitoring.log_line where agent_id = $1 order by id', [agentId]);
  return r.map((x) => ({ seq: x.seq === null ? null : Number(x.seq), file: x.file, line: x.line }));
}

/** The agent's on-disk log queue. */
function queueOf(dir: string, agentId: string) {
  const q = path.join(dir, 'data', agentId, 'logs');
  return {
    /** Lines the agent has put in its queue files (acknowledged ones may be gone). */
    lines: () => fs.readdirSync(q).filter((f) => f.startsWith('seg-')).flatMap((f) => fs.readFileSync(path.join(q, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l).line as string)),
    state: () => JSON.parse(fs.readFileSync(path.join(q, 'state.json'), 'utf8')) as { ackedSeq: number; dropped: number },
  };
}

async function agentView(agentId: string) {
  const res = await t.as('admin').get(`${API}/agents/${agentId}`);
  expect(res.status).toBe(200);
  return res.body;
}

it('ships every line exactly once and in order across a panel outage, rotations and an agent restart', async () => {
  const { dir, configFile, agentId } = await enrolAgent(t, 'logs');
  const logFile = path.join(dir, 'app.log');
  fs.writeFileSync(logFile, 'history from before the agent\n');
  patchConfig(configFile, { logs: [{ path: logFile, name: 'app' }], reconnect: { delayMs: 100, maxDelayMs: 500 } });
  const agent = agentProcess(dir, configFile);
  agents.push(agent);
  agent.start();
  await until('the agent online', async () => (await agentView(agentId)).status === 'online');
  const queue = queueOf(dir, agentId);

  fs.appendFileSync(logFile, text(lines(1, 5)));
  await until('the first lines', async () => (await stored(agentId)).length >= 5);

  await t.stop();
  fs.appendFileSync(logFile, text(lines(6, 10)));
  await until('lines queued on disk while the panel is down', () => queue.lines().includes('line 10'));
  // Rename rotation while the agent runs (writing to the old file after it is renamed is in the agent's own tests:
  // here the agent's polls would race the test).
  fs.renameSync(logFile, `${logFile}.1`);
  fs.writeFileSync(logFile, text(lines(11, 14)));
  await until('the rotated file followed', () => queue.lines().includes('line 14'));

  // The agent goes down too; meanwhile more lines, and another rotation.
  await agent.stop();
  fs.appendFileSync(logFile, text(lines(15, 17)));
  fs.renameSync(logFile, `${logFile}.2`);
  fs.writeFileSync(logFile, text(lines(18, 20)));
  agent.start();
  await until('lines from while the agent was down queued', () => queue.lines().includes('line 20'));

  await t.start();
  await until('every line stored and acknowledged', async () => {
    const rows = await stored(agentId);
    return rows.some((r) => r.line === 'line 20') && queue.state().ackedSeq === rows[rows.length - 1]!.seq;
  }, 30_000);
  await agent.stop();

  const rows = await stored(agentId);
  expect(rows.map((r) => r.line)).toEqual(lines(1, 20));
  expect(rows.every((r) => r.file === 'app')).toBe(true);
  // One number per line, never reused: consecutive in the agent's order.
  expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => rows[0]!.seq! + i));

  const api = await t.as('admin').get(`${API}/agents/${agentId}/logs?file=app&limit=100`);
  expect(api.status).toBe(200);
  expect(api.body.items.map((i: any) => i.line).reverse()).toEqual(lines(1, 20));
  expect((await agentView(agentId)).droppedLogLines).toBe(0);
  // `mpanel-agent status` reports the queue: nothing pending, acknowledged up to the last stored line.
  const status = await runCli(['status', '--config', configFile]);
  expect(status.code, status.stderr).toBe(0);
  expect(JSON.parse(status.stdout).logQueue).toMatchObject({ pending: 0, dropped: 0, ackedSeq: rows[rows.length - 1]!.seq });
});

it('records how many lines a full agent queue dropped', async () => {
  const { dir, configFile, agentId } = await enrolAgent(t, 'logs-small-queue');
  const logFile = path.join(dir, 'busy.log');
  fs.writeFileSync(logFile, '');
  patchConfig(configFile, { logs: [{ path: logFile, name: 'busy' }], logBuffer: { maxLines: 20 }, reconnect: { delayMs: 100, maxDelayMs: 500 } });
  const agent = agentProcess(dir, configFile);
  agents.push(agent);
  agent.start();
  await until('the agent online', async () => (await agentView(agentId)).status === 'online');
  fs.appendFileSync(logFile, text(lines(1, 200)));
  const queue = queueOf(dir, agentId);
  await until('the last line stored', async () => {
    const rows = await stored(agentId);
    return rows.some((r) => r.line === 'line 200') && queue.state().ackedSeq === rows[rows.length - 1]!.seq;
  });
  await agent.stop();
  const dropped = queue.state().dropped;
  expect(dropped).toBeGreaterThan(0);
  const rows = (await stored(agentId)).map((r) => r.line);
  expect(rows.length + dropped).toBe(200);
  expect(rows[rows.length - 1]).toBe('line 200');
  expect(rows.map((l) => Number(l.split(' ')[1]))).toEqual(rows.map((l) => Number(l.split(' ')[1])).sort((a, b) => a - b));
  expect((await agentView(agentId)).droppedLogLines).toBe(dropped);
});

it('stores a resent batch once, accepts batches from older agents and refuses malformed ones', async () => {
  const { agentId, credential } = await enrolAgent(t, 'logs-raw');
  const s = io(`${t.url}/p/monitoring/agents`, { auth: { agentId, credential }, transports: ['websocket'], reconnection: false });
  sockets.push(s);
  await new Promise<void>((resolve, reject) => {
    s.on('connect', () => resolve());
    s.on('connect_error', reject);
  });
  const send = (batch: unknown) => s.timeout(10_000).emitWithAck('logs', batch) as Promise<{ ok: boolean; upTo?: number; stored?: number; error?: string }>;
  const ts = Date.now();
  const batch = { file: 'raw', lines: [{ seq: 1, ts, line: 'r1' }, { seq: 2, ts, line: 'r2' }], dropped: 0 };

  expect(await send(batch)).toEqual({ ok: true, upTo: 2, stored: 2 });
  expect(await send(batch)).toEqual({ ok: true, upTo: 2, stored: 0 }); // the acknowledgement was lost: resent
  expect(await send({ file: 'raw', lines: [{ seq: 2, ts, line: 'r2' }, { seq: 3, ts, line: 'r3' }], dropped: 0 })).toEqual({ ok: true, upTo: 3, stored: 1 });
  expect((await stored(agentId)).map((r) => [r.seq, r.line])).toEqual([[1, 'r1'], [2, 'r2'], [3, 'r3']]);

  const malformed: unknown[] = [
    null,
    { lines: [] },
    { file: 'raw', lines: 'x' },
    { file: 'x'.repeat(301), lines: [] },
    { file: 'raw', lines: [{ seq: 0, ts, line: 'zero' }] },
    { file: 'raw', lines: [{ seq: 4.5, ts, line: 'fraction' }] },
    { file: 'raw', lines: [{ seq: '4', ts, line: 'string' }] },
    { file: 'raw', lines: [{ seq: 2 ** 53, ts, line: 'unsafe' }] },
    { file: 'raw', lines: [{ seq: 5, ts, line: 'b' }, { seq: 4, ts, line: 'a' }] },
    { file: 'raw', lines: [{ seq: 4, ts, line: 'numbered' }, { ts, line: 'not' }] },
    { file: 'raw', lines: [{ seq: 4, ts: 'now', line: 'bad time' }] },
    { file: 'raw', lines: [{ seq: 4, ts, line: 42 }] },
    { file: 'raw', lines: Array.from({ length: 2001 }, (_, i) => ({ seq: 10 + i, ts, line: 'many' })) },
    { file: 'raw', lines: [{ seq: 4, ts, line: 'neg' }], dropped: -1 },
  ];
  for (const m of malformed) expect(await send(m), JSON.stringify(m)?.slice(0, 80)).toEqual({ ok: false, error: 'invalid-batch' });
  expect((await stored(agentId)).length).toBe(3);

  // An agent from before log sequence numbers: no seq, `dropped` counted since its previous batch.
  expect(await send({ file: 'legacy', lines: [{ ts, line: 'old agent' }, { ts, line: 'old agent' }], dropped: 3 })).toEqual({ ok: true, stored: 2 });
  expect((await stored(agentId)).filter((r) => r.file === 'legacy').map((r) => [r.seq, r.line])).toEqual([[null, 'old agent'], [null, 'old agent']]);
  expect((await agentView(agentId)).droppedLogLines).toBe(3);
  // A current agent reports its running total.
  expect(await send({ file: 'raw', lines: [{ seq: 4, ts, line: 'r4' }], dropped: 7 })).toEqual({ ok: true, upTo: 4, stored: 1 });
  expect(await send({ file: 'raw', lines: [{ seq: 4, ts, line: 'r4' }], dropped: 7 })).toEqual({ ok: true, upTo: 4, stored: 0 });
  expect((await agentView(agentId)).droppedLogLines).toBe(7);

  const api = await t.as('admin').get(`${API}/agents/${agentId}/logs?file=raw`);
  expect(api.body.items.map((i: any) => i.line)).toEqual(['r4', 'r3', 'r2', 'r1']);
});
