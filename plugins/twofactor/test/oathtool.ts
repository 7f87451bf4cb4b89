import { execFileSync } from 'node:child_process';

/**
 * A TOTP code from Debian's oathtool — an implementation independent of the
 * plugin's (otplib) — for the base32 secret, at `at` (default: now).
 */
export function oathtool(secret: string, at?: Date): string {
  const when = at ? ['--now', `${at.toISOString().slice(0, 19).replace('T', ' ')} UTC`] : [];
  return execFileSync('oathtool', ['--totp', '-b', ...when, secret], { encoding: 'utf8' }).trim();
}

/** The secret inside an otpauth:// URI. */
export function secretOf(otpauthUri: string): string {
  return new URL(otpauthUri).searchParams.get('secret')!;
}
