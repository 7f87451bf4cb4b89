import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Logger } from 'pino';

/** Messages panel processes sharing one PostgreSQL send each other. */
export type ClusterMessage =
  | { kind: 'auth.invalidate'; scope: 'all' | 'user' | 'session' | 'token'; id?: string }
  | { kind: 'event.delivered'; id: number };

type Handler = (message: ClusterMessage) => void | Promise<void>;

const CHANNEL = 'mpanel_cluster';

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
    let parsed: { from: string; message: ClusterMessage };
    try {
      parsed = JSON.parse(payload);
    } catch {
      return;
    }
    if (parsed.from === this.nodeId) return;
    for (const h of this.handlers) {
      void Promise.resolve(h(parsed.message)).catch((err) => this.log.warn({ err, message: parsed.message }, 'cluster message handler failed'));
    }
  }

  /** Tells the other processes; best effort (a lost message only delays things until caches expire). */
  send(message: ClusterMessage): void {
    const client = this.client;
    if (!client) return;
    // One query at a time on the LISTEN connection (pg warns about overlapping queries on one client).
    this.sending = this.sending
      .then(() => client.query('select pg_notify($1, $2)', [CHANNEL, JSON.stringify({ from: this.nodeId, message })]))
      .then(
        () => undefined,
        (err) => this.log.warn({ err }, 'cluster NOTIFY failed'),
      );
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
