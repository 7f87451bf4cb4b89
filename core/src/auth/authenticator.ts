import type { Request } from 'express';
import { parse as parseCookie } from 'cookie';
import type { Orm, Em } from '../db/orm.js';
import { ANONYMOUS, type Actor } from '../di/actor.js';
import { Authorization } from '../rbac/authorization.js';
import { resolveAuthorization } from '../rbac/resolve.js';
import { TENANT_FILTER } from '../db/entities/index.js';
import type { Authenticator, AuthResult } from '../http/route-registry.js';
import { ProblemError } from '../errors/problem.js';
import { sha256 } from './secrets.js';

export type InvalidationScope = 'all' | 'user' | 'session' | 'token';

export const SESSION_COOKIE = 'mpanel_session';
export const CSRF_COOKIE = 'mpanel_csrf';
/** API tokens look like `mpt_<secret>`; the prefix lets secret scanners find leaked ones. */
export const TOKEN_PREFIX = 'mpt_';

interface CacheEntry extends AuthResult {
  userId: string;
  sessionId?: string;
  tokenId?: string;
  /** When the credential itself expires. */
  expiresAt: number;
  /** When the cached resolution must be re-read from the database. */
  staleAt: number;
}

export interface AuthenticatorOptions {
  sessionTtlSeconds: number;
  /** How long a resolved credential is trusted before re-reading it; invalidation on this node is immediate. */
  cacheSeconds: number;
  now?: () => number;
}

/**
 * Turns a request's cookie or bearer token into an actor, its Authorization
 * and its visible tenants. Results are cached per credential so the hot path
 * does no database work; anything that revokes or changes permissions calls
 * one of the invalidate methods, which takes effect on the next request.
 */
export class CredentialAuthenticator implements Authenticator {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly now: () => number;

  constructor(
    private readonly orm: Orm,
    private readonly options: AuthenticatorOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  async authenticate(req: Request): Promise<AuthResult> {
    const header = req.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      if (!m) throw new ProblemError('unauthenticated', 'The Authorization header must be "Bearer <token>"');
      return this.fromToken(m[1]!);
    }
    const cookieHeader = req.headers.cookie;
    if (cookieHeader) {
      const secret = parseCookie(cookieHeader)[SESSION_COOKIE];
      if (secret) return this.fromSession(secret);
    }
    return { actor: ANONYMOUS, authz: Authorization.none(), visibleTenantIds: [] };
  }

  /** Told about every invalidation, so other panel processes can drop their copies too. */
  onInvalidate?: (scope: InvalidationScope, id?: string) => void;

  invalidateUser(userId: string): void {
    this.drop('user', userId);
    this.onInvalidate?.('user', userId);
  }

  invalidateSession(sessionId: string): void {
    this.drop('session', sessionId);
    this.onInvalidate?.('session', sessionId);
  }

  invalidateToken(tokenId: string): void {
    this.drop('token', tokenId);
    this.onInvalidate?.('token', tokenId);
  }

  /** Role, binding or tenant-tree changes: simplest correct answer is to drop everything. */
  invalidateAll(): void {
    this.drop('all');
    this.onInvalidate?.('all');
  }

  /** Drops cached credentials on this process only (another process told us). */
  drop(scope: InvalidationScope, id?: string): void {
    if (scope === 'all') {
      this.cache.clear();
      return;
    }
    const field = scope === 'user' ? 'userId' : scope === 'session' ? 'sessionId' : 'tokenId';
    for (const [k, v] of this.cache) if (v[field] === id) this.cache.delete(k);
  }

  private systemEm(): Em {
    const em = this.orm.em.fork() as unknown as Em;
    em.setFilterParams(TENANT_FILTER, { all: true });
    return em;
  }

  private cached(key: string): CacheEntry | undefined {
    const hit = this.cache.get(key);
    const t = this.now();
    if (hit && hit.staleAt > t && hit.expiresAt > t) return hit;
    if (hit) this.cache.delete(key);
    return undefined;
  }

