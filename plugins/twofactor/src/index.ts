import { definePlugin, type PluginContext } from '@mpanel/sdk';
import { migrations } from './migrations/index.js';
import type { TwofactorSettings } from './settings.js';
import { TwofactorStore } from './store.js';
import { CodeThrottle } from './throttle.js';
import { SecondFactor } from './second-factor.js';
import { TrustedDevices } from './trusted-devices.js';
import { tapLoginHooks } from './login-flow.js';
import { registerAccountRoutes } from './routes/account.js';
import { registerAdminRoutes } from './routes/admin.js';

/** The running instance's context, for teardown's audit entry. */
let running: { ctx: PluginContext<TwofactorSettings>; store: TwofactorStore } | null = null;

export default definePlugin<TwofactorSettings>({
  migrations,
  setup(ctx) {
    const store = new TwofactorStore(ctx.db.schema);
    // Five wrong codes per user (twenty per IP) in a minute lock further tries for a minute, doubling on repeat.
    const throttle = new CodeThrottle({ maxPerUser: 5, maxPerIp: 20, windowMs: 60_000 });
    const factors = new SecondFactor(ctx, store, throttle);
    const devices = new TrustedDevices(ctx, store);
    tapLoginHooks(ctx, store, factors, devices);
    registerAccountRoutes(ctx, store, factors);
    registerAdminRoutes(ctx, store);
    running = { ctx, store };
  },

  /** Stopped by an admin: from now on everyone logs in with the password alone. Say so in the audit trail. */
  async teardown({ reason }) {
    const r = running;
    running = null;
    if (!r || (reason !== 'disable' && reason !== 'uninstall')) return;
    const enrolledUsers = await r.store.countEnrolled(r.ctx.db.em()).catch(() => null);
    await r.ctx.audit.write({
      action: 'twofactor.login.password-only',
      details: {
        reason,
        enrolledUsers,
        message: `Two-factor login is off (plugin ${reason === 'disable' ? 'disabled' : 'uninstalled'}): every user logs in with the password alone until it is enabled again.`,
      },
    });
  },
});
