/**
 * A small RFC 6455 WebSocket client, just what engine.io-client's websocket
 * transport uses of the `ws` package (`new WebSocket(uri, protocols, opts)`,
 * `onopen/onmessage/onerror/onclose`, `send`, `close`, `binaryType`,
 * `_socket`). The bundled `mpanel-agent` binary uses it in place of `ws`,
 * which loads `http`, `https`, `tls`, `zlib` and `stream` at startup and
 * costs the agent ~9 MB of resident memory. This one loads `node:net` — and
 * `node:tls` only for a `wss:` URL — and speaks no extensions (no
 * permessage-deflate), which a socket.io server accepts.
 */
import { createRequire } from 'node:module';
import { createHash, randomBytes, randomFillSync } from 'node:crypto';
import type { Socket } from 'node:net';

const lazy = createRequire(import.meta.url);
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_HEADER_BYTES = 16 * 1024;

interface Options {
  headers?: Record<string, string | string[]>;
  maxPayload?: number;
  rejectUnauthorized?: boolean;
  ca?: string | Buffer | Array<string | Buffer>;
  cert?: string | Buffer;
  key?: string | Buffer;
  localAddress?: string;
  family?: number;
  handshakeTimeout?: number;
}

type Listener = ((ev: any) => void) | null;

export class WebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readyState = WebSocket.CONNECTING;
  binaryType = 'nodebuffer';
  onopen: Listener = null;
  onmessage: Listener = null;
  onerror: Listener = null;
  onclose: Listener = null;
  readonly url: string;
  _socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private upgraded = false;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private fragmentBytes = 0;
  private closeCode = 1006;
  private closeReason = '';
  private closeSent = false;
  private finished = false;
  private readonly maxPayload: number;
  private readonly key = randomBytes(16).toString('base64');

  constructor(address: string, protocols?: string | string[], opts: Options = {}) {
    const url = new URL(address);
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new SyntaxError(`Unsupported protocol ${url.protocol}`);
    this.url = url.href;
    this.maxPayload = opts.maxPayload ?? 100 * 1024 * 1024;
    const secure = url.protocol === 'wss:';
    const port = Number(url.port || (secure ? 443 : 80));
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const connectOpts = { host, port, localAddress: opts.localAddress, family: opts.family };
    this._socket = secure
      ? (lazy('node:tls') as typeof import('node:tls')).connect({
          ...connectOpts, servername: /^[\d.]+$|:/.test(host) ? undefined : host,
          rejectUnauthorized: opts.rejectUnauthorized ?? true, ca: opts.ca, cert: opts.cert, key: opts.key,
        })
      : (lazy('node:net') as typeof import('node:net')).connect(connectOpts);
    const s = this._socket;
    s.setNoDelay(true);
    s.setTimeout(opts.handshakeTimeout ?? 20_000, () => this.fail(new Error('WebSocket handshake timed out')));
    const headers: Record<string, string | string[]> = {
      Host: url.host, Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Key': this.key, 'Sec-WebSocket-Version': '13',
      ...(protocols && protocols.length ? { 'Sec-WebSocket-Protocol': ([] as string[]).concat(protocols).join(', ') } : {}),
      ...opts.headers,
    };
    const lines = [`GET ${url.pathname}${url.search} HTTP/1.1`];
    for (const [k, v] of Object.entries(headers)) for (const one of ([] as string[]).concat(v)) lines.push(`${k}: ${one}`);
    s.once(secure ? 'secureConnect' : 'connect', () => s.write(`${lines.join('\r\n')}\r\n\r\n`));
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (err) => this.fail(err));
    s.on('close', () => this.finish());
  }

  send(data: string | Buffer | ArrayBuffer | ArrayBufferView, _opts?: unknown, cb?: (err?: Error | null) => void): void {
    if (this.readyState !== WebSocket.OPEN) throw new Error('WebSocket is not open');
    if (typeof data === 'string') this.frame(0x1, Buffer.from(data), cb);
    else if (Buffer.isBuffer(data)) this.frame(0x2, data, cb);
    else if (ArrayBuffer.isView(data)) this.frame(0x2, Buffer.from(data.buffer, data.byteOffset, data.byteLength), cb);
    else this.frame(0x2, Buffer.from(data), cb);
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState === WebSocket.CLOSED) return;
    if (this.readyState === WebSocket.CONNECTING) {
      this.readyState = WebSocket.CLOSING;
      this._socket.destroy();
      return;
    }
    this.readyState = WebSocket.CLOSING;
    this.sendClose(code, reason);
    // The server answers with its close frame and closes the TCP connection; don't wait forever.
    setTimeout(() => this._socket.destroy(), 5000).unref();
  }

  private sendClose(code: number, reason: string): void {
    if (this.closeSent) return;
    this.closeSent = true;
    const r = Buffer.from(reason);
    const p = Buffer.alloc(2 + r.length);
    p.writeUInt16BE(code, 0);
    r.copy(p, 2);
    this.frame(0x8, p);
  }

  private frame(opcode: number, payload: Buffer, cb?: (err?: Error | null) => void): void {
    const len = payload.length;
    const head = Buffer.alloc(len < 126 ? 6 : len < 65536 ? 8 : 14);
    head[0] = 0x80 | opcode;
    let o = 2;
    if (len < 126) head[1] = 0x80 | len;
    else if (len < 65536) {
      head[1] = 0x80 | 126;
      head.writeUInt16BE(len, 2);
      o = 4;
    } else {
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(len), 2);
      o = 10;
    }
    // Clients mask every frame (RFC 6455 §5.3) with a fresh random key.
    const mask = head.subarray(o, o + 4);
    randomFillSync(mask);
    const masked = Buffer.allocUnsafe(len);
    for (let i = 0; i < len; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
    this._socket.write(Buffer.concat([head, masked]), cb);
  }

  private onData(chunk: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    if (!this.upgraded) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (this.buf.length > MAX_HEADER_BYTES) this.fail(new Error('WebSocket handshake: response headers too large'));
        return;
      }
      const [status, ...headerLines] = this.buf.subarray(0, end).toString('latin1').split('\r\n');
      this.buf = this.buf.subarray(end + 4);
      const headers = new Map(headerLines.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const code = /^HTTP\/1\.1 (\d{3})/.exec(status ?? '')?.[1];
      if (code !== '101') return this.fail(new Error(`Unexpected server response: ${code ?? status}`));
      const accept = createHash('sha1').update(this.key + GUID).digest('base64');
      if (headers.get('upgrade')?.toLowerCase() !== 'websocket' || headers.get('sec-websocket-accept') !== accept) {
        return this.fail(new Error('WebSocket handshake: invalid Upgrade or Sec-WebSocket-Accept header'));
      }
      if (headers.get('sec-websocket-extensions')) return this.fail(new Error('WebSocket handshake: the server chose an extension that was not offered'));
      this.upgraded = true;
      this._socket.setTimeout(0);
      this.readyState = WebSocket.OPEN;
      this.onopen?.({ type: 'open', target: this });
    }
    this.parseFrames();
  }

  private parseFrames(): void {
    while (this.readyState === WebSocket.OPEN || this.readyState === WebSocket.CLOSING) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      if (b[0]! & 0x70) return this.fail(new Error('WebSocket: reserved bits set'), 1002);
      if (b[1]! & 0x80) return this.fail(new Error('WebSocket: masked frame from the server'), 1002);
      let len = b[1]! & 0x7f;
      let o = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        o = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        const big = b.readBigUInt64BE(2);
        if (big > BigInt(this.maxPayload)) return this.fail(new Error('WebSocket: frame too large'), 1009);
        len = Number(big);
        o = 10;
      }
      if (len > this.maxPayload || this.fragmentBytes + len > this.maxPayload) return this.fail(new Error('WebSocket: message too large'), 1009);
      if (b.length < o + len) return;
      const payload = b.subarray(o, o + len);
      this.buf = b.subarray(o + len);
      if (opcode >= 0x8) {
        if (!fin || len > 125) return this.fail(new Error('WebSocket: invalid control frame'), 1002);
        if (opcode === 0x8) {
          this.closeCode = len >= 2 ? payload.readUInt16BE(0) : 1005;
          this.closeReason = len > 2 ? payload.subarray(2).toString() : '';
          this.sendClose(this.closeCode === 1005 ? 1000 : this.closeCode, '');
          this.readyState = WebSocket.CLOSING;
          this._socket.end();
          return;
        }
        if (opcode === 0x9 && this.readyState === WebSocket.OPEN) this.frame(0xa, Buffer.from(payload));
        continue; // 0xA pong: nothing to do
      }
      if (opcode === 0x0) {
        if (!this.fragmentOpcode) return this.fail(new Error('WebSocket: unexpected continuation frame'), 1002);
      } else if (opcode === 0x1 || opcode === 0x2) {
        if (this.fragmentOpcode) return this.fail(new Error('WebSocket: expected a continuation frame'), 1002);
        this.fragmentOpcode = opcode;
      } else return this.fail(new Error(`WebSocket: unknown opcode ${opcode}`), 1002);
      this.fragments.push(Buffer.from(payload));
      this.fragmentBytes += len;
      if (!fin) continue;
      const message = this.fragments.length === 1 ? this.fragments[0]! : Buffer.concat(this.fragments);
      const text = this.fragmentOpcode === 0x1;
      this.fragments = [];
      this.fragmentBytes = 0;
      this.fragmentOpcode = 0;
      if (this.readyState === WebSocket.OPEN) this.onmessage?.({ type: 'message', data: text ? message.toString('utf8') : message, target: this });
    }
  }

  private fail(err: Error, code = 1006): void {
    if (this.finished) return;
    if (this.readyState === WebSocket.OPEN && code !== 1006) this.sendClose(code, '');
    this.closeCode = code;
    this.readyState = WebSocket.CLOSING;
    this.onerror?.({ type: 'error', error: err, message: err.message, target: this });
    this._socket.destroy();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.readyState = WebSocket.CLOSED;
    this.onclose?.({ type: 'close', code: this.closeCode, reason: this.closeReason, wasClean: this.closeSent && this.closeCode !== 1006, target: this });
  }
}

export default WebSocket;
