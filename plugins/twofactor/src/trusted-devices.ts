import { timingSafeEqual } from 'node:crypto';
import type { PluginContext, PluginEntityManager } from '@mpanel/sdk';
import type { TwofactorSettings } from './settings.js';
import type { TwofactorStore } from './store.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * "Trust this device for N days": an httpOnly cookie `<device id>.<signature>`
 * signed with the plugin's HMAC key and bound to the user, plus a row per
 * device so that it can be revoked (by the user, by disabling two-factor
 * login, by an admin's reset) before it expires. The cookie name is per user,
 * so several accounts can trust the same browser.
 */
export class TrustedDevices {
  constructor(
    private readonly ctx: PluginContext<TwofactorSettings>,
    private readonly store: TwofactorStore,
    private readonly now: () => number = Date.now,
  ) {}

  cookieName(userId: string): string {
    return `mpanel_2fa_${this.ctx.secrets.hmac(`trust-cookie:${userId}`).slice(0, 16)}`;
  }

  private signature(userId: string, deviceId: string): string {
    return this.ctx.secrets.hmac(`trust:${userId}:${deviceId}`);
  }

  /** Remembers this browser for the configured days; null when the setting turns the option off. */
  async trust(em: PluginEntityManager, userId: string, ip: string, userAgent: string | null) {
    const days = this.ctx.settings.get().trustedDeviceDays;
    if (days <= 0) return null;
    const now = this.now();
    const id = await this.store.addDevice(em, userId, { now: new Date(now), expiresAt: new Date(now + days * 86_400_000), userAgent, ip });
    return { name: this.cookieName(userId), value: `${id}.${this.signature(userId, id)}`, maxAgeSeconds: days * 86_400 };
  }

  /** The id of the trusted device the request's cookies prove, or null. */
  async recognise(em: PluginEntityManager, userId: string, cookies: Record<string, string>): Promise<string | null> {
    const days = this.ctx.settings.get().trustedDeviceDays;
    const raw = cookies[this.cookieName(userId)];
    if (days <= 0 || typeof raw !== 'string') return null;
    const [id, sig] = raw.split('.');
    if (!id || !sig || !UUID.test(id)) return null;
    const expected = Buffer.from(this.signature(userId, id));
    const given = Buffer.from(sig);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    return (await this.store.touchDevice(em, userId, id, new Date(this.now()), days)) ? id : null;
  }
}
