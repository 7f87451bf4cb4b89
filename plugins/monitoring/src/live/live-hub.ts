import type { PluginContext, RealtimeSocket } from '@mpanel/sdk';
import { S, UUID, rows } from '../db.js';

interface Viewer { userId: string }
interface Subscription { socket: RealtimeSocket<Viewer>; canCommand: boolean }

/** How long a live ticket may be used to connect. */
const TICKET_TTL_MS = 60_000;

/**
 * The `/p/monitoring/live` namespace for browsers. Plugin namespaces don't
 * see the session cookie, so the UI first fetches a short-lived ticket from
 * an authenticated route (sealed by the plugin's key: it can't be forged)
 * and subscribes to agents it may read. Samples and command output go only
 * to subscribers, never through the event outbox.
 */
export class LiveHub {
  private readonly byAgent = new Map<string, Set<Subscription>>();

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
          if (!set) this.byAgent.set(agentId, (set = new Set()));
          set.add(sub);
          mine.push([agentId, sub]);
          ack?.({ ok: true });
        });
        socket.onDisconnect(() => {
          for (const [agentId, sub] of mine) {
            const set = this.byAgent.get(agentId);
            set?.delete(sub);
            if (set && !set.size) this.byAgent.delete(agentId);
          }
        });
      },
    });
  }

  snapshot(agentId: string, ts: number, names: string[], vals: Array<number | null>): void {
    const set = this.byAgent.get(agentId);
    if (!set) return;
    const metrics: Record<string, number | null> = {};
    names.forEach((n, i) => (metrics[n] = vals[i] ?? null));
    for (const s of set) s.socket.emit('sample', { agentId, ts, metrics });
  }

  commandEvent(agentId: string, event: Record<string, unknown>): void {
    for (const s of this.byAgent.get(agentId) ?? []) if (s.canCommand) s.socket.emit('command', { agentId, ...event });
  }
}
