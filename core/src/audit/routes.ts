import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import { Tenant } from '../db/entities/index.js';
import { uuid, dateTime } from '../http/common-schemas.js';
import type { RouteContext } from '../http/route-registry.js';
import { queryAudit, verifyAudit, type AuditEntry, type AuditQuery } from './store.js';

const filterProperties = {
  actorId: { type: 'string', maxLength: 100 },
  action: { type: 'string', maxLength: 200 },
  actionPrefix: { type: 'string', maxLength: 200 },
  outcome: { enum: ['success', 'failure', 'denied'] },
  tenantId: uuid,
  from: dateTime,
  to: dateTime,
};

const entryView = {
  type: 'object',
  required: ['seq', 'at', 'actorType', 'action', 'outcome', 'hash', 'prevHash'],
  properties: {
    seq: { type: 'integer' }, at: { type: 'string' }, actorType: { type: 'string' }, actorId: { type: ['string', 'null'] },
    actorLabel: { type: ['string', 'null'] }, tenantId: { type: ['string', 'null'] }, tenantPath: { type: ['string', 'null'] },
    action: { type: 'string' }, target: { type: ['string', 'null'] }, outcome: { type: 'string' }, ip: { type: ['string', 'null'] },
    userAgent: { type: ['string', 'null'] }, requestId: { type: ['string', 'null'] }, details: { type: 'object', additionalProperties: true },
    prevHash: { type: 'string' }, hash: { type: 'string' },
  },
};

type Filters = { actorId?: string; action?: string; actionPrefix?: string; outcome?: string; tenantId?: string; from?: string; to?: string };

export const CSV_COLUMNS = ['seq', 'at', 'actorType', 'actorId', 'actorLabel', 'tenantId', 'tenantPath', 'action', 'target', 'outcome', 'ip', 'userAgent', 'requestId', 'details', 'prevHash', 'hash'] as const;

