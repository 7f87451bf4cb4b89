import type { PluginContext, RealtimeSocket } from '@mpanel/sdk';
import { S, UUID, rows } from '../db.js';
import { sameHash } from './credentials.js';
import { LayoutRegistry } from './layouts.js';
import { SampleWriter, type SampleRow } from './sample-writer.js';
import { storeLogBatch } from './log-writer.js';
import type { MonitoringSettings } from '../settings.js';

/** Who a connected agent is (what authenticate() returns). */
export interface AgentIdentity { agentId: string; tenantId: string; tenantPath: string; name: string }

export interface AgentHubHooks {
  /** The newest snapshot of an agent (for live charts). */
  onSnapshot?(agentId: string, ts: number, names: string[], vals: Array<number | null>): void;
  onCommandEvent?(agentId: string, event: unknown): void;
  onStatus?(agent: AgentIdentity, online: boolean): void;
}

const MAX_BATCH = 1000;
const MAX_VALUES = 5000;

interface Batch { samples?: unknown; layouts?: unknown; dropped?: unknown }
interface WireSample { seq: number; ts: number; l: string; v: Array<number | null> }

function validSample(s: unknown): s is WireSample {
  const x = s as WireSample;
  return !!x && Number.isSafeInteger(x.seq) && x.seq > 0 && Number.isFinite(x.ts) && x.ts > 0 && x.ts < 1e14
    && typeof x.l === 'string' && x.l.length > 0 && x.l.length <= 64 && Array.isArray(x.v) && x.v.length <= MAX_VALUES
    && x.v.every((n) => n === null || typeof n === 'number');
}

function validLayouts(l: unknown): l is Record<string, string[]> {
  if (l === undefined) return true;
  if (!l || typeof l !== 'object' || Array.isArray(l)) return false;
  const entries = Object.entries(l);
  return entries.length <= 50 && entries.every(([k, v]) => k.length <= 64 && Array.isArray(v) && v.length <= MAX_VALUES && v.every((n) => typeof n === 'string' && n.length <= 300));
}

/**
 * The `/p/monitoring/agents` namespace: authenticates agents by their
 * credential, stores their sample batches and acknowledges each batch only
 * once it is committed, and relays commands and their output.
 */
export class AgentHub {
  readonly writer: SampleWriter;
  readonly layouts: LayoutRegistry;
  private readonly sockets = new Map<string, RealtimeSocket<AgentIdentity>>();

  constructor(private readonly ctx: PluginContext<MonitoringSettings>, private readonly hooks: AgentHubHooks = {}) {
    this.writer = new SampleWriter(ctx);
    this.layouts = new LayoutRegistry(ctx);
  }

  open(): void {
    this.ctx.realtime.namespace<AgentIdentity>('agents', {
      authenticate: (h) => this.authenticate(h.auth),
      onConnection: (socket) => this.onConnection(socket),
    });
    // With several panel processes an agent is connected to one of them; the others reach it through these.
    this.ctx.cluster.on('agent.emit', (m) => {
      const { agentId, event, data } = m as { agentId: string; event: string; data: unknown };
      this.sockets.get(agentId)?.emit(event, data);
    });
    this.ctx.cluster.on('agent.disconnect', (m) => this.dropLocal((m as { agentId: string }).agentId));
    this.ctx.cluster.on('agent.connected', (m) => {
      // The agents reconnected to another process: connections still open here are stale.
      const ids = (m as { agentIds?: unknown }).agentIds;
      if (Array.isArray(ids)) for (const id of ids) if (typeof id === 'string') this.sockets.get(id)?.disconnect();
    });
  }

  private connectedSince: string[] = [];
  private announceTimer: NodeJS.Timeout | null = null;

