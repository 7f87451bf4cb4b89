import { ProblemError } from '@mpanel/sdk';

/** Keyset cursor over (createdAt, id), newest first: stable while rows are added. Opaque to clients. */
interface Cursor {
  createdAt: string;
  id: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: { type: 'string', maxLength: 200 },
} as const;

export function decodeCursor(raw: string | undefined): Cursor | undefined {
  if (!raw) return undefined;
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof createdAt !== 'string' || typeof id !== 'string' || !UUID.test(id)) throw new Error('shape');
    const at = Date.parse(createdAt);
    if (!(at >= Date.parse('2000-01-01T00:00:00Z') && at <= Date.parse('9999-12-31T23:59:59Z'))) throw new Error('date');
    return { createdAt, id };
  } catch {
    throw new ProblemError('validation-failed', 'The cursor is not valid; use nextCursor from the previous page', {
      status: 400, extensions: { errors: [{ pointer: '/query/cursor', message: 'is not a cursor' }] },
    });
  }
}

/** Where-clause for "older than the cursor" in (createdAt desc, id desc) order. */
export function beforeCursor(c: Cursor | undefined): Record<string, unknown> {
  if (!c) return {};
  const at = new Date(c.createdAt);
  return { $or: [{ createdAt: { $lt: at } }, { createdAt: at, id: { $lt: c.id } }] };
}

/** Rows fetched with `limit + 1` → one page and the cursor of the next. */
export function page<T extends { createdAt: Date; id: string }, V>(rows: T[], limit: number, view: (row: T) => V): { items: V[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  const nextCursor = rows.length > limit && last ? Buffer.from(JSON.stringify([new Date(last.createdAt).toISOString(), last.id])).toString('base64url') : null;
  return { items: items.map(view), nextCursor };
}

export const pageOf = (item: Record<string, unknown>) => ({
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: { items: { type: 'array', items: item }, nextCursor: { type: ['string', 'null'] } },
});
