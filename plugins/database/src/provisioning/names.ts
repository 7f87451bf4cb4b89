import { ProblemError } from '@mpanel/sdk';
import type { Engine } from '../entities/server.js';

/**
 * Identifier rules. Names reach SQL only through the drivers' quoting
 * (pg escapeIdentifier, mysql2 escapeId), but we refuse anything that is not
 * plain lowercase ASCII first: no quotes, semicolons, spaces, unicode look-alikes.
 */
const NAME = /^[a-z0-9_]+$/;
/** A prefix has no underscore: the part before the first `_` of a name is the owner's prefix, unambiguously. */
export const PREFIX = /^[a-z][a-z0-9]{1,15}$/;

/** Longest names, in bytes (ASCII: characters), per server kind. */
export const NAME_LIMITS: Record<Engine, { database: number; user: number }> = {
  postgresql: { database: 63, user: 63 },
  mariadb: { database: 64, user: 80 },
};

/** Prefixes that would collide with the servers' own names (pg_*, mysql, …). */
const RESERVED_PREFIXES = new Set(['pg', 'postgres', 'mysql', 'mariadb', 'sys', 'information', 'performance', 'root', 'template', 'public', 'admin']);

function invalid(field: string, detail: string): ProblemError {
  return new ProblemError('invalid-name', detail, {
    status: 422,
    extensions: { field, errors: [{ pointer: `/body/${field}`, message: detail }] },
  });
}

/** Checks a database or user name for a tenant's prefix and the server's limit; throws a 422 naming the field. */
export function validateName(name: unknown, opts: { field: string; prefix: string; engine: Engine; kind: 'database' | 'user' }): string {
  const { field, prefix, engine, kind } = opts;
  if (typeof name !== 'string' || name.length === 0) throw invalid(field, `${field} is required`);
  const limit = NAME_LIMITS[engine][kind];
  if (Buffer.byteLength(name, 'utf8') > limit) throw invalid(field, `${field} is longer than ${limit} bytes, the ${engine} limit for a ${kind} name`);
  if (!NAME.test(name)) throw invalid(field, `${field} may only contain lowercase ASCII letters, digits and underscores`);
  if (!name.startsWith(`${prefix}_`) || name.length === prefix.length + 1) {
    throw invalid(field, `${field} must start with your prefix "${prefix}_" followed by at least one character, e.g. ${prefix}_shop`);
  }
  return name;
}

/** Checks a tenant prefix an admin sets. */
export function validatePrefix(prefix: string): string {
  if (!PREFIX.test(prefix)) {
    throw new ProblemError('invalid-prefix', 'A prefix is 2–16 lowercase ASCII letters and digits, starting with a letter (no underscore)', {
      status: 422, extensions: { field: 'prefix', errors: [{ pointer: '/body/prefix', message: 'must match ^[a-z][a-z0-9]{1,15}$' }] },
    });
  }
  if (isReservedPrefix(prefix)) {
    throw new ProblemError('invalid-prefix', `The prefix "${prefix}" is reserved by the database servers`, { status: 422, extensions: { field: 'prefix' } });
  }
  return prefix;
}

export function isReservedPrefix(prefix: string): boolean {
  return RESERVED_PREFIXES.has(prefix) || prefix.startsWith('pg');
}

/** A first suggestion for a tenant's prefix, from its display name ("ACME Corp." → "acmecorp"). */
export function prefixFromName(tenantName: string): string {
  let slug = tenantName.normalize('NFKD').toLowerCase().replace(/[^a-z0-9]/g, '').slice(0, 12);
  if (!/^[a-z]/.test(slug)) slug = `t${slug}`;
  if (slug.length < 2 || isReservedPrefix(slug)) slug = `t${slug}x`.slice(0, 12);
  return slug;
}
