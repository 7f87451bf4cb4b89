import os from 'node:os';
import path from 'node:path';
import { SystemCollector } from './collect/index.js';
import { DiskBuffer } from './buffer/disk-buffer.js';
import { LayoutStore } from './buffer/layouts.js';
import { PanelLink } from './transport/panel-link.js';
import { CommandRunner } from './commands/runner.js';
import { panelKey, type SignedCommand } from './commands/signature.js';
import { LogTailer } from './logs/tailer.js';
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
  private readonly tailer: LogTailer | null;
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
    this.tailer = config.logs?.length ? new LogTailer(config.logs) : null;
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
    if (this.tailer) this.logTimer = setInterval(() => void this.shipLogs(), 1000);
  }

  private async shipLogs(): Promise<void> {
    if (!this.tailer || this.shippingLogs) return;
    this.shippingLogs = true;
    try {
      this.tailer.poll();
      if (!this.link.connected) return;
      for (;;) {
        const batches = this.tailer.take(500);
        if (!batches.length) break;
        try {
          for (let i = 0; i < batches.length; i++) {
            const res = (await this.link.request('logs', batches[i])) as { ok?: boolean } | undefined;
            if (!res?.ok) throw new Error('not acknowledged');
            batches[i] = { ...batches[i]!, lines: [] };
          }
        } catch {
          this.tailer.unshift(batches.filter((b) => b.lines.length));
          break;
        }
      }
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
    this.tailer?.close();
  }
}
