import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Server, type Socket } from 'socket.io';
import { Agent } from '../src/agent.js';
import { commandSigningInput, type SignedCommand } from '../src/commands/signature.js';

/**
 * The real agent against a stand-in panel (a real socket.io server on
 * loopback) that can send whatever it likes: only requests signed with the
 * pinned key, for this agent, fresh, unseen and naming an allowlisted
 * command may run.
 */
const panelKeys = generateKeyPairSync('ed25519');
const otherKeys = generateKeyPairSync('ed25519');
const agentId = randomUUID();
let server: http.Server;
let io: Server;
let agent: Agent;
let socket: Socket;
const events: any[] = [];

function signed(fields: Partial<SignedCommand> = {}, key: KeyObject = panelKeys.privateKey): SignedCommand {
  const now = Date.now();
  const c = { id: randomUUID(), agentId, name: 'hello', issuedAt: now, expiresAt: now + 60_000, timeoutMs: 5000, ...fields };
  return { ...c, sig: sign(null, commandSigningInput(c), key).toString('base64') };
}

async function send(c: unknown): Promise<any> {
  const id = (c as { id?: string }).id;
  socket.emit('command', c);
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const done = events.find((e) => e.id === id && (e.type === 'exit' || e.type === 'refused'));
    if (done) return done;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no answer from the agent');
}

beforeAll(async () => {
  server = http.createServer();
  io = new Server(server);
  const connected = new Promise<Socket>((resolve) => {
    io.of('/p/monitoring/agents').on('connection', (s) => {
      s.on('hello', (_d, ack) => ack({ intervalMs: 60_000, lastSeq: 0 }));
      s.on('samples', (d, ack) => ack({ ok: true, upTo: d.samples[d.samples.length - 1].seq }));
      s.on('command-event', (e) => events.push(e));
      resolve(s);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpanel-agent-cmd-'));
  agent = new Agent({
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    agentId,
    credential: 'x',
    panelPublicKey: panelKeys.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    panelKeyFingerprint: '',
    dataDir: dir,
    commands: { hello: ['echo', 'hello', 'world'], slow: ['sleep', '5'], uname: 'uname -s' },
    logLevel: 'silent',
  });
  agent.start();
  socket = await connected;
});
afterAll(async () => {
  agent?.stop();
  io?.close();
  server?.close();
});

describe('commands', () => {
  it('runs an allowlisted command signed by the pinned key and streams its output', async () => {
    const c = signed();
    const done = await send(c);
    expect(done).toMatchObject({ type: 'exit', exitCode: 0, timedOut: false });
    expect(events.filter((e) => e.id === c.id && e.type === 'output').map((e) => e.data).join('')).toBe('hello world\n');
    expect((await send(signed({ name: 'uname' }))).exitCode).toBe(0);
  });

  it('refuses unsigned, tampered and foreign-key requests', async () => {
    const { sig: _sig, ...unsigned } = signed();
    expect((await send(unsigned)).reason).toBe('bad signature');
    // Signed for "hello", then renamed to another allowlisted command.
    expect((await send({ ...signed(), name: 'uname' })).reason).toBe('bad signature');
    expect((await send({ ...signed(), timeoutMs: 999_999 })).reason).toBe('bad signature');
    expect((await send(signed({}, otherKeys.privateKey))).reason).toBe('bad signature');
  });

  it('refuses requests for other agents, expired ones and replays', async () => {
    expect((await send(signed({ agentId: randomUUID() }))).reason).toBe('addressed to another agent');
    expect((await send(signed({ issuedAt: Date.now() - 600_000, expiresAt: Date.now() - 120_000 }))).reason).toBe('expired');
    const c = signed();
    expect((await send(c)).type).toBe('exit');
    events.length = 0;
    expect((await send(c)).reason).toBe('replayed');
  });

  it('refuses a name outside the allowlist, even when properly signed', async () => {
    const r = await send(signed({ name: 'rm' }));
    expect(r.type).toBe('refused');
    expect(r.reason).toContain('not in this agent\'s allowlist');
    expect((await send(signed({ name: 'constructor' }))).type).toBe('refused');
  });

  it('kills a command at its timeout', async () => {
    const r = await send(signed({ name: 'slow', timeoutMs: 300 }));
    expect(r).toMatchObject({ type: 'exit', timedOut: true, signal: 'SIGTERM' });
    expect(r.durationMs).toBeLessThan(4000);
  });
});