  /**
   * Tells the other processes which agents connected here, gathered over
   * 100 ms: after a panel restart thousands of agents reconnect at once, and
   * one notification per agent would queue thousands on the shared channel.
   */
  private announceConnected(agentId: string): void {
    if (!this.ctx.cluster.shared) return;
    this.connectedSince.push(agentId);
    if (this.announceTimer) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = null;
      const ids = this.connectedSince;
      this.connectedSince = [];
      // 5,000 ids are ~190 KB: well under the message limit.
      for (let i = 0; i < ids.length; i += 5000) this.ctx.cluster.send('agent.connected', { agentIds: ids.slice(i, i + 5000) });
    }, 100);
    this.announceTimer.unref();
  }

  /** Whether the agent's connection is on this process. */
  isLocal(agentId: string): boolean {
    return this.sockets.has(agentId);
  }

  connectedIds(): string[] {
    return [...this.sockets.keys()];
  }

  private async authenticate(auth: Record<string, unknown>): Promise<AgentIdentity | null> {
    const { agentId, credential } = auth;
    if (typeof agentId !== 'string' || !UUID.test(agentId) || typeof credential !== 'string' || credential.length > 200) return null;
    const [a] = await rows(this.ctx.db.em(), `select id, tenant_id, tenant_path, name, credential_hash, revoked_at from ${S}.agent where id = ?`, [agentId]);
    if (!a || a.revoked_at || !sameHash(credential, a.credential_hash)) return null;
    return { agentId: a.id, tenantId: a.tenant_id, tenantPath: a.tenant_path, name: a.name };
  }

  private async onConnection(socket: RealtimeSocket<AgentIdentity>): Promise<void> {
    const me = socket.identity;
    // One live connection per agent: a newer one replaces the older.
    const previous = this.sockets.get(me.agentId);
    this.sockets.set(me.agentId, socket);
    if (previous && previous !== socket) previous.disconnect();
    socket.onDisconnect(() => {
      if (this.sockets.get(me.agentId) !== socket) return;
      this.sockets.delete(me.agentId);
      void this.setOnline(me, false);
    });
    socket.on('hello', async (data, ack) => {
      const d = (data ?? {}) as Record<string, unknown>;
      const str = (v: unknown, max = 200) => (typeof v === 'string' ? v.slice(0, max) : '');
      const names = (v: unknown) => (Array.isArray(v) ? v.filter((x) => typeof x === 'string').slice(0, 200).map((x) => (x as string).slice(0, 200)) : []);
      const [a] = await rows(this.ctx.db.em(),
        `update ${S}.agent set agent_version = ?, hostname = coalesce(nullif(?, ''), hostname), commands = ?::jsonb, logs = ?::jsonb where id = ? returning interval_ms, last_seq`,
        [str(d.version, 50), str(d.hostname), JSON.stringify(names(d.commands)), JSON.stringify(names(d.logs)), me.agentId]);
      ack?.({ intervalMs: a?.interval_ms ?? this.ctx.settings.get().defaultIntervalMs, lastSeq: Number(a?.last_seq ?? 0) });
    });
    socket.on('samples', async (data, ack) => {
      try {
        ack?.(await this.ingest(me, data as Batch));
      } catch (err) {
        this.ctx.log.warn({ err, agent: me.agentId }, 'storing samples failed');
        ack?.({ ok: false, error: 'store-failed' });
      }
    });
    socket.on('command-event', (data) => this.hooks.onCommandEvent?.(me.agentId, data));
    socket.on('logs', async (data, ack) => {
      try {
        ack?.(await storeLogBatch(this.ctx, me.agentId, data));
      } catch (err) {
        this.ctx.log.warn({ err, agent: me.agentId }, 'storing log lines failed');
        ack?.({ ok: false, error: 'store-failed' });
      }
    });
    await this.setOnline(me, true);
    this.announceConnected(me.agentId);
  }

  private async setOnline(me: AgentIdentity, online: boolean): Promise<void> {
    const node = this.ctx.cluster.nodeId;
    // Offline only if the connection that went away was the agent's current one: it may already be
    // connected to another process, which recorded itself in connected_node.
    const changed = await rows(this.ctx.db.em(),
      online
        ? `update ${S}.agent set online = true, connected_node = ?, connected_at = now(), last_seen_at = now() where id = ? returning id`
        : `update ${S}.agent set online = false, connected_node = null, last_seen_at = now() where id = ? and connected_node = ? returning id`,
      online ? [node, me.agentId] : [me.agentId, node]);
    if (changed.length) this.hooks.onStatus?.(me, online);
  }

  /** Validates and stores one batch; the answer is the acknowledgement. */
  async ingest(me: AgentIdentity, batch: Batch): Promise<{ ok: boolean; upTo?: number; stored?: number; error?: string }> {
    const samples = batch?.samples;
    if (!Array.isArray(samples) || samples.length === 0 || samples.length > MAX_BATCH || !samples.every(validSample) || !validLayouts(batch.layouts)) {
      return { ok: false, error: 'invalid-batch' };
    }
    if (batch.layouts) await this.layouts.remember(me.agentId, batch.layouts);
    const resolved = new Map<string, { id: number; names: string[] }>();
    for (const s of samples) {
      if (resolved.has(s.l)) continue;
      const l = await this.layouts.resolve(me.agentId, s.l);
      if (!l) return { ok: false, error: 'unknown-layout' };
      resolved.set(s.l, l);
    }
    const out: SampleRow[] = [];
    for (const s of samples) {
      const l = resolved.get(s.l)!;
      if (s.v.length !== l.names.length) return { ok: false, error: 'invalid-batch' };
      out.push({ agentId: me.agentId, seq: s.seq, ts: s.ts, layoutId: l.id, vals: s.v });
    }
    await this.writer.write(out);
    if (typeof batch.dropped === 'number' && batch.dropped > 0) {
      await rows(this.ctx.db.em(), `update ${S}.agent set dropped = greatest(dropped, ?) where id = ?`, [Math.floor(batch.dropped), me.agentId]);
    }
    const last = samples[samples.length - 1]!;
    this.hooks.onSnapshot?.(me.agentId, last.ts, resolved.get(last.l)!.names, last.v);
    return { ok: true, upTo: Math.max(...samples.map((s) => s.seq)), stored: out.length };
  }

  /**
   * Sends an event to the agent wherever it is connected: directly when its
   * connection is on this process, otherwise through the other processes.
   * Best effort: an agent that is offline misses it (and gets the current
   * settings in its next hello anyway).
   */
  send(agentId: string, event: string, data: unknown): void {
    const local = this.sockets.get(agentId);
    if (local) local.emit(event, data);
    else this.ctx.cluster.send('agent.emit', { agentId, event, data });
  }

  /** Tells a connected agent its new settings. */
  push(agentId: string, config: { intervalMs?: number }): void {
    this.send(agentId, 'config', config);
  }

  /** Drops the agent's connection on whichever process holds it (after a revoke). */
  disconnect(agentId: string): void {
    this.dropLocal(agentId);
    this.ctx.cluster.send('agent.disconnect', { agentId });
  }

  private dropLocal(agentId: string): void {
    this.sockets.get(agentId)?.disconnect();
    this.layouts.forget(agentId);
  }
}
