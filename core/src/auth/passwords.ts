import argon2 from 'argon2';
import { ProblemError } from '../errors/problem.js';

// OWASP-recommended argon2id parameters (19 MiB, 2 iterations).
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 256;

/** JSON Schema for a new password (length only; strength rules live in checkPasswordPolicy). */
export const passwordSchema = { type: 'string', minLength: PASSWORD_MIN, maxLength: PASSWORD_MAX } as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | null = null;
/** Verifies against a throwaway hash so unknown e-mails take as long as known ones. */
export async function burnVerifyTime(password: string): Promise<void> {
  dummyHash ??= hashPassword('timing-equaliser-not-a-password');
  await verifyPassword(await dummyHash, password);
}

/** Refuses passwords that are trivially weak; the schema already checks length. */
export function checkPasswordPolicy(password: string, email?: string): void {
  if (new Set(password).size < 4) {
    throw new ProblemError('validation-failed', 'The password is too simple', { errors: [{ pointer: '/body/password', message: 'uses fewer than 4 different characters' }] });
  }
  if (email && password.toLowerCase().includes(email.toLowerCase().split('@')[0]!) && email.split('@')[0]!.length >= 4) {
    throw new ProblemError('validation-failed', 'The password must not contain the e-mail name', { errors: [{ pointer: '/body/password', message: 'contains the e-mail name' }] });
  }
}
