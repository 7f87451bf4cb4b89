import os from 'node:os';
import path from 'node:path';
import { SystemCollector } from './collect/index.js';
import { DiskBuffer } from './buffer/disk-buffer.js';
import { LayoutStore } from './buffer/layouts.js';
import { PanelLink } from './transport/panel-link.js';
import { CommandRunner } from './commands/runner.js';
import { panelKey, type SignedCommand } from './commands/signature.js';
import { LogQueue } from './logs/log-queue.js';
import type { AgentConfig } from './config.js';
import { consoleLogger, type Logger } from './log.js';
import { AGENT_VERSION } from './version.js';

export const DEFAULT_INTERVAL_MS = 10_000;
const MIN_INTERVAL_MS = 100;

/**
 * A running agent: collects a snapshot every interval into the durable
 * buffer, and lets the link drain the buffer to the panel whenever connected.
 */
export class Agent {
  readonly buffer: DiskBuffer;
  readonly layouts: LayoutStore;
  readonly link: PanelLink;
  readonly runner: CommandRunner;
  private readonly collector: SystemCollector;
  /** Followed log files and the on-disk queue of their lines (null without `logs`). */
  readonly logQueue: LogQueue | null;
  private readonly log: Logger;
  private intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private logTimer: NodeJS.Timeout | null = null;
  private shippingLogs = false;
  collected = 0;

  constructor(private readonly config: AgentConfig, log?: Logger) {
    this.log = log ?? consoleLogger(config.logLevel);
    this.intervalMs = config.intervalMs ?? DEFAULT_INTERVAL_MS;
    const dir = path.join(config.dataDir, config.agentId);
    this.buffer = new DiskBuffer(dir, config.buffer);
    this.layouts = new LayoutStore(dir);
    this.collector = new SystemCollector(config.collect);
    this.runner = new CommandRunner({ agentId: config.agentId, panelKey: panelKey(config.panelPublicKey), allowlist: config.commands ?? {}, maxTimeoutMs: config.commandTimeoutMaxMs });
    this.logQueue = config.logs?.length ? new LogQueue(config.logs, path.join(dir, 'logs'), config.logBuffer) : null;
    this.link = new PanelLink({
      url: config.url,
      agentId: config.agentId,
      credential: config.credential,
      buffer: this.buffer,
      layouts: this.layouts,
      log: this.log,
      reconnectDelayMs: config.reconnect?.delayMs,
      reconnectDelayMaxMs: config.reconnect?.maxDelayMs,
      hello: () => ({ version: AGENT_VERSION, hostname: os.hostname(), commands: this.runner.names(), logs: (config.logs ?? []).map((l) => l.name ?? l.path), buffer: this.buffer.stats() }),
      onConfig: (c) => this.setInterval(c.intervalMs),
      onCommand: (req) => this.runner.handle(req as SignedCommand, (e) => this.link.emit('command-event', e)),
    });
  }

  get interval(): number {
    return this.intervalMs;
  }

  private setInterval(ms: number | undefined): void {
    if (!ms || !Number.isFinite(ms) || ms < MIN_INTERVAL_MS || ms === this.intervalMs) return;
    this.intervalMs = ms;
    this.log.info(`collection interval is now ${ms} ms`);
    if (this.timer) this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    // Aligned to the interval so samples of many agents line up in charts.
    const delay = this.intervalMs - (Date.now() % this.intervalMs);
    this.timer = setTimeout(() => {
      this.tick();
      this.schedule();
    }, delay);
  }

  /** Collects one snapshot into the buffer and nudges the link. */
  tick(): void {
    try {
      const snap = this.collector.collect();
      const l = this.layouts.keyFor(snap.names);
      this.buffer.append({ ts: snap.ts, l, v: snap.values });
      this.collected++;
    } catch (err) {
      this.log.error(`collecting failed: ${(err as Error).message}`);
    }
    this.link.pump();
  }

  start(): void {
    this.collector.collect(); // primes the rate counters
    this.schedule();
    this.link.start();
    if (this.logQueue) this.logTimer = setInterval(() => void this.shipLogs(), 1000);
  }

  /**
   * Reads the log files into the on-disk queue, then sends what waits, oldest
   * first, and forgets it only once the panel acknowledged storing it. A
   * failure leaves it queued: the next round resends it, and the panel drops
   * what it already holds by (agent, seq).
   */
  private async shipLogs(): Promise<void> {
    const q = this.logQueue;
    if (!q || this.shippingLogs) return;
    this.shippingLogs = true;
    try {
      q.poll();
    } catch (err) {
      this.log.error(`reading log files: ${(err as Error).message}`);
    }
    try {
      while (this.link.connected) {
        const next = q.next();
        if (!next) break;
        for (const batch of next.batches) {
          const res = (await this.link.request('logs', batch)) as { ok?: boolean; error?: string } | undefined;
          if (!res?.ok) throw new Error(`log lines not acknowledged (${res?.error ?? 'no answer'})`);
        }
        q.ack(next.upTo);
      }
    } catch (err) {
      this.log.warn(`shipping log lines: ${(err as Error).message}; retrying`);
    } finally {
      this.shippingLogs = false;
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.logTimer) clearInterval(this.logTimer);
    this.timer = null;
    this.runner.killAll();
    this.link.stop();
    this.logQueue?.close();
  }
}
