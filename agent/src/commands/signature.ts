import { createPublicKey, createHash, verify, type KeyObject } from 'node:crypto';

/** A command request as the panel sends it. */
export interface SignedCommand {
  id: string;
  agentId: string;
  name: string;
  /** ms since the epoch */
  issuedAt: number;
  expiresAt: number;
  timeoutMs: number;
  /** Ed25519 signature (base64) over `commandSigningInput(...)`. */
  sig: string;
}

/**
 * The exact bytes the panel signs. Fixed field order and a version prefix, so
 * no JSON canonicalisation is needed and a signature can't be moved to
 * another kind of message. (The plugin has the same function.)
 */
export function commandSigningInput(c: Omit<SignedCommand, 'sig'>): Buffer {
  return Buffer.from(['mpanel-command-v1', c.id, c.agentId, c.name, String(c.issuedAt), String(c.expiresAt), String(c.timeoutMs)].join('\n'), 'utf8');
}

/** The panel's public key as pinned at enrolment (base64 DER SPKI). */
export function panelKey(spkiBase64: string): KeyObject {
  const key = createPublicKey({ key: Buffer.from(spkiBase64, 'base64'), format: 'der', type: 'spki' });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the pinned panel key is not an Ed25519 key');
  return key;
}

/** `sha256:<hex>` of the DER public key — what an admin compares at enrolment. */
export function fingerprint(spkiBase64: string): string {
  return `sha256:${createHash('sha256').update(Buffer.from(spkiBase64, 'base64')).digest('hex')}`;
}

export function verifyCommand(c: SignedCommand, key: KeyObject): boolean {
  if (typeof c.sig !== 'string' || !c.sig) return false;
  try {
    return verify(null, commandSigningInput(c), key, Buffer.from(c.sig, 'base64'));
  } catch {
    return false;
  }
}
