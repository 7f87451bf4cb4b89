import { randomInt } from 'node:crypto';

export const BACKUP_CODE_COUNT = 10;
/** No 0/o, 1/l/i: codes are read off paper. 10 characters ≈ 50 bits each. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
const LENGTH = 10;

/** Ten fresh codes, formatted `xxxxx-xxxxx` for display. */
export function newBackupCodes(): string[] {
  return Array.from({ length: BACKUP_CODE_COUNT }, () => {
    let s = '';
    for (let i = 0; i < LENGTH; i++) s += ALPHABET[randomInt(ALPHABET.length)];
    return `${s.slice(0, 5)}-${s.slice(5)}`;
  });
}

/** A backup code as typed (any case, with or without dash or spaces); null if it cannot be one. */
export function normaliseBackupCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 40) return null;
  const code = input.toLowerCase().replace(/[\s-]+/g, '');
  return code.length === LENGTH && [...code].every((c) => ALPHABET.includes(c)) ? code : null;
}

/** The text file users download: one code per line, with a header saying what they are. */
export function backupCodesText(codes: string[], account: string, issuer: string): string {
  return [
    `${issuer} backup codes for ${account}`,
    'Each code logs you in once instead of a code from your authenticator app.',
    'Keep them somewhere safe; generating new codes makes these invalid.',
    '',
    ...codes,
    '',
  ].join('\n');
}
