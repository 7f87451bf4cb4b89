/** Who is making a request. */
export interface Actor {
  type: 'user' | 'token' | 'anonymous' | 'system';
  userId?: string;
  email?: string;
  name?: string;
  /** The tenant the user belongs to (its "home" tenant). */
  tenantId?: string;
  tenantPath?: string;
  sessionId?: string;
  tokenId?: string;
  emailVerified?: boolean;
  /** ISO time the user was created. */
  createdAt?: string;
  /** Human-readable label for the audit trail. */
  label: string;
}

export const ANONYMOUS: Actor = Object.freeze({ type: 'anonymous', label: 'anonymous' }) as Actor;
export const SYSTEM: Actor = Object.freeze({ type: 'system', label: 'system' }) as Actor;
