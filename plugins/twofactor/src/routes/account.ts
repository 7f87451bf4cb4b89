import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { requiredFor, type TwofactorSettings } from '../settings.js';
import type { TwofactorStore } from '../store.js';
import type { SecondFactor } from '../second-factor.js';
import { backupCodesText } from '../backup-codes.js';
import { TOTP } from '../totp.js';
import { assertOk, assertSessionUser } from './problems.js';

const answerSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { code: { type: 'string', minLength: 1, maxLength: 20 }, backupCode: { type: 'string', minLength: 1, maxLength: 40 } },
};
const oneAnswer = { ...answerSchema, oneOf: [{ required: ['code'] }, { required: ['backupCode'] }] };
const codesResponse = {
  type: 'object',
  required: ['backupCodes', 'text'],
  properties: { backupCodes: { type: 'array', items: { type: 'string' } }, text: { type: 'string' }, enabledAt: { type: 'string' } },
};
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The user's own two-factor settings: status, enrolment, disable, backup codes, trusted devices. */
export function registerAccountRoutes(ctx: PluginContext<TwofactorSettings>, store: TwofactorStore, factors: SecondFactor, now: () => number = Date.now): void {
  const isRequired = async (userId: string) => requiredFor(ctx.settings.get(), (await ctx.users.get(userId))?.roles ?? []);
  const codesFile = (codes: string[], email: string | undefined) => backupCodesText(codes, email ?? '', ctx.settings.get().issuer);

  ctx.routes.add({
    method: 'GET',
    path: '/status',
    summary: 'Your two-factor login: whether it is on, when it was last used, backup codes left, trusted devices, whether your role requires it.',
    permission: 'account.self',
    handler: async (req) => {
      const userId = assertSessionUser(req);
      const e = await store.get(req.em, userId);
      const codes = await store.backupCodes(req.em, userId);
      const enabled = !!e?.secret;
      return {
        enabled,
        enabledAt: iso(e?.enabledAt ?? null),
        lastUsedAt: enabled ? iso(e!.lastUsedAt) : null,
        required: await isRequired(userId),
        backupCodes: {
          remaining: codes.remaining,
          createdAt: iso(codes.createdAt),
          // After an enrolment at login: the first codes are waiting to be shown.
          initialPending: enabled && !!e!.initialCodesUntil && e!.initialCodesUntil.getTime() > now(),
        },
        trustedDeviceDays: ctx.settings.get().trustedDeviceDays,
        trustedDevices: enabled
          ? (await store.devices(req.em, userId, new Date(now()))).map((d) => ({
              id: d.id, createdAt: d.createdAt.toISOString(), expiresAt: d.expiresAt.toISOString(), lastUsedAt: iso(d.lastUsedAt), userAgent: d.userAgent, ip: d.ip,
            }))
          : [],
      };
    },
  });

  ctx.routes.add({
    method: 'POST',
    path: '/enrolment',
    summary: 'Start setting up two-factor login: a new secret as otpauth:// URI and QR code, to confirm with a code.',
    permission: 'account.self',
    audit: 'twofactor.enrol.start',
    status: 201,
    schema: {
      response: {
        type: 'object',
        required: ['secret', 'otpauthUri', 'qrDataUrl', 'digits', 'period'],
        properties: { secret: { type: 'string' }, otpauthUri: { type: 'string' }, qrDataUrl: { type: 'string' }, issuer: { type: 'string' }, account: { type: 'string' }, digits: { type: 'integer' }, period: { type: 'integer' } },
      },
    },
    handler: async (req) => {
      const userId = assertSessionUser(req);
      req.audit.target = `user:${userId}`;
      const e = await store.get(req.em, userId);
      if (e?.secret) throw new ProblemError('twofactor-enabled', 'Two-factor login is on already; turn it off first to set up another app', { status: 409 });
      const p = await factors.pendingSecret(req.em, { userId, email: req.actor.email ?? req.actor.label }, e, false);
      return { secret: p.secret, otpauthUri: p.otpauthUri, qrDataUrl: p.qrDataUrl, issuer: p.issuer, account: p.account, digits: TOTP.digits, period: TOTP.period };
    },
  });

  ctx.routes.add<{}, {}, { code: string }>({
    method: 'POST',
    path: '/enrolment/confirm',
    summary: 'Finish setting up two-factor login with a current code; answers the 10 backup codes, once.',
    permission: 'account.self',
    audit: 'twofactor.enrol',
    schema: { body: { ...answerSchema, required: ['code'] }, response: codesResponse },
    handler: async (req) => {
      const userId = assertSessionUser(req);
      req.audit.target = `user:${userId}`;
      req.audit.details = { during: 'account' };
      const result = await factors.confirm(req.em, await store.get(req.em, userId), userId, req.body, req.ip, { initialCodes: false });
      assertOk(req, result);
      const backupCodes = await factors.issueBackupCodes(req.em, userId);
      return { enabledAt: new Date(now()).toISOString(), backupCodes, text: codesFile(backupCodes, req.actor.email) };
    },
  });

  ctx.routes.add<{}, {}, { code?: string; backupCode?: string }>({
    method: 'POST',
    path: '/disable',
    summary: 'Turn two-factor login off (needs a current code or a backup code); forgets backup codes and trusted devices.',
    permission: 'account.self',
    audit: 'twofactor.disable',
    schema: { body: oneAnswer },
    handler: async (req) => {
      const userId = assertSessionUser(req);
      req.audit.target = `user:${userId}`;
      if (await isRequired(userId)) {
        throw new ProblemError('twofactor-required', 'Your role requires two-factor login; it cannot be turned off (an admin can reset it)', { status: 409 });
      }
      assertOk(req, await factors.check(req.em, await store.get(req.em, userId), req.body, req.ip, { backupCodes: true }));
      await store.remove(req.em, userId);
      return undefined;
    },
  });

  ctx.routes.add<{}, {}, { code?: string; backupCode?: string }>({
    method: 'POST',
    path: '/backup-codes',
    summary: 'New backup codes (the old ones stop working); needs a current code, except right after an enrolment at login. Answered once.',
    permission: 'account.self',
    audit: 'twofactor.backup-codes.generate',
    schema: { body: answerSchema, response: codesResponse },
    handler: async (req) => {
      const userId = assertSessionUser(req);
      req.audit.target = `user:${userId}`;
      const e = await store.get(req.em, userId);
      if (!e?.secret) throw new ProblemError('not-enrolled', 'Two-factor login is not set up for this account', { status: 409 });
      const first = req.body.code === undefined && req.body.backupCode === undefined && (await store.takeInitialCodesWindow(req.em, userId, new Date(now())));
      if (!first) {
        if (req.body.code === undefined && req.body.backupCode === undefined) {
          throw new ProblemError('code-required', 'Enter a current code from your authenticator app to get new backup codes', { status: 422 });
        }
        assertOk(req, await factors.check(req.em, e, req.body, req.ip, { backupCodes: true }));
      }
      req.audit.details = { ...(req.audit.details ?? {}), first };
      const backupCodes = await factors.issueBackupCodes(req.em, userId);
      return { backupCodes, text: codesFile(backupCodes, req.actor.email) };
    },
  });

  const deviceParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } };
  ctx.routes.add<{ id: string }>({
    method: 'DELETE',
    path: '/trusted-devices/:id',
    summary: 'Stop trusting one of your devices: it asks for a code at the next login.',
    permission: 'account.self',
    audit: 'twofactor.trusted-device.revoke',
    schema: { params: deviceParams },
    handler: async (req) => {
      const userId = assertSessionUser(req);
      req.audit.target = `user:${userId}`;
      req.audit.details = { device: req.params.id };
      if ((await store.revokeDevices(req.em, userId, req.params.id)) === 0) throw new ProblemError('not-found', `No trusted device ${req.params.id}`, { status: 404 });
      return undefined;
    },
  });

  ctx.routes.add({
    method: 'DELETE',
    path: '/trusted-devices',
    summary: 'Stop trusting all of your devices.',
    permission: 'account.self',
    audit: 'twofactor.trusted-device.revoke',
    schema: { response: { type: 'object', required: ['revoked'], properties: { revoked: { type: 'integer' } } } },
    handler: async (req) => {
      const userId = assertSessionUser(req);
      req.audit.target = `user:${userId}`;
      const revoked = await store.revokeDevices(req.em, userId, null);
      req.audit.details = { device: 'all', revoked };
      return { revoked };
    },
  });
}
