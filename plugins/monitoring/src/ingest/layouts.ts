import type { PluginContext } from '@mpanel/sdk';
import { S, rows } from '../db.js';

/**
 * Metric-name layouts per agent. A sample row stores only values; the names
 * live once in `layout`, found by the agent's layout key.
 */
export class LayoutRegistry {
  private readonly cache = new Map<string, { id: number; names: string[] }>();

  constructor(private readonly ctx: PluginContext<any>) {}

  /** Stores layouts an agent sent (idempotent). */
  async remember(agentId: string, layouts: Record<string, string[]>): Promise<void> {
    for (const [key, names] of Object.entries(layouts)) {
      const ck = `${agentId}:${key}`;
      if (this.cache.has(ck)) continue;
      const [r] = await rows(this.ctx.db.em(),
        `insert into ${S}.layout (agent_id, key, names) select ?, ?, array(select jsonb_array_elements_text(?::jsonb))
         on conflict (agent_id, key) do update set key = excluded.key returning id, names`,
        [agentId, key, JSON.stringify(names)]);
      this.cache.set(ck, { id: r!.id, names: r!.names });
    }
  }

  /** A layout by key: from memory, else the database (stored by an earlier connection), else null. */
  async resolve(agentId: string, key: string): Promise<{ id: number; names: string[] } | null> {
    const ck = `${agentId}:${key}`;
    const hit = this.cache.get(ck);
    if (hit) return hit;
    const [r] = await rows(this.ctx.db.em(), `select id, names from ${S}.layout where agent_id = ? and key = ?`, [agentId, key]);
    if (!r) return null;
    const l = { id: r.id as number, names: r.names as string[] };
    this.cache.set(ck, l);
    return l;
  }

  forget(agentId: string): void {
    for (const k of this.cache.keys()) if (k.startsWith(`${agentId}:`)) this.cache.delete(k);
  }
}
