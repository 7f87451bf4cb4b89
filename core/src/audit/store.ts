import type { Em } from '../db/orm.js';
import { GENESIS_HASH, findBreak, hashEntry, type AuditRecord, type ChainBreak } from './chain.js';

/** What a caller supplies for an audit entry; sequence, time and hashes are filled in here. */
export interface AuditInput {
  actorType: 'user' | 'token' | 'anonymous' | 'system' | 'plugin';
  actorId?: string | null;
  actorLabel?: string | null;
  tenantId?: string | null;
  tenantPath?: string | null;
  action: string;
  target?: string | null;
  outcome: 'success' | 'failure' | 'denied';
  ip?: string | null;
  userAgent?: string | null;
  requestId?: string | null;
  details?: Record<string, unknown>;
}

// Any constant works; it only has to be the same for every writer of the chain.
const AUDIT_LOCK_KEY = 7_261_001;

interface AuditRow {
  seq: string | number;
  at: Date | string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string | null;
  tenant_id: string | null;
  tenant_path: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: Record<string, unknown> | string;
  prev_hash: string;
  hash: string;
}

export type AuditEntry = AuditRecord & { prevHash: string; hash: string };

// A UTF-16 surrogate without its partner: PostgreSQL's jsonb refuses it and text columns store U+FFFD instead.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Postgres refuses \u0000 (and jsonb refuses lone surrogates); strip/replace them so an
 * attacker-controlled string can't make auditing fail, and what is hashed is what is stored.
 */
function sanitize(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\u0000/g, '').replace(LONE_SURROGATE, '\uFFFD');
  if (Array.isArray(value)) return value.map(sanitize);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [sanitize(k) as string, sanitize(v)]));
  }
  return value;
}

