import type { PluginContext } from '@mpanel/sdk';
import { S } from '../db.js';

/** One snapshot ready to store. */
export interface SampleRow {
  agentId: string;
  seq: number;
  ts: number;
  layoutId: number;
  vals: Array<number | null>;
}

interface Waiting { rows: SampleRow[]; resolve: () => void; reject: (err: Error) => void }

export interface WriterOptions {
  /** Rows per INSERT at most. */
  maxRows?: number;
  /** How long a batch may wait for company before it is written (ms). */
  lingerMs?: number;
  /** INSERTs in flight at once. */
  concurrency?: number;
}

const num = (v: number | null) => (v === null || !Number.isFinite(v) ? 'NULL' : String(v));

/**
 * Group commit for samples: batches from many agents are written together
 * in one multi-row INSERT (a single jsonb parameter unpacked by PostgreSQL),
 * and each agent's acknowledgement waits for the commit. Duplicates (an
 * agent resending after a lost ack) are dropped by the (agent, seq) key.
 */
export class SampleWriter {
  private queue: Waiting[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private readonly maxRows: number;
  private readonly lingerMs: number;
  private readonly concurrency: number;
  /** Counters for the benchmark and the health view. */
  stored = 0;
  duplicates = 0;
  statements = 0;

  constructor(private readonly ctx: PluginContext<any>, o: WriterOptions = {}) {
    this.maxRows = o.maxRows ?? 2000;
    this.lingerMs = o.lingerMs ?? 5;
    this.concurrency = o.concurrency ?? 3;
  }

  write(rows: SampleRow[]): Promise<void> {
    if (!rows.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      this.queuedRows += rows.length;
      this.kick();
    });
  }

  private kick(): void {
    if (!this.queue.length || this.inFlight >= this.concurrency) return;
    if (this.queuedRows >= this.maxRows) {
      void this.flush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      void this.flush();
    }, this.lingerMs);
  }

  private async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.inFlight >= this.concurrency || !this.queue.length) return;
    const batch: Waiting[] = [];
    let n = 0;
    while (this.queue.length && (n === 0 || n + this.queue[0]!.rows.length <= this.maxRows)) {
      const w = this.queue.shift()!;
      batch.push(w);
      n += w.rows.length;
    }
    this.queuedRows -= n;
    this.inFlight++;
    try {
      const payload = JSON.stringify(batch.flatMap((w) => w.rows.map((r) => [r.agentId, r.seq, r.ts, r.layoutId, `{${r.vals.map(num).join(',')}}`])));
      // One statement: insert the batch, then note each agent's newest stored seq and when it was last heard of.
      const res = await this.ctx.db.em().execute<Array<{ inserted: number }>>(
        `with input as (
           select (r->>0)::uuid as agent_id, (r->>1)::bigint as seq, to_timestamp((r->>2)::float8 / 1000) as ts, (r->>3)::int as layout_id, (r->>4)::float8[] as vals
           from jsonb_array_elements(?::jsonb) as r),
         ins as (
           insert into ${S}.sample (agent_id, seq, ts, layout_id, vals) select * from input
           on conflict (agent_id, seq) do nothing returning agent_id, seq),
         upd as (
           update ${S}.agent a set last_seq = greatest(a.last_seq, m.seq), last_seen_at = now()
           from (select agent_id, max(seq) as seq from input group by agent_id) m where a.id = m.agent_id returning 1)
         select (select count(*) from ins)::int as inserted`,
        [payload],
      );
      const inserted = Number(res[0]?.inserted ?? 0);
      this.stored += inserted;
      this.duplicates += n - inserted;
      this.statements++;
      for (const w of batch) w.resolve();
    } catch (err) {
      for (const w of batch) w.reject(err as Error);
    } finally {
      this.inFlight--;
      this.kick();
    }
  }

  /** Waits until everything queued is written (on disable). */
  async drain(): Promise<void> {
    while (this.queue.length || this.inFlight) {
      if (this.queue.length) await this.flush();
      else await new Promise((r) => setTimeout(r, 5));
    }
  }
}
