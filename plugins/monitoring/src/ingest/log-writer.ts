import type { PluginContext } from '@mpanel/sdk';
import { S, rows } from '../db.js';

/** Validates and stores one batch of log lines an agent shipped; the answer is the acknowledgement. */
export async function storeLogBatch(ctx: PluginContext<any>, agentId: string, data: unknown): Promise<{ ok: boolean; error?: string }> {
  const d = data as { file?: unknown; lines?: unknown };
  if (typeof d?.file !== 'string' || d.file.length > 300 || !Array.isArray(d.lines) || d.lines.length > 2000) return { ok: false, error: 'invalid-batch' };
  const lines = (d.lines as Array<{ ts?: unknown; line?: unknown }>).filter((l) => typeof l?.line === 'string' && Number.isFinite(l.ts));
  if (lines.length) {
    await rows(ctx.db.em(),
      `insert into ${S}.log_line (agent_id, file, ts, line)
       select ?, ?, to_timestamp((r->>0)::float8 / 1000), r->>1 from jsonb_array_elements(?::jsonb) as r`,
      [agentId, d.file, JSON.stringify(lines.map((l) => [l.ts, (l.line as string).replace(/\u0000/g, '').slice(0, 8192)]))]);
  }
  return { ok: true };
}