function csvCell(value: unknown): string {
  const s = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  // Quote always; neutralise spreadsheet formulas (CSV injection).
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function toCsvRow(e: AuditEntry): string {
  return CSV_COLUMNS.map((c) => csvCell(e[c])).join(',');
}

const FIRST_INSTANT = Date.parse('0001-01-01T00:00:00Z');
const LAST_INSTANT = Date.parse('9999-12-31T23:59:59.999Z');

/**
 * A `date-time` filter as an ISO string PostgreSQL accepts. The schema lets
 * through RFC 3339 values PostgreSQL refuses (year 0, offsets of ±24 h) —
 * those must be a 400, not a database error.
 */
function storableInstant(name: 'from' | 'to', value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // Date.parse knows no leap seconds: 23:59:60 is the first instant of the next minute.
  const leap = /:60(?=[.zZ+-]|$)/.test(value);
  const ms = Date.parse(leap ? value.replace(/:60(?=[.zZ+-]|$)/, ':59') : value) + (leap ? 1000 : 0);
  if (!Number.isFinite(ms) || ms < FIRST_INSTANT || ms > LAST_INSTANT) {
    throw new ProblemError('validation-failed', `The query parameter "${name}" is not a usable date-time`, { errors: [{ pointer: `/query/${name}`, message: 'must be a date-time between the years 1 and 9999' }] });
  }
  return new Date(ms).toISOString();
}

/** The audit trail: query, export and verify. */
export function registerAuditRoutes(k: Kernel): void {
  /** Translates filters + the actor's grants into a store query: only subtrees where it holds audit.read. */
  const buildQuery = async (ctx: RouteContext<{}, Filters & { limit?: number; cursor?: string }>, limit: number): Promise<AuditQuery> => {
    const grants = ctx.authz.grants.filter((g) => ctx.authz.hasOn('audit.read', g.tenantPath));
    // A grant on a root tenant sees everything, including entries without a tenant (e.g. unknown-e-mail logins).
    const seesAll = grants.some((g) => g.tenantPath.split('/').filter(Boolean).length === 1);
    const q: AuditQuery = {
      tenantRoots: seesAll ? undefined : grants.map((g) => g.tenantPath),
      actorId: ctx.query.actorId,
      action: ctx.query.action,
      actionPrefix: ctx.query.actionPrefix,
      outcome: ctx.query.outcome,
      from: storableInstant('from', ctx.query.from),
      to: storableInstant('to', ctx.query.to),
      limit,
    };
    if (ctx.query.tenantId) {
      const t = await ctx.em.findOne(Tenant, { id: ctx.query.tenantId });
      if (!t) throw new ProblemError('not-found', `No tenant ${ctx.query.tenantId} in your subtree`);
      q.tenantPath = t.path;
    }
    if (ctx.query.cursor !== undefined) {
      if (!/^\d{1,18}$/.test(ctx.query.cursor)) throw new ProblemError('validation-failed', 'The cursor is not valid', { errors: [{ pointer: '/query/cursor', message: 'must be nextCursor of a previous page' }] });
      q.before = Number(ctx.query.cursor);
    }
    return q;
  };

  k.routes.register({
    method: 'GET',
    path: '/api/v1/audit',
    summary: 'Audit entries of your subtree, newest first, with filters and cursor pagination.',
    tags: ['audit'],
    permission: 'audit.read',
    schema: {
      query: { type: 'object', properties: { ...filterProperties, limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 }, cursor: { type: 'string', maxLength: 20 } } },
      response: { type: 'object', required: ['items', 'nextCursor'], properties: { items: { type: 'array', items: entryView }, nextCursor: { type: ['string', 'null'] } } },
    },
    handler: async (ctx: RouteContext<{}, Filters & { limit: number; cursor?: string }>) => {
      const q = await buildQuery(ctx, ctx.query.limit + 1);
      const rows = await queryAudit(ctx.em, q);
      const items = rows.slice(0, ctx.query.limit);
      return { items, nextCursor: rows.length > ctx.query.limit ? String(items[items.length - 1]!.seq) : null };
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/audit/export',
    summary: 'Export matching audit entries as CSV or JSON (newest first, at most `max`).',
    tags: ['audit'],
    permission: 'audit.read',
    raw: true,
    schema: {
      query: { type: 'object', properties: { ...filterProperties, format: { enum: ['csv', 'json'], default: 'json' }, max: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 100_000 } } },
    },
    handler: async (ctx: RouteContext<{}, Filters & { format: 'csv' | 'json'; max: number }>) => {
      const base = await buildQuery(ctx, 1000);
      const { res } = ctx;
      const stamp = new Date(k.now()).toISOString().replace(/[:.]/g, '-');
      res.setHeader('content-disposition', `attachment; filename="audit-${stamp}.${ctx.query.format}"`);
      res.type(ctx.query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json');
      res.write(ctx.query.format === 'csv' ? `${CSV_COLUMNS.join(',')}\n` : '[');
      let before: number | undefined;
      let sent = 0;
      while (sent < ctx.query.max) {
        const rows = await queryAudit(ctx.em, { ...base, before, limit: Math.min(1000, ctx.query.max - sent) });
        if (rows.length === 0) break;
        for (const e of rows) {
          res.write(ctx.query.format === 'csv' ? `${toCsvRow(e)}\n` : `${sent === 0 ? '' : ','}\n${JSON.stringify(e)}`);
          sent++;
        }
        before = rows[rows.length - 1]!.seq;
      }
      res.end(ctx.query.format === 'csv' ? '' : '\n]\n');
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/audit/verify',
    summary: 'Re-compute the SHA-256 hash chain and report the first broken link. Pass an anchor (seq + hash of an earlier verify, kept outside the panel) to also detect truncation.',
    tags: ['audit'],
    permission: 'audit.verify',
    schema: {
      query: { type: 'object', properties: { anchorSeq: { type: 'integer', minimum: 1 }, anchorHash: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, dependencies: { anchorSeq: ['anchorHash'], anchorHash: ['anchorSeq'] } },
      response: {
        type: 'object',
        required: ['ok', 'checked', 'lastSeq', 'lastHash'],
        properties: {
          ok: { type: 'boolean' }, checked: { type: 'integer' }, lastSeq: { type: 'integer' }, lastHash: { type: 'string' },
          firstBroken: { type: 'object', properties: { seq: { type: 'integer' }, reason: { type: 'string' }, expected: { type: 'string' }, actual: { type: 'string' } } },
        },
      },
    },
    handler: async (ctx: RouteContext<{}, { anchorSeq?: number; anchorHash?: string }>) =>
      verifyAudit(ctx.unscopedEm(), 2000, ctx.query.anchorSeq ? { seq: ctx.query.anchorSeq, hash: ctx.query.anchorHash! } : undefined),
  });
}
