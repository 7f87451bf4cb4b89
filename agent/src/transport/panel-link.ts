import type { Socket } from 'socket.io-client';
import { io } from './sio.js';
import { settleAfterStartup } from '../memory.js';
import type { DiskBuffer, BufferedSample } from '../buffer/disk-buffer.js';
import type { LayoutStore } from '../buffer/layouts.js';
import type { Logger } from '../log.js';

export interface LinkOptions {
  url: string;
  agentId: string;
  credential: string;
  buffer: DiskBuffer;
  layouts: LayoutStore;
  log: Logger;
  hello: () => Record<string, unknown>;
  /** Samples per batch (replays after an outage go out in batches of this size). */
  batchSize?: number;
  ackTimeoutMs?: number;
  /** Reconnection backoff: first delay and ceiling (doubled each attempt, ±50 % jitter). */
  reconnectDelayMs?: number;
  reconnectDelayMaxMs?: number;
  onConfig?: (config: { intervalMs?: number }) => void;
  onCommand?: (request: unknown) => void;
  onStatus?: (status: 'connected' | 'disconnected' | 'refused') => void;
}

/** Namespace of the monitoring plugin that agents connect to. */
export const AGENT_NAMESPACE = '/p/monitoring/agents';

/**
 * The agent's socket.io connection. Sends buffered samples in sequence
 * order, one batch in flight at a time, and forgets them only when the
 * panel acknowledged that it stored them. A lost ack means a resend, which
 * the panel recognises by sequence number — so nothing is lost or doubled.
 */
export class PanelLink {
  readonly socket: Socket;
  private inFlight = false;
  /** Bumped on every (dis)connect so a late ack of an old connection is ignored. */
  private generation = 0;
  private knownLayouts = new Set<string>();
  private retryTimer: NodeJS.Timeout | null = null;
  private manualAttempts = 0;
  private stopped = false;
  connected = false;
  refused = false;

  constructor(private readonly o: LinkOptions) {
    const base = o.url.replace(/\/+$/, '');
    this.socket = io(`${base}${AGENT_NAMESPACE}`, {
      auth: { agentId: o.agentId, credential: o.credential },
      transports: ['websocket'],
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: o.reconnectDelayMs ?? 1000,
      reconnectionDelayMax: o.reconnectDelayMaxMs ?? 60_000,
      randomizationFactor: 0.5,
      timeout: 10_000,
    });
    this.socket.on('connect', () => void this.onConnect());
    this.socket.on('disconnect', (reason) => {
      this.connected = false;
      this.generation++;
      this.inFlight = false;
      o.log.warn(`disconnected from the panel (${reason}); collecting into the buffer`);
      o.onStatus?.('disconnected');
      // The server closing the namespace (plugin disabled) is not retried by socket.io itself.
      if (reason === 'io server disconnect') this.retryLater();
    });
    this.socket.on('connect_error', (err) => {
      // Refusals by the panel's middleware (and unknown namespaces while a restarting panel
      // loads its plugins) are not retried by socket.io: retry ourselves, with the same backoff.
      if (err.message === 'unauthorized') {
        this.refused = true;
        o.log.error('the panel refused this agent\'s credential (revoked? re-enrol with `mpanel-agent enroll`)');
        o.onStatus?.('refused');
      } else o.log.debug?.(`connection failed: ${err.message}`);
      if (!this.socket.active) this.retryLater();
    });
    this.socket.on('config', (c: { intervalMs?: number }) => o.onConfig?.(c));
    this.socket.on('command', (req: unknown) => o.onCommand?.(req));
  }

  start(): void {
    this.socket.connect();
  }

  private retryLater(): void {
    if (this.stopped || this.retryTimer) return;
    const base = this.o.reconnectDelayMs ?? 1000;
    const max = this.o.reconnectDelayMaxMs ?? 60_000;
    const delay = Math.min(max, base * 2 ** Math.min(this.manualAttempts++, 20)) * (0.5 + Math.random());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      if (!this.stopped && !this.socket.connected) this.socket.connect();
    }, delay);
  }

  private async onConnect(): Promise<void> {
    const gen = ++this.generation;
    this.manualAttempts = 0;
    this.refused = false;
    this.knownLayouts = new Set();
    this.inFlight = false;
    try {
      const res = (await this.socket.timeout(this.o.ackTimeoutMs ?? 10_000).emitWithAck('hello', this.o.hello())) as { intervalMs?: number; lastSeq?: number };
      if (gen !== this.generation) return;
      if (typeof res?.lastSeq === 'number') this.o.buffer.skipTo(res.lastSeq);
      if (res?.intervalMs) this.o.onConfig?.({ intervalMs: res.intervalMs });
    } catch {
      if (gen === this.generation) this.socket.disconnect().connect();
      return;
    }
    this.connected = true;
    this.o.log.info('connected to the panel');
    settleAfterStartup();
    this.o.onStatus?.('connected');
    this.pump();
  }

  /** Sends the next batch if connected and none is in flight. */
  pump(): void {
    if (!this.connected || this.inFlight || this.stopped) return;
    const batch = this.o.buffer.pending(this.o.batchSize ?? 500);
    if (!batch.length) return;
    const gen = this.generation;
    const layouts: Record<string, string[]> = {};
    for (const s of batch) {
      if (this.knownLayouts.has(s.l) || layouts[s.l]) continue;
      const names = this.o.layouts.get(s.l);
      if (names) layouts[s.l] = names;
    }
    this.inFlight = true;
    const stats = this.o.buffer.stats();
    this.socket.timeout(this.o.ackTimeoutMs ?? 10_000).emit('samples', { samples: batch, layouts, dropped: stats.dropped }, (err: Error | null, res: { ok?: boolean; upTo?: number; error?: string }) => {
      if (gen !== this.generation) return;
      this.inFlight = false;
      if (err || !res?.ok) {
        if (res?.error === 'unknown-layout') this.knownLayouts.clear();
        else this.o.log.warn(`batch not acknowledged (${err?.message ?? res?.error ?? 'no answer'}); resending`);
        setTimeout(() => this.pump(), err ? 1000 : 100).unref();
        return;
      }
      for (const k of Object.keys(layouts)) this.knownLayouts.add(k);
      this.o.buffer.ack(Math.min(res.upTo ?? 0, lastSeq(batch)));
      this.pump();
    });
  }

  emit(event: string, data: unknown): void {
    if (this.socket.connected) this.socket.emit(event, data);
  }

  /** Sends and waits for the panel's acknowledgement (rejects when disconnected or after the timeout). */
  async request(event: string, data: unknown, timeoutMs = 10_000): Promise<unknown> {
    if (!this.connected) throw new Error('not connected');
    return this.socket.timeout(timeoutMs).emitWithAck(event, data);
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.socket.disconnect();
  }
}

function lastSeq(batch: BufferedSample[]): number {
  return batch[batch.length - 1]!.seq;
}
