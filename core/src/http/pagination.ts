import { ProblemError } from '../errors/problem.js';

/** Keyset cursor over (createdAt, id): stable under inserts, opaque to clients. */
export interface Cursor {
  createdAt: string;
  id: string;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.createdAt, c.id])).toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [string, string];
    if (typeof createdAt !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw new Error('shape');
    // Only instants PostgreSQL can compare with (a forged year -200000 must be a 400, not a database error).
    const at = Date.parse(createdAt);
    if (!(at >= FIRST_INSTANT && at <= LAST_INSTANT)) throw new Error('date');
    return { createdAt, id };
  } catch {
    throw new ProblemError('validation-failed', 'The cursor is not valid; use nextCursor from the previous page', { errors: [{ pointer: '/query/cursor', message: 'is not a cursor' }] });
  }
}

/** MikroORM where-clause for "after this cursor" in (createdAt, id) ascending order. */
export function afterCursor(c: Cursor | undefined): Record<string, unknown> {
  if (!c) return {};
  const at = new Date(c.createdAt);
  return { $or: [{ createdAt: { $gt: at } }, { createdAt: at, id: { $gt: c.id } }] };
}

export function page<T extends { createdAt: Date; id: string }, V>(rows: T[], limit: number, view: (row: T) => V): { items: V[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items: items.map(view),
    nextCursor: rows.length > limit && last ? encodeCursor({ createdAt: new Date(last.createdAt).toISOString(), id: last.id }) : null,
  };
}
