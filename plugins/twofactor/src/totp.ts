import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/** RFC 6238 as authenticator apps expect it: HMAC-SHA-1, 6 digits, 30-second steps. */
export const TOTP = { algorithm: 'sha1', digits: 6, period: 30 } as const;
/** Codes of the previous and the next step are accepted too (clock drift), nothing further. */
const TOLERANCE_SECONDS = TOTP.period;

/** A new 160-bit seed, base32 (what `oathtool --totp -b` and the apps take). */
export function newSecret(): string {
  return generateSecret({ length: 20 });
}

/** What an authenticator app needs: the `otpauth://` URI and the same as a QR code (PNG data URL). */
export async function provisioning(secret: string, issuer: string, account: string): Promise<{ otpauthUri: string; qrDataUrl: string }> {
  const otpauthUri = generateURI({ issuer, label: account, secret, algorithm: TOTP.algorithm, digits: TOTP.digits, period: TOTP.period });
  const qrDataUrl = await QRCode.toDataURL(otpauthUri, { errorCorrectionLevel: 'M', margin: 2, width: 240 });
  return { otpauthUri, qrDataUrl };
}

/** A code as users type it: six digits, spaces allowed ("123 456"). Null if it cannot be one. */
export function normaliseCode(input: unknown): string | null {
  if (typeof input !== 'string' || input.length > 20) return null;
  const code = input.replace(/\s+/g, '');
  return /^\d{6}$/.test(code) ? code : null;
}

/**
 * Checks a code against the seed within ±1 step of `now`. Returns the RFC 6238
 * time step it matched, or null. Codes of steps up to `afterStep` are refused
 * (a code that was used once is never accepted again).
 */
export async function matchStep(secret: string, code: string, afterStep: number | null, now = Date.now()): Promise<number | null> {
  const result = await verify({
    secret, token: code, algorithm: TOTP.algorithm, digits: TOTP.digits, period: TOTP.period,
    epoch: Math.floor(now / 1000), epochTolerance: TOLERANCE_SECONDS,
    ...(afterStep !== null ? { afterTimeStep: afterStep } : {}),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
