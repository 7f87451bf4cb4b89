// The bundled agent's WebSocket client (src/transport/mini-ws.ts, used in
// place of `ws`) against the `ws` server: text and binary both ways, large and
// fragmented messages, ping, close codes, a refused upgrade — over ws:// and
// over wss:// with a certificate the client must verify.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket as ServerSocket } from 'ws';
import { WebSocket } from '../src/transport/mini-ws.js';

interface Events { messages: unknown[]; open: boolean; closed: { code: number; reason: string } | null; errors: string[] }

function connect(url: string, opts: Record<string, unknown> = {}): { ws: WebSocket; ev: Events; until(p: (ev: Events) => boolean): Promise<void> } {
  const ws = new WebSocket(url, undefined, opts);
  const ev: Events = { messages: [], open: false, closed: null, errors: [] };
  const waiters = new Set<() => void>();
  const kick = () => waiters.forEach((w) => w());
  ws.onopen = () => ((ev.open = true), kick());
  ws.onmessage = (e) => (ev.messages.push(e.data), kick());
  ws.onerror = (e) => (ev.errors.push(e.message), kick());
  ws.onclose = (e) => ((ev.closed = { code: e.code, reason: e.reason }), kick());
  const until = (p: (ev: Events) => boolean) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; events: ${JSON.stringify({ ...ev, messages: ev.messages.length })}`)), 5000);
    const check = () => {
      if (p(ev)) {
        clearTimeout(timer);
        waiters.delete(check);
        resolve();
      }
    };
    waiters.add(check);
    check();
  });
  return { ws, ev, until };
}

function echoServer(server: WebSocketServer): void {
  server.on('connection', (s: ServerSocket, req) => {
    if (req.url?.includes('close-me')) return s.close(4001, 'bye');
    s.on('message', (data, isBinary) => {
      const text = data.toString();
      if (!isBinary && text === 'fragmented') {
        // Three frames of one message.
        s.send('a'.repeat(10), { fin: false });
        s.send('b'.repeat(70_000), { fin: false });
        s.send('c', { fin: true });
      } else if (!isBinary && text === 'ping') s.ping('p');
      else s.send(data, { binary: isBinary });
    });
    s.on('pong', () => s.send('got-pong'));
  });
}

describe('mini-ws (the bundled agent\'s WebSocket client)', () => {
  let plain: WebSocketServer;
  let tlsServer: https.Server;
  let secure: WebSocketServer;
  let cert: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mini-ws-'));

  beforeAll(async () => {
    plain = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true, verifyClient: (info: { req: { url?: string } }) => !info.req.url?.includes('refuse') });
    echoServer(plain);
    await new Promise((r) => plain.once('listening', r));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-days', '1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
    cert = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    tlsServer = https.createServer({ cert, key: fs.readFileSync(path.join(dir, 'key.pem')) });
    secure = new WebSocketServer({ server: tlsServer });
    echoServer(secure);
    await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  });
  afterAll(async () => {
    plain?.close();
    secure?.close();
    tlsServer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const plainUrl = (p = '/') => `ws://127.0.0.1:${(plain.address() as { port: number }).port}${p}`;

  it('exchanges text and binary, large and fragmented messages, answers pings, closes cleanly (no deflate negotiated)', async () => {
    const c = connect(plainUrl('/x?y=1'));
    await c.until((e) => e.open);
    c.ws.send('hello');
    c.ws.send(Buffer.from([1, 2, 3]));
    const big = 'x'.repeat(200_000);
    c.ws.send(big);
    c.ws.send('fragmented');
    c.ws.send('ping');
    await c.until((e) => e.messages.length >= 5);
    expect(c.ev.messages[0]).toBe('hello');
    expect(Buffer.isBuffer(c.ev.messages[1])).toBe(true);
    expect([...(c.ev.messages[1] as Buffer)]).toEqual([1, 2, 3]);
    expect(c.ev.messages[2]).toBe(big);
    expect(c.ev.messages[3]).toBe(`${'a'.repeat(10)}${'b'.repeat(70_000)}c`);
    expect(c.ev.messages[4]).toBe('got-pong');
    c.ws.close();
    await c.until((e) => !!e.closed);
    expect(c.ev.closed!.code).toBe(1000);
    expect(c.ev.errors).toEqual([]);
  });

  it('reports the server\'s close code, a refused upgrade and a refused connection as error + close', async () => {
    const closed = connect(plainUrl('/close-me'));
    await closed.until((e) => !!e.closed);
    expect(closed.ev.closed).toEqual({ code: 4001, reason: 'bye' });

    const refused = connect(plainUrl('/refuse'));
    await refused.until((e) => !!e.closed);
    expect(refused.ev.open).toBe(false);
    expect(refused.ev.errors.join()).toContain('Unexpected server response: 401');

    const nobody = connect('ws://127.0.0.1:1/');
    await nobody.until((e) => !!e.closed);
    expect(nobody.ev.errors.join()).toContain('ECONNREFUSED');
    expect(nobody.ev.closed!.code).toBe(1006);
  });

  it('wss: verifies the server certificate (refuses an unknown CA, works with it trusted)', async () => {
    const port = (tlsServer.address() as { port: number }).port;
    const untrusted = connect(`wss://localhost:${port}/`);
    await untrusted.until((e) => !!e.closed);
    expect(untrusted.ev.open).toBe(false);
    expect(untrusted.ev.errors.join()).toMatch(/self[- ]signed/i);

    const trusted = connect(`wss://localhost:${port}/`, { ca: cert });
    await trusted.until((e) => e.open);
    trusted.ws.send('over tls');
    await trusted.until((e) => e.messages.length === 1);
    expect(trusted.ev.messages[0]).toBe('over tls');
    trusted.ws.close();
    await trusted.until((e) => !!e.closed);
  });
});