  private async fromSession(secret: string): Promise<AuthResult> {
    const key = `s:${sha256(secret)}`;
    const hit = this.cached(key);
    if (hit) return hit;
    const em = this.systemEm();
    const t = this.now();
    const rows = await em.execute<Array<Record<string, any>>>(
      `select s.id, s.user_id, s.csrf_token, s.expires_at, s.revoked_at, u.email, u.name, u.tenant_id, u.disabled_at, u.email_verified_at, u.created_at, tn.path
         from session s join app_user u on u.id = s.user_id join tenant tn on tn.id = u.tenant_id
        where s.token_hash = ?`,
      [key.slice(2)],
    );
    const row = rows[0];
    if (!row || row.revoked_at || row.disabled_at || new Date(row.expires_at).getTime() <= t) {
      throw new ProblemError('unauthenticated', 'The session has expired or was revoked; log in again');
    }
    // Sliding expiry, written at most once per cache period.
    const expiresAt = t + this.options.sessionTtlSeconds * 1000;
    await em.execute('update session set last_seen_at = ?, expires_at = ? where id = ?', [new Date(t), new Date(expiresAt), row.id]);
    const { authz, visibleTenantIds } = await resolveAuthorization(em, row.user_id);
    const actor: Actor = { ...userActor(row), type: 'user', sessionId: row.id, label: row.email };
    const entry: CacheEntry = {
      actor, authz, visibleTenantIds, csrfToken: row.csrf_token, userId: row.user_id, sessionId: row.id,
      expiresAt, staleAt: t + this.options.cacheSeconds * 1000,
    };
    this.cache.set(key, entry);
    return entry;
  }

  private async fromToken(secret: string): Promise<AuthResult> {
    if (!secret.startsWith(TOKEN_PREFIX)) throw new ProblemError('unauthenticated', 'Unknown API token format');
    const key = `t:${sha256(secret)}`;
    const hit = this.cached(key);
    if (hit) return hit;
    const em = this.systemEm();
    const t = this.now();
    const rows = await em.execute<Array<Record<string, any>>>(
      `select k.id, k.user_id, k.name as token_name, k.permissions, k.expires_at, k.revoked_at, u.email, u.name, u.tenant_id, u.disabled_at, u.email_verified_at, u.created_at, tn.path
         from api_token k join app_user u on u.id = k.user_id join tenant tn on tn.id = u.tenant_id
        where k.token_hash = ?`,
      [key.slice(2)],
    );
    const row = rows[0];
    if (!row || row.revoked_at || row.disabled_at || new Date(row.expires_at).getTime() <= t) {
      throw new ProblemError('unauthenticated', 'The API token is unknown, expired or revoked');
    }
    await em.execute('update api_token set last_used_at = ? where id = ?', [new Date(t), row.id]);
    const scope = typeof row.permissions === 'string' ? JSON.parse(row.permissions) : row.permissions;
    const { authz, visibleTenantIds } = await resolveAuthorization(em, row.user_id, scope);
    const actor: Actor = { ...userActor(row), type: 'token', tokenId: row.id, label: `${row.email} (token ${row.token_name})` };
    const entry: CacheEntry = {
      actor, authz, visibleTenantIds, userId: row.user_id, tokenId: row.id,
      expiresAt: new Date(row.expires_at).getTime(), staleAt: t + this.options.cacheSeconds * 1000,
    };
    this.cache.set(key, entry);
    return entry;
  }
}

/** The user part of an actor, from a credential row joined with its user and tenant. */
function userActor(row: Record<string, any>): Omit<Actor, 'type' | 'label'> {
  return {
    userId: row.user_id,
    email: row.email,
    name: row.name,
    tenantId: row.tenant_id,
    tenantPath: row.path,
    emailVerified: !!row.email_verified_at,
    createdAt: new Date(row.created_at).toISOString(),
  };
}
