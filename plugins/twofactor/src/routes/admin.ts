import { ProblemError, type PluginContext, type PluginRequest, type UserInfo } from '@mpanel/sdk';
import { requiredFor, type TwofactorSettings } from '../settings.js';
import type { TwofactorStore } from '../store.js';

const params = { type: 'object', required: ['userId'], properties: { userId: { type: 'string', format: 'uuid' } } };

/** Admins' view of other users' two-factor login, limited to their tenant subtree. */
export function registerAdminRoutes(ctx: PluginContext<TwofactorSettings>, store: TwofactorStore, now: () => number = Date.now): void {
  /** The user, if the caller may reset it: inside the caller's subtree. Others are "not found", whether they exist or not. */
  const userInReach = async (req: PluginRequest<{ userId: string }>): Promise<UserInfo> => {
    const user = await ctx.users.get(req.params.userId);
    if (!user || !req.can('twofactor.reset', user.tenantPath)) throw new ProblemError('not-found', `No user ${req.params.userId}`, { status: 404 });
    return user;
  };

  ctx.routes.add<{ userId: string }>({
    method: 'GET',
    path: '/users/:userId',
    summary: "A user's two-factor login (inside your tenant subtree): on or off, since when, last used, backup codes left, whether their role requires it.",
    permission: 'twofactor.reset',
    schema: { params },
    handler: async (req) => {
      const user = await userInReach(req);
      const e = await store.get(req.em, user.id);
      const enabled = !!e?.secret;
      return {
        userId: user.id,
        email: user.email,
        enabled,
        enabledAt: enabled ? e!.enabledAt!.toISOString() : null,
        lastUsedAt: enabled && e!.lastUsedAt ? e!.lastUsedAt.toISOString() : null,
        backupCodesRemaining: enabled ? (await store.backupCodes(req.em, user.id)).remaining : 0,
        trustedDevices: enabled ? (await store.devices(req.em, user.id, new Date(now()))).length : 0,
        required: requiredFor(ctx.settings.get(), user.roles),
      };
    },
  });

  ctx.routes.add<{ userId: string }>({
    method: 'POST',
    path: '/users/:userId/reset',
    summary: "Reset a user's two-factor login (lost phone): removes the secret, backup codes and trusted devices. Under a role policy the user enrols again at the next login.",
    permission: 'twofactor.reset',
    audit: 'twofactor.reset',
    schema: { params },
    handler: async (req) => {
      const user = await userInReach(req);
      req.audit.target = `user:${user.id}`;
      req.audit.tenantId = user.tenantId;
      req.audit.tenantPath = user.tenantPath;
      const hadTwoFactor = await store.remove(req.em, user.id);
      req.audit.details = { hadTwoFactor, email: user.email };
      return { userId: user.id, reset: hadTwoFactor };
    },
  });
}
