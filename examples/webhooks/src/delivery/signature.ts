import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Prefix of every endpoint secret, so a leaked one is recognisable (secret scanners, logs). */
export const SECRET_PREFIX = 'whsec_';

/** A new endpoint secret: 32 random bytes, base64url. */
export function newSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64url');
}

/** The last characters of a secret, so users can tell secrets apart without seeing them. */
export function secretHint(secret: string): string {
  return `${SECRET_PREFIX}…${secret.slice(-4)}`;
}

/**
 * The `x-mpanel-signature` header: `sha256=` + hex HMAC-SHA256 of
 * `"<timestamp>.<body>"`, keyed with the endpoint secret (the whole string,
 * UTF-8). Receivers recompute it and compare in constant time, and reject
 * timestamps that are too old to stop replays.
 */
export function signatureHeader(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Receiver side (documented in the README, used by the tests): constant-time check of a signature header. */
export function verifySignature(secret: string, timestamp: string, body: string, header: string): boolean {
  const expected = Buffer.from(signatureHeader(secret, timestamp, body));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