export function rowToEntry(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    at: new Date(r.at).toISOString(),
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorLabel: r.actor_label,
    tenantId: r.tenant_id,
    tenantPath: r.tenant_path,
    action: r.action,
    target: r.target,
    outcome: r.outcome,
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    details: typeof r.details === 'string' ? JSON.parse(r.details) : r.details,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Appends one entry to the chain inside the caller's transaction. A
 * transaction-scoped advisory lock serialises writers so the chain never
 * forks; it is taken as late as possible (callers append just before commit).
 */
export async function appendAudit(tem: Em, input: AuditInput): Promise<AuditEntry> {
  await tem.execute('select pg_advisory_xact_lock(?)', [AUDIT_LOCK_KEY]);
  const last = await tem.execute<Array<{ seq: string; hash: string }>>('select seq, hash from audit_entry order by seq desc limit 1');
  const prevHash = last[0]?.hash ?? GENESIS_HASH;
  const seq = last[0] ? Number(last[0].seq) + 1 : 1;
  // Millisecond precision survives the round trip through timestamptz exactly.
  const record: AuditRecord = {
    seq,
    at: new Date().toISOString(),
    actorType: input.actorType,
    actorId: input.actorId ?? null,
    actorLabel: (sanitize(input.actorLabel ?? null) as string | null),
    tenantId: input.tenantId ?? null,
    tenantPath: input.tenantPath ?? null,
    action: input.action,
    target: (sanitize(input.target ?? null) as string | null),
    outcome: input.outcome,
    ip: input.ip ?? null,
    userAgent: (sanitize(input.userAgent ?? null) as string | null),
    requestId: input.requestId ?? null,
    details: JSON.parse(JSON.stringify(sanitize(input.details ?? {}))),
  };
  const hash = hashEntry(prevHash, record);
  await tem.execute(
    `insert into audit_entry (seq, at, actor_type, actor_id, actor_label, tenant_id, tenant_path, action, target, outcome, ip, user_agent, request_id, details, prev_hash, hash)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
    [
      record.seq, record.at, record.actorType, record.actorId, record.actorLabel, record.tenantId, record.tenantPath,
      record.action, record.target, record.outcome, record.ip, record.userAgent, record.requestId,
      JSON.stringify(record.details), prevHash, hash,
    ],
  );
  return { ...record, prevHash, hash };
}

export interface AuditQuery {
  /** Only entries whose tenant is inside one of these subtrees; undefined = all. */
  tenantRoots?: string[];
  actorId?: string;
  action?: string;
  /** Prefix match on the action, e.g. `auth.` */
  actionPrefix?: string;
  outcome?: string;
  tenantPath?: string;
  from?: string;
  to?: string;
  /** Return entries with seq < before (newest first). */
  before?: number;
  limit: number;
}

/** Newest-first query with cursor pagination by sequence number. */
export async function queryAudit(em: Em, q: AuditQuery): Promise<AuditEntry[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (q.tenantRoots) {
    if (q.tenantRoots.length === 0) return [];
    where.push(`(${q.tenantRoots.map(() => 'tenant_path like ?').join(' or ')})`);
    params.push(...q.tenantRoots.map((r) => `${escapeLike(r)}%`));
  }
  if (q.tenantPath) {
    where.push('tenant_path like ?');
    params.push(`${escapeLike(q.tenantPath)}%`);
  }
  if (q.actorId) {
    where.push('actor_id = ?');
    params.push(q.actorId);
  }
  if (q.action) {
    where.push('action = ?');
    params.push(q.action);
  }
  if (q.actionPrefix) {
    where.push('action like ?');
    params.push(`${escapeLike(q.actionPrefix)}%`);
  }
  if (q.outcome) {
    where.push('outcome = ?');
    params.push(q.outcome);
  }
  if (q.from) {
    where.push('at >= ?');
    params.push(q.from);
  }
  if (q.to) {
    where.push('at < ?');
    params.push(q.to);
  }
  if (q.before !== undefined) {
    where.push('seq < ?');
    params.push(q.before);
  }
  const sql = `select * from audit_entry ${where.length ? `where ${where.join(' and ')}` : ''} order by seq desc limit ?`;
  params.push(q.limit);
  const rows = await em.execute<AuditRow[]>(sql, params);
  return rows.map(rowToEntry);
}

function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface VerifyResult {
  ok: boolean;
  checked: number;
  lastSeq: number;
  /** Hash of the newest entry: record it somewhere else (an "anchor") to detect later truncation. */
  lastHash: string;
  firstBroken?: ChainBreak;
}

/** An entry's sequence number and hash recorded earlier, outside the database. */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

/**
 * Re-computes the whole chain in pages of `pageSize` and reports the first
 * broken link. A chain alone cannot show that its newest entries were cut
 * off; an anchor recorded earlier (seq + hash from a previous verify) can:
 * that entry must still exist with the same hash.
 */
export async function verifyAudit(em: Em, pageSize = 2000, anchor?: AuditAnchor): Promise<VerifyResult> {
  let state = { prevHash: GENESIS_HASH, prevSeq: 0 };
  let checked = 0;
  let anchorSeen = false;
  for (;;) {
    const rows = await em.execute<AuditRow[]>('select * from audit_entry where seq > ? order by seq asc limit ?', [state.prevSeq, pageSize]);
    if (rows.length === 0) break;
    const entries = rows.map(rowToEntry);
    const result = findBreak(entries, state);
    checked += result.checked;
    if (result.broken) return { ok: false, checked, lastSeq: result.last.prevSeq, lastHash: result.last.prevHash, firstBroken: result.broken };
    if (anchor) {
      const at = entries.find((e) => e.seq === anchor.seq);
      if (at) {
        anchorSeen = true;
        if (at.hash !== anchor.hash) {
          return { ok: false, checked, lastSeq: result.last.prevSeq, lastHash: result.last.prevHash, firstBroken: { seq: anchor.seq, reason: 'anchor-mismatch', expected: anchor.hash, actual: at.hash } };
        }
      }
    }
    state = result.last;
  }
  if (anchor && !anchorSeen) {
    return { ok: false, checked, lastSeq: state.prevSeq, lastHash: state.prevHash, firstBroken: { seq: anchor.seq, reason: 'anchor-mismatch', expected: anchor.hash, actual: 'missing (the trail was truncated)' } };
  }
  return { ok: true, checked, lastSeq: state.prevSeq, lastHash: state.prevHash };
}
