import type { PluginContext } from '@mpanel/sdk';
import { S, rows } from '../db.js';

const MAX_LINES = 2000;
const MAX_FILE = 300;
const MAX_LINE_CHARS = 8192;

export type LogAck = { ok: true; upTo?: number; stored: number } | { ok: false; error: string };

interface WireLine { seq?: unknown; ts?: unknown; line?: unknown }

/**
 * The lines of a batch if it is well-formed: every line numbered (positive
 * safe integers, ascending) or — from agents before log sequence numbers —
 * none, times in ms since the epoch, text as strings.
 */
function validLines(lines: unknown): WireLine[] | null {
  if (!Array.isArray(lines) || lines.length > MAX_LINES) return null;
  const numbered = lines.length > 0 && (lines[0] as WireLine)?.seq !== undefined;
  let prev = 0;
  for (const l of lines as WireLine[]) {
    if (!l || typeof l !== 'object' || typeof l.line !== 'string' || typeof l.ts !== 'number' || !Number.isFinite(l.ts) || l.ts <= 0 || l.ts >= 1e14) return null;
    if (!numbered) {
      if (l.seq !== undefined) return null;
      continue;
    }
    if (!Number.isSafeInteger(l.seq) || (l.seq as number) <= prev) return null;
    prev = l.seq as number;
  }
  return lines as WireLine[];
}

/**
 * Validates and stores one batch of log lines an agent shipped; the answer
 * is the acknowledgement, given once the single INSERT statement has
 * committed (autocommit, like the sample writer). Numbered lines already
 * stored — a resend after a lost acknowledgement — are skipped by the
 * (agent_id, seq) unique index, so each line is stored once.
 *
 * Wire format: `{ file, lines: [{ seq, ts, line }], dropped }`; `dropped` is
 * the agent's running total of lines its queue dropped (kept as the highest
 * seen). Batches without `seq` (older agents) are stored as before, and
 * their `dropped` is a count since the previous batch, so it is added.
 */
export async function storeLogBatch(ctx: PluginContext<any>, agentId: string, data: unknown): Promise<LogAck> {
  const d = data as { file?: unknown; lines?: unknown; dropped?: unknown } | null;
  const lines = validLines(d?.lines);
  const dropped = d?.dropped ?? 0;
  if (typeof d?.file !== 'string' || d.file.length > MAX_FILE || !lines || !Number.isSafeInteger(dropped) || (dropped as number) < 0) {
    return { ok: false, error: 'invalid-batch' };
  }
  const numbered = lines.length > 0 && lines[0]!.seq !== undefined;
  if (!lines.length && !dropped) return { ok: true, stored: 0 };
  const payload = JSON.stringify(lines.map((l) => [l.seq ?? null, l.ts, (l.line as string).replace(/\u0000/g, '').slice(0, MAX_LINE_CHARS)]));
  const droppedSql = numbered || !lines.length ? 'greatest(dropped_log_lines, ?::bigint)' : 'dropped_log_lines + ?::bigint';
  // One statement, so the lines and the drop count commit together before the ack; ids follow the agent's order.
  const [r] = await rows<{ inserted: number }>(ctx.db.em(),
    `with input as (
       select (x.r->>0)::bigint as seq, to_timestamp((x.r->>1)::float8 / 1000) as ts, x.r->>2 as line, x.ord
       from jsonb_array_elements(?::jsonb) with ordinality as x(r, ord)),
     ins as (
       insert into ${S}.log_line (agent_id, file, seq, ts, line)
       select ?::uuid, ?, seq, ts, line from input order by ord
       on conflict (agent_id, seq) do nothing returning 1),
     upd as (
       update ${S}.agent set dropped_log_lines = ${droppedSql} where id = ?::uuid and ?::bigint > 0 returning 1)
     select (select count(*) from ins)::int as inserted`,
    [payload, agentId, d.file, dropped, agentId, dropped]);
  const last = lines[lines.length - 1];
  return { ok: true, ...(numbered ? { upTo: last!.seq as number } : {}), stored: Number(r?.inserted ?? 0) };
}
