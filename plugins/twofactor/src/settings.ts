/** The plugin's settings (manifest `mpanel.settings`), as `ctx.settings.get()` returns them. */
export interface TwofactorSettings {
  /** Role keys whose users must use two-factor login; they enrol at their next login. */
  requiredForRoles: string[];
  /** How long "trust this device" lasts; 0 turns the option off (and ignores devices trusted before). */
  trustedDeviceDays: number;
  /** Name authenticator apps show next to the account. */
  issuer: string;
}

/** Whether a user with these role keys must use two-factor login. */
export function requiredFor(settings: TwofactorSettings, roles: readonly string[]): boolean {
  return settings.requiredForRoles.some((r) => roles.includes(r));
}
