import { CORE_HOOKS, type FactorAttempt, type FactorVerdict, type LoginState, type PluginContext } from '@mpanel/sdk';
import { requiredFor, type TwofactorSettings } from './settings.js';
import type { TwofactorStore } from './store.js';
import type { SecondFactor } from './second-factor.js';
import type { TrustedDevices } from './trusted-devices.js';
import { TOTP } from './totp.js';

/** A code from the authenticator app (or a backup code) for an enrolled user. */
export const FACTOR_TOTP = 'totp';
/** Enrolment during login, for a user whose role requires two-factor login but who has none yet. */
export const FACTOR_ENROL = 'totp-enrol';

/**
 * The plugin's part of the login, through core's hooks only:
 * - afterPassword: an enrolled user must answer `totp` (unless the browser is
 *   a trusted device); a user under a role policy without an enrolment must
 *   answer `totp-enrol`, whose hints carry a new seed as otpauth URI and QR code.
 * - verifyFactor: checks the answers, spends codes, enrols, sets the
 *   trusted-device cookie when asked to.
 */
export function tapLoginHooks(ctx: PluginContext<TwofactorSettings>, store: TwofactorStore, factors: SecondFactor, devices: TrustedDevices): void {
  ctx.hooks.tap(CORE_HOOKS.loginAfterPassword, async (state: LoginState): Promise<LoginState> => {
    const em = ctx.db.em();
    const settings = ctx.settings.get();
    const { subject } = state;
    const enrolment = await store.get(em, subject.userId);
    const trustDeviceDays = settings.trustedDeviceDays;
    if (enrolment?.secret) {
      const device = await devices.recognise(em, subject.userId, state.cookies);
      if (device) {
        await ctx.audit.write({
          action: 'twofactor.trusted-device.login', target: `user:${subject.userId}`, tenantId: subject.tenantId, tenantPath: subject.tenantPath,
          details: { device, ip: state.ip },
        });
        return state;
      }
      const { remaining } = await store.backupCodes(em, subject.userId);
      state.requiredFactors.push({
        factor: FACTOR_TOTP,
        label: 'Code from your authenticator app',
        hints: { digits: TOTP.digits, period: TOTP.period, backupCodes: remaining > 0, trustDeviceDays },
      });
    } else if (requiredFor(settings, subject.roles)) {
      const p = await factors.pendingSecret(em, subject, enrolment, true);
      state.requiredFactors.push({
        factor: FACTOR_ENROL,
        label: 'Set up two-factor login',
        hints: {
          enrolment: true,
          reason: 'Your role requires two-factor login: add this account to an authenticator app, then enter the code it shows.',
          secret: p.secret, otpauthUri: p.otpauthUri, qrDataUrl: p.qrDataUrl, issuer: p.issuer, account: p.account,
          digits: TOTP.digits, period: TOTP.period, trustDeviceDays,
        },
      });
    }
    return state;
  });

  ctx.hooks.tap(CORE_HOOKS.loginVerifyFactor, async (attempt: FactorAttempt): Promise<FactorVerdict | undefined> => {
    if (attempt.factor !== FACTOR_TOTP && attempt.factor !== FACTOR_ENROL) return undefined;
    const em = ctx.db.em();
    const { subject, response } = attempt;
    const enrolment = await store.get(em, subject.userId);
    const result = attempt.factor === FACTOR_TOTP
      ? await factors.check(em, enrolment, response, attempt.ip, { backupCodes: true })
      : await factors.confirm(em, enrolment, subject.userId, response, attempt.ip, { initialCodes: true });
    const where = { target: `user:${subject.userId}`, tenantId: subject.tenantId, tenantPath: subject.tenantPath };
    if (!result.ok) {
      await ctx.audit.write({
        action: 'twofactor.code.failed', outcome: 'failure', ...where,
        details: { during: 'login', factor: attempt.factor, kind: response.backupCode !== undefined ? 'backup-code' : 'totp', reason: result.code, ip: attempt.ip },
      });
      return { ok: false, reason: result.message };
    }
    if (attempt.factor === FACTOR_ENROL) {
      await ctx.audit.write({ action: 'twofactor.enrol', ...where, details: { during: 'login', requiredByRole: true } });
    } else if (result.method === 'backup-code') {
      const { remaining } = await store.backupCodes(em, subject.userId);
      await ctx.audit.write({ action: 'twofactor.backup-code.used', ...where, details: { during: 'login', remaining } });
    }
    if (response.trustDevice === true) {
      const cookie = await devices.trust(em, subject.userId, attempt.ip, attempt.userAgent);
      if (cookie) return { ok: true, setCookies: [cookie] };
    }
    return { ok: true };
  });
}
