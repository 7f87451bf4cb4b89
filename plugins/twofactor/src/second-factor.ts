import type { PluginContext, PluginEntityManager } from '@mpanel/sdk';
import type { TwofactorSettings } from './settings.js';
import type { Enrolment, TwofactorStore } from './store.js';
import type { CodeThrottle } from './throttle.js';
import { matchStep, newSecret, normaliseCode, provisioning } from './totp.js';
import { newBackupCodes, normaliseBackupCode } from './backup-codes.js';

/** A seed shown but not confirmed stays usable this long (login-time enrolment shows the same QR code again). */
export const PENDING_TTL_MS = 30 * 60_000;
/** After an enrolment at login, the first backup codes can be fetched without a code for this long. */
export const INITIAL_CODES_TTL_MS = 15 * 60_000;

/** What a user sends to prove the second factor: a code from the app or a backup code. */
export interface Answer {
  code?: unknown;
  backupCode?: unknown;
}

export type FailureCode = 'invalid-code' | 'code-replayed' | 'too-many-attempts' | 'not-enrolled' | 'enrolment-expired' | 'twofactor-enabled';

export type CheckResult =
  | { ok: true; method: 'totp' | 'backup-code'; step?: number }
  | { ok: false; code: FailureCode; message: string; retryAfter?: number };

const fail = (code: FailureCode, message: string, retryAfter?: number): CheckResult => ({ ok: false, code, message, ...(retryAfter ? { retryAfter } : {}) });

/**
 * Everything that checks or issues a second factor, shared by the login hooks
 * and the account routes: throttling, replay protection and single use live
 * here and only here.
 */
export class SecondFactor {
  constructor(
    private readonly ctx: PluginContext<TwofactorSettings>,
    private readonly store: TwofactorStore,
    private readonly throttle: CodeThrottle,
    private readonly now: () => number = Date.now,
  ) {}

  private hashBackupCode(userId: string, normalised: string): string {
    return this.ctx.secrets.hmac(`backup-code:${userId}:${normalised}`);
  }

  /**
   * Checks an answer against the user's active enrolment and spends it: the
   * TOTP step is recorded (the same code, or an older one, is refused from
   * then on) or the backup code is marked used.
   */
  async check(em: PluginEntityManager, enrolment: Enrolment | null, answer: Answer, ip: string, options: { backupCodes: boolean }): Promise<CheckResult> {
    if (!enrolment?.secret) return fail('not-enrolled', 'Two-factor login is not set up for this account');
    const userId = enrolment.userId;
    const wait = this.throttle.retryAfter(userId, ip);
    if (wait > 0) return fail('too-many-attempts', `Too many wrong codes; try again in ${wait} s`, wait);
    const result = await this.verify(em, enrolment, answer, options);
    if (result.ok) this.throttle.succeed(userId);
    else this.throttle.fail(userId, ip);
    return result;
  }

  private async verify(em: PluginEntityManager, enrolment: Enrolment, answer: Answer, options: { backupCodes: boolean }): Promise<CheckResult> {
    const now = new Date(this.now());
    if (options.backupCodes && answer.backupCode !== undefined) {
      const code = normaliseBackupCode(answer.backupCode);
      if (code && (await this.store.useBackupCode(em, enrolment.userId, this.hashBackupCode(enrolment.userId, code), now))) {
        return { ok: true, method: 'backup-code' };
      }
      return fail('invalid-code', 'The backup code is wrong or was used already');
    }
    const code = normaliseCode(answer.code);
    if (!code) return fail('invalid-code', 'Enter the 6-digit code from your authenticator app');
    const secret = this.ctx.secrets.open(enrolment.secret!);
    const step = await matchStep(secret, code, null, now.getTime());
    if (step === null) return fail('invalid-code', 'The code is wrong or expired');
    if (!(await this.store.useStep(em, enrolment.userId, step, now))) {
      return fail('code-replayed', 'This code was used already; wait for the next one');
    }
    return { ok: true, method: 'totp', step };
  }

  /**
   * A seed for enrolment with its QR code: the pending one if it is recent
   * enough and `reuse` is set (a user under a policy who logs in twice sees
   * the same QR code), otherwise a new one.
   */
  async pendingSecret(em: PluginEntityManager, user: { userId: string; email: string }, enrolment: Enrolment | null, reuse: boolean) {
    const now = this.now();
    let secret: string;
    if (reuse && enrolment?.pendingSecret && enrolment.pendingAt && now - enrolment.pendingAt.getTime() < PENDING_TTL_MS) {
      secret = this.ctx.secrets.open(enrolment.pendingSecret);
    } else {
      secret = newSecret();
      await this.store.setPending(em, user.userId, this.ctx.secrets.seal(secret), new Date(now));
    }
    const { issuer } = this.ctx.settings.get();
    return { secret, ...(await provisioning(secret, issuer, user.email)), issuer, account: user.email };
  }

  /** Confirms a pending enrolment with a current code; makes it the active one. */
  async confirm(em: PluginEntityManager, enrolment: Enrolment | null, userId: string, answer: Answer, ip: string, o: { initialCodes: boolean }): Promise<CheckResult> {
    const wait = this.throttle.retryAfter(userId, ip);
    if (wait > 0) return fail('too-many-attempts', `Too many wrong codes; try again in ${wait} s`, wait);
    const now = this.now();
    if (enrolment?.secret) return fail('twofactor-enabled', 'Two-factor login is set up already');
    if (!enrolment?.pendingSecret || !enrolment.pendingAt || now - enrolment.pendingAt.getTime() >= PENDING_TTL_MS) {
      return fail('enrolment-expired', 'The set-up expired; start again to get a new QR code');
    }
    const code = normaliseCode(answer.code);
    const step = code ? await matchStep(this.ctx.secrets.open(enrolment.pendingSecret), code, null, now) : null;
    if (step === null) {
      this.throttle.fail(userId, ip);
      return fail('invalid-code', code ? 'The code is wrong or expired; check the time on your phone' : 'Enter the 6-digit code from your authenticator app');
    }
    const initialUntil = o.initialCodes ? new Date(now + INITIAL_CODES_TTL_MS) : null;
    if (!(await this.store.activate(em, userId, enrolment.pendingSecret, step, new Date(now), initialUntil))) {
      return fail('enrolment-expired', 'The set-up changed meanwhile; start again');
    }
    this.throttle.succeed(userId);
    return { ok: true, method: 'totp', step };
  }

  /** Ten new backup codes for the user (the old ones stop working); returned in clear once, stored as HMACs. */
  async issueBackupCodes(em: PluginEntityManager, userId: string): Promise<string[]> {
    const codes = newBackupCodes();
    const hashes = codes.map((c) => this.hashBackupCode(userId, normaliseBackupCode(c)!));
    await this.store.replaceBackupCodes(em, userId, hashes, new Date(this.now()));
    return codes;
  }
}
