import type { PluginContext, RealtimeSocket } from '@mpanel/sdk';
import { S, UUID, rows } from '../db.js';

interface Viewer { userId: string }
interface Subscription { socket: RealtimeSocket<Viewer>; canCommand: boolean }

/** How long a live ticket may be used to connect. */
const TICKET_TTL_MS = 60_000;
/** How often a process repeats which agents its browsers watch, and how long others believe it. */
const INTEREST_REFRESH_MS = 10_000;
const INTEREST_TTL_MS = 35_000;

interface SampleView { agentId: string; ts: number; metrics: Record<string, number | null> }
type CommandView = Record<string, unknown> & { agentId: string };

/**
 * The `/p/monitoring/live` namespace for browsers. Plugin namespaces don't
 * see the session cookie, so the UI first fetches a short-lived ticket from
 * an authenticated route (sealed by the plugin's key: it can't be forged)
 * and subscribes to agents it may read. Samples and command output go only
 * to subscribers, never through the event outbox.
 *
 * With several panel processes the browser and the agent may be connected to
 * different ones. Each process tells the others which agents its browsers
 * watch (`live.interest`, repeated while they watch); a process receiving an
 * agent's samples forwards them over `ctx.cluster` only for agents somebody
 * elsewhere watches, so an unwatched fleet costs no cluster traffic.
 */
export class LiveHub {
  private readonly byAgent = new Map<string, Set<Subscription>>();
  /** agentId → (process → interest expiry). */
  private readonly remote = new Map<string, Map<string, number>>();

  constructor(private readonly ctx: PluginContext<any>) {}

  ticket(userId: string): { ticket: string; expiresAt: string; namespace: string } {
    const exp = Date.now() + TICKET_TTL_MS;
    return { ticket: this.ctx.secrets.seal(JSON.stringify({ u: userId, exp })), expiresAt: new Date(exp).toISOString(), namespace: '/p/monitoring/live' };
  }

  open(): void {
    this.ctx.realtime.namespace<Viewer>('live', {
      authenticate: (h) => {
        try {
          const t = JSON.parse(this.ctx.secrets.open(String(h.auth.ticket ?? ''))) as { u: string; exp: number };
          return t.exp > Date.now() && UUID.test(t.u) ? { userId: t.u } : null;
        } catch {
          return null;
        }
      },
      onConnection: (socket) => {
        const mine: Array<[string, Subscription]> = [];
        socket.on('subscribe', async (data, ack) => {
          const agentId = (data as { agentId?: unknown })?.agentId;
          if (typeof agentId !== 'string' || !UUID.test(agentId)) return ack?.({ ok: false, error: 'invalid' });
          const access = await this.ctx.access.forUser(socket.identity.userId);
          const [a] = await rows(this.ctx.db.em(), `select tenant_path from ${S}.agent where id = ?`, [agentId]);
          if (!access || !a || !access.can('monitoring.read', a.tenant_path)) return ack?.({ ok: false, error: 'not-found' });
          const sub = { socket, canCommand: access.can('monitoring.command', a.tenant_path) };
          let set = this.byAgent.get(agentId);
          if (!set) {
            this.byAgent.set(agentId, (set = new Set()));
            this.announce('live.interest', [agentId]);
          }
          set.add(sub);
          mine.push([agentId, sub]);
          ack?.({ ok: true });
        });
        socket.onDisconnect(() => {
          const gone: string[] = [];
          for (const [agentId, sub] of mine) {
            const set = this.byAgent.get(agentId);
            set?.delete(sub);
            if (set && !set.size) {
              this.byAgent.delete(agentId);
              gone.push(agentId);
            }
          }
          if (gone.length) this.announce('live.uninterest', gone);
        });
      },
    });
    if (!this.ctx.cluster.shared) return;
    this.ctx.cluster.on('live.interest', (m, from) => {
      const until = Date.now() + INTEREST_TTL_MS;
      for (const agentId of agentIds(m)) {
        let nodes = this.remote.get(agentId);
        if (!nodes) this.remote.set(agentId, (nodes = new Map()));
        nodes.set(from, until);
      }
    });
    this.ctx.cluster.on('live.uninterest', (m, from) => {
      for (const agentId of agentIds(m)) {
        const nodes = this.remote.get(agentId);
        nodes?.delete(from);
        if (nodes && !nodes.size) this.remote.delete(agentId);
      }
    });
    this.ctx.cluster.on('live.sample', (m) => this.deliverSample(m as SampleView));
    this.ctx.cluster.on('live.command', (m) => this.deliverCommand(m as CommandView));
    this.ctx.jobs.every('live-interest', INTEREST_REFRESH_MS, () => {
      if (this.byAgent.size) this.announce('live.interest', [...this.byAgent.keys()]);
      const now = Date.now();
      for (const [agentId, nodes] of this.remote) {
        for (const [node, until] of nodes) if (until < now) nodes.delete(node);
        if (!nodes.size) this.remote.delete(agentId);
      }
    });
  }

  private announce(topic: 'live.interest' | 'live.uninterest', ids: string[]): void {
    // 36-character ids: 20,000 stay well under the message limit.
    if (this.ctx.cluster.shared) for (let i = 0; i < ids.length; i += 20_000) this.ctx.cluster.send(topic, { agentIds: ids.slice(i, i + 20_000) });
  }

  private watchedElsewhere(agentId: string): boolean {
    const nodes = this.remote.get(agentId);
    if (!nodes) return false;
    const now = Date.now();
    for (const until of nodes.values()) if (until >= now) return true;
    return false;
  }

  /** An agent's newest readings, received by this process: to watching browsers here and elsewhere. */
  snapshot(agentId: string, ts: number, names: string[], vals: Array<number | null>): void {
    const here = this.byAgent.has(agentId);
    const elsewhere = this.watchedElsewhere(agentId);
    if (!here && !elsewhere) return;
    const metrics: Record<string, number | null> = {};
    names.forEach((n, i) => (metrics[n] = vals[i] ?? null));
    const view: SampleView = { agentId, ts, metrics };
    if (here) this.deliverSample(view);
    if (elsewhere) this.ctx.cluster.send('live.sample', view);
  }

  /** Command output or completion, received by this process from the agent. */
  commandEvent(agentId: string, event: Record<string, unknown>): void {
    const view: CommandView = { agentId, ...event };
    this.deliverCommand(view);
    if (this.watchedElsewhere(agentId)) this.ctx.cluster.send('live.command', view);
  }

  private deliverSample(view: SampleView): void {
    for (const s of this.byAgent.get(view.agentId) ?? []) s.socket.emit('sample', view);
  }

  private deliverCommand(view: CommandView): void {
    for (const s of this.byAgent.get(view.agentId) ?? []) if (s.canCommand) s.socket.emit('command', view);
  }
}

function agentIds(m: unknown): string[] {
  const ids = (m as { agentIds?: unknown })?.agentIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string' && UUID.test(id)) : [];
}
