import { createHash } from 'node:crypto';

/** An audit entry as hashed. Field order does not matter: hashing uses canonical JSON. */
export interface AuditRecord {
  seq: number;
  at: string;
  actorType: string;
  actorId: string | null;
  actorLabel: string | null;
  tenantId: string | null;
  tenantPath: string | null;
  action: string;
  target: string | null;
  outcome: string;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

/** Hash that precedes the first entry. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every level, so the same data always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
}

/** SHA-256 over the previous hash and the entry's canonical JSON. */
export function hashEntry(prevHash: string, record: AuditRecord): string {
  return createHash('sha256').update(prevHash).update('\n').update(canonicalJson(record)).digest('hex');
}

export interface ChainBreak {
  seq: number;
  reason: 'hash-mismatch' | 'prev-hash-mismatch' | 'sequence-gap' | 'anchor-mismatch';
  expected: string;
  actual: string;
}

/**
 * Walks entries in sequence order and returns the first broken link, if any.
 * `prevHash`/`prevSeq` let a caller verify a long chain in pages.
 */
export function findBreak(
  entries: Iterable<AuditRecord & { prevHash: string; hash: string }>,
  start: { prevHash: string; prevSeq: number } = { prevHash: GENESIS_HASH, prevSeq: 0 },
): { broken?: ChainBreak; last: { prevHash: string; prevSeq: number }; checked: number } {
  let { prevHash, prevSeq } = start;
  let checked = 0;
  for (const e of entries) {
    if (e.seq !== prevSeq + 1) {
      return { broken: { seq: e.seq, reason: 'sequence-gap', expected: String(prevSeq + 1), actual: String(e.seq) }, last: { prevHash, prevSeq }, checked };
    }
    if (e.prevHash !== prevHash) {
      return { broken: { seq: e.seq, reason: 'prev-hash-mismatch', expected: prevHash, actual: e.prevHash }, last: { prevHash, prevSeq }, checked };
    }
    const { prevHash: _p, hash, ...record } = e;
    const expected = hashEntry(prevHash, record);
    if (expected !== hash) {
      return { broken: { seq: e.seq, reason: 'hash-mismatch', expected, actual: hash }, last: { prevHash, prevSeq }, checked };
    }
    prevHash = hash;
    prevSeq = e.seq;
    checked++;
  }
  return { last: { prevHash, prevSeq }, checked };
}
