import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { Em } from '../db/orm.js';
import { Session } from '../db/entities/index.js';
import { randomSecret, sha256 } from './secrets.js';
import { CSRF_COOKIE, SESSION_COOKIE } from './authenticator.js';

export interface IssuedSession {
  session: Session;
  secret: string;
}

/** Creates a server-side session row; the caller sets the cookies. */
export async function createSession(
  em: Em,
  input: { userId: string; tenantId: string; ip: string; userAgent: string | null; ttlSeconds: number; now: number },
): Promise<IssuedSession> {
  const secret = randomSecret(32);
  const session = em.create(Session, {
    id: randomUUID(),
    tenantId: input.tenantId,
    userId: input.userId,
    tokenHash: sha256(secret),
    csrfToken: randomSecret(24),
    ip: input.ip,
    userAgent: input.userAgent?.slice(0, 512) ?? null,
    createdAt: new Date(input.now),
    lastSeenAt: new Date(input.now),
    expiresAt: new Date(input.now + input.ttlSeconds * 1000),
    revokedAt: null,
  });
  await em.flush();
  return { session, secret };
}

/** Session cookie: httpOnly, SameSite=Lax. CSRF cookie: readable by the page's script (double submit). */
export function setSessionCookies(res: Response, issued: IssuedSession, options: { secure: boolean; ttlSeconds: number }): void {
  const common = { sameSite: 'lax' as const, secure: options.secure, path: '/', maxAge: options.ttlSeconds * 1000 };
  res.cookie(SESSION_COOKIE, issued.secret, { ...common, httpOnly: true });
  res.cookie(CSRF_COOKIE, issued.session.csrfToken, { ...common, httpOnly: false });
}

export function clearSessionCookies(res: Response): void {
  res.clearCookie(SESSION_COOKIE, { path: '/' });
  res.clearCookie(CSRF_COOKIE, { path: '/' });
}

export function toSessionView(s: Session, currentId?: string) {
  return {
    id: s.id,
    userId: s.userId,
    ip: s.ip ?? null,
    userAgent: s.userAgent ?? null,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    current: s.id === currentId,
  };
}

export const sessionViewSchema = {
  type: 'object',
  required: ['id', 'userId', 'ip', 'userAgent', 'createdAt', 'lastSeenAt', 'expiresAt', 'current'],
  properties: {
    id: { type: 'string' }, userId: { type: 'string' }, ip: { type: ['string', 'null'] }, userAgent: { type: ['string', 'null'] },
    createdAt: { type: 'string' }, lastSeenAt: { type: 'string' }, expiresAt: { type: 'string' }, current: { type: 'boolean' },
  },
};
