import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';

/** Messages panel processes sharing one PostgreSQL send each other. */
export type ClusterMessage =
  | { kind: 'auth.invalidate'; scope: 'all' | 'user' | 'session' | 'token'; id?: string }
  | { kind: 'event.delivered'; id: number }
  | { kind: 'plugins.changed'; id: string }
  | { kind: 'plugin'; plugin: string; topic: string; payload: unknown };

/** `from` is the sending process's nodeId. */
type Handler = (message: ClusterMessage, from: string) => void | Promise<void>;

const CHANNEL = 'mpanel_cluster';
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more; longer messages go in fragments below that. */
const MAX_NOTIFY_BYTES = 7800;
/** Largest message send() accepts (serialised); bigger data belongs in a table, not in a notification. */
export const MAX_CLUSTER_MESSAGE_BYTES = 1024 * 1024;
/** Fragments of a message not completed within this long are forgotten (their sender died mid-message). */
const FRAGMENT_TTL_MS = 30_000;
/** Fragment text: `F|<from>|<message id>|<index>|<count>|<slice of the message's JSON>`. */
const FRAGMENT = /^F\|([0-9a-f-]{36})\|(\d+)\|(\d+)\|(\d+)\|/;

interface Partial { parts: string[]; received: number; startedAt: number }

/** Cuts `text` into slices of at most `maxBytes` UTF-8 bytes without splitting a character. */
export function sliceByBytes(text: string, maxBytes: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + maxBytes);
    while (Buffer.byteLength(text.slice(i, end)) > maxBytes) end = i + Math.max(1, Math.floor((end - i) * 0.8));
    // Never end a slice between the two halves of a surrogate pair.
    if (end < text.length && end - i > 1) {
      const c = text.charCodeAt(end - 1);
      if (c >= 0xd800 && c <= 0xdbff) end--;
    }
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

/**
 * Several panel processes on one PostgreSQL talk through LISTEN/NOTIFY — no
 * home-made cluster protocol. Each process keeps one dedicated connection
 * that LISTENs (reconnecting with backoff if it drops) and ignores its own
 * messages. With the embedded database there is only one process: `start`
 * is not called and `send` does nothing.
 */
export class ClusterBus {
  readonly nodeId = randomUUID();
  private client: pg.Client | null = null;
  private handlers: Handler[] = [];
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  private delay = 250;
  private sending: Promise<void> = Promise.resolve();
  private messageCounter = 0;
  private readonly partials = new Map<string, Partial>();

  constructor(
    private readonly databaseUrl: string | undefined,
    private readonly log: Logger,
  ) {}

  get enabled(): boolean {
    return !!this.databaseUrl;
  }

  on(handler: Handler): void {
    this.handlers.push(handler);
  }

  async start(): Promise<void> {
    if (!this.databaseUrl) return;
    this.stopped = false;
    await this.connect();
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: `mpanel-cluster-${this.nodeId.slice(0, 8)}` });
    client.on('notification', (n) => this.receive(n.payload));
    client.on('error', (err) => {
      this.log.warn({ err }, 'cluster connection failed; reconnecting');
      this.reconnect(client);
    });
    client.on('end', () => this.reconnect(client));
    try {
      await client.connect();
      await client.query(`listen ${CHANNEL}`);
      this.client = client;
      this.delay = 250;
    } catch (err) {
      this.log.warn({ err }, 'cluster LISTEN failed; retrying');
      this.reconnect(client);
    }
  }

  private reconnect(old: pg.Client): void {
    if (this.client === old) this.client = null;
    old.removeAllListeners();
    void old.end().catch(() => undefined);
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, this.delay);
    this.retry.unref();
    this.delay = Math.min(this.delay * 2, 10_000);
  }

  private receive(payload: string | undefined): void {
    if (!payload) return;
    const whole = payload.startsWith('F|') ? this.reassemble(payload) : payload;
    if (whole === null) return;
    let parsed: { from: string; message: ClusterMessage };
    try {
      parsed = JSON.parse(whole);
    } catch {
      return;
    }
    if (parsed.from === this.nodeId) return;
    for (const h of this.handlers) {
      void Promise.resolve(h(parsed.message, parsed.from)).catch((err) => this.log.warn({ err, kind: parsed.message?.kind }, 'cluster message handler failed'));
    }
  }

  /** Collects one fragment; returns the whole message once its last fragment arrived. */
  private reassemble(payload: string): string | null {
    const m = FRAGMENT.exec(payload);
    if (!m) return null;
    const [head, from, id, i, n] = m as unknown as [string, string, string, string, string];
    if (from === this.nodeId) return null;
    const key = `${from}|${id}`;
    const count = Number(n);
    const index = Number(i);
    const now = Date.now();
    for (const [k, p] of this.partials) if (now - p.startedAt > FRAGMENT_TTL_MS) this.partials.delete(k);
    let p = this.partials.get(key);
    if (!p) {
      if (count < 2 || count > Math.ceil(MAX_CLUSTER_MESSAGE_BYTES / 1000) + 1) return null;
      this.partials.set(key, (p = { parts: new Array<string>(count), received: 0, startedAt: now }));
    }
    if (index >= p.parts.length || p.parts[index] !== undefined) return null;
    p.parts[index] = payload.slice(head.length);
    if (++p.received < p.parts.length) return null;
    this.partials.delete(key);
    return p.parts.join('');
  }

  /**
   * Tells the other processes; best effort (a lost message only delays things
   * until caches expire), in order per sender. Messages longer than one
   * notification go as fragments. Throws if the message is over
   * MAX_CLUSTER_MESSAGE_BYTES serialised.
   */
  send(message: ClusterMessage): void {
    const text = JSON.stringify({ from: this.nodeId, message });
    const bytes = Buffer.byteLength(text);
    if (bytes > MAX_CLUSTER_MESSAGE_BYTES) throw new RangeError(`cluster message of ${bytes} bytes is over the limit of ${MAX_CLUSTER_MESSAGE_BYTES}`);
    const client = this.client;
    if (!client) return;
    let payloads = [text];
    if (bytes >= MAX_NOTIFY_BYTES) {
      const id = ++this.messageCounter;
      const prefix = (i: number, n: number) => `F|${this.nodeId}|${id}|${i}|${n}|`;
      // The header is at most ~60 bytes: slices leave room for it.
      const slices = sliceByBytes(text, MAX_NOTIFY_BYTES - 100);
      payloads = slices.map((s, i) => prefix(i, slices.length) + s);
    }
    // One query at a time on the LISTEN connection (pg warns about overlapping queries on one client);
    // fragments of one message are therefore never interleaved with another message of this process.
    for (const p of payloads) {
      this.sending = this.sending
        .then(() => client.query('select pg_notify($1, $2)', [CHANNEL, p]))
        .then(
          () => undefined,
          (err) => this.log.warn({ err }, 'cluster NOTIFY failed'),
        );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.sending;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    if (c) {
      c.removeAllListeners();
      await c.end().catch(() => undefined);
    }
  }
}
