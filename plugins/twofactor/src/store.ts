import { randomUUID } from 'node:crypto';
import type { PluginEntityManager } from '@mpanel/sdk';

/** One user's row: an active enrolment (`secret` + `enabledAt`), a pending one, or both. */
export interface Enrolment {
  userId: string;
  /** Sealed seed of the active enrolment. */
  secret: string | null;
  enabledAt: Date | null;
  /** RFC 6238 step of the last accepted code: codes of this step or earlier are refused. */
  lastStep: number | null;
  lastUsedAt: Date | null;
  /** Sealed seed shown to the user but not confirmed yet. */
  pendingSecret: string | null;
  pendingAt: Date | null;
  /** Until then the first backup codes after an enrolment at login may be fetched without a code. */
  initialCodesUntil: Date | null;
}

export interface BackupCodeSummary {
  remaining: number;
  createdAt: Date | null;
}

export interface TrustedDevice {
  id: string;
  createdAt: Date;
  expiresAt: Date;
  lastUsedAt: Date | null;
  userAgent: string | null;
  ip: string | null;
}

const date = (v: unknown): Date | null => (v === null || v === undefined ? null : new Date(v as string));

/**
 * SQL over the plugin's tables. Every function takes the EntityManager to run
 * on: a route's (its transaction) or `ctx.db.em()` in login hooks. The
 * conditional updates are what make codes single-use under concurrency.
 */
export class TwofactorStore {
  private readonly t: { enrolment: string; backupCode: string; device: string };

  constructor(schema: string) {
    this.t = { enrolment: `${schema}.enrolment`, backupCode: `${schema}.backup_code`, device: `${schema}.trusted_device` };
  }

  async get(em: PluginEntityManager, userId: string): Promise<Enrolment | null> {
    const rows = await em.execute<Array<Record<string, unknown>>>(`select * from ${this.t.enrolment} where user_id = ?`, [userId]);
    const r = rows[0];
    if (!r) return null;
    return {
      userId: r.user_id as string,
      secret: (r.secret as string) ?? null,
      enabledAt: date(r.enabled_at),
      lastStep: r.last_step === null ? null : Number(r.last_step),
      lastUsedAt: date(r.last_used_at),
      pendingSecret: (r.pending_secret as string) ?? null,
      pendingAt: date(r.pending_at),
      initialCodesUntil: date(r.initial_codes_until),
    };
  }

  /** Stores a seed waiting for the user's first code (replacing an earlier pending one). */
  async setPending(em: PluginEntityManager, userId: string, sealedSecret: string, now: Date): Promise<void> {
    await em.execute(
      `insert into ${this.t.enrolment} (user_id, pending_secret, pending_at) values (?, ?, ?)
       on conflict (user_id) do update set pending_secret = excluded.pending_secret, pending_at = excluded.pending_at`,
      [userId, sealedSecret, now],
    );
  }

  /**
   * Turns the pending seed into the active one, if it is still the seed the
   * code was checked against and nothing is active yet. False when another
   * request won the race.
   */
  async activate(em: PluginEntityManager, userId: string, sealedSecret: string, step: number, now: Date, initialCodesUntil: Date | null): Promise<boolean> {
    const rows = await em.execute<unknown[]>(
      `update ${this.t.enrolment} set secret = pending_secret, enabled_at = ?, last_step = ?, last_used_at = ?,
         pending_secret = null, pending_at = null, initial_codes_until = ?
       where user_id = ? and secret is null and pending_secret = ? returning user_id`,
      [now, step, now, initialCodesUntil, userId, sealedSecret],
    );
    if (rows.length === 0) return false;
    await em.execute(`delete from ${this.t.backupCode} where user_id = ?`, [userId]);
    return true;
  }

  /** Records that a code of `step` was used; false if that step (or a later one) was used already — a replay. */
  async useStep(em: PluginEntityManager, userId: string, step: number, now: Date): Promise<boolean> {
    const rows = await em.execute<unknown[]>(
      `update ${this.t.enrolment} set last_step = ?, last_used_at = ?
       where user_id = ? and secret is not null and (last_step is null or last_step < ?) returning user_id`,
      [step, now, userId, step],
    );
    return rows.length > 0;
  }

  /** Spends a backup code (by its hash); false if there is no such unused code. */
  async useBackupCode(em: PluginEntityManager, userId: string, codeHash: string, now: Date): Promise<boolean> {
    const rows = await em.execute<unknown[]>(
      `update ${this.t.backupCode} set used_at = ? where user_id = ? and code_hash = ? and used_at is null returning user_id`,
      [now, userId, codeHash],
    );
    if (rows.length === 0) return false;
    await em.execute(`update ${this.t.enrolment} set last_used_at = ? where user_id = ?`, [now, userId]);
    return true;
  }

  /** Replaces every backup code of the user (old ones stop working) and closes the first-codes window. */
  async replaceBackupCodes(em: PluginEntityManager, userId: string, codeHashes: string[], now: Date): Promise<void> {
    await em.execute(`delete from ${this.t.backupCode} where user_id = ?`, [userId]);
    for (const hash of codeHashes) {
      await em.execute(`insert into ${this.t.backupCode} (user_id, code_hash, created_at) values (?, ?, ?)`, [userId, hash, now]);
    }
    await em.execute(`update ${this.t.enrolment} set initial_codes_until = null where user_id = ?`, [userId]);
  }

  /**
   * Closes the window for the first backup codes; true if it was open (and
   * this caller may hand out the codes), false if it had closed or another
   * request took it.
   */
  async takeInitialCodesWindow(em: PluginEntityManager, userId: string, now: Date): Promise<boolean> {
    const rows = await em.execute<unknown[]>(
      `update ${this.t.enrolment} set initial_codes_until = null
       where user_id = ? and secret is not null and initial_codes_until > ? returning user_id`,
      [userId, now],
    );
    return rows.length > 0;
  }

  async backupCodes(em: PluginEntityManager, userId: string): Promise<BackupCodeSummary> {
    const rows = await em.execute<Array<{ remaining: string | number; created_at: unknown }>>(
      `select count(*) filter (where used_at is null) as remaining, max(created_at) as created_at from ${this.t.backupCode} where user_id = ?`,
      [userId],
    );
    return { remaining: Number(rows[0]?.remaining ?? 0), createdAt: date(rows[0]?.created_at) };
  }

  /** Removes the user's second factor entirely: seed, backup codes and trusted devices. True if there was one. */
  async remove(em: PluginEntityManager, userId: string): Promise<boolean> {
    // A pending enrolment alone is dropped too, but does not count as "had two-factor login".
    const rows = await em.execute<Array<{ enrolled: boolean }>>(`delete from ${this.t.enrolment} where user_id = ? returning secret is not null as enrolled`, [userId]);
    return rows[0]?.enrolled === true;
  }

  async countEnrolled(em: PluginEntityManager): Promise<number> {
    const rows = await em.execute<Array<{ n: string | number }>>(`select count(*) as n from ${this.t.enrolment} where secret is not null`);
    return Number(rows[0]?.n ?? 0);
  }

  async addDevice(em: PluginEntityManager, userId: string, o: { now: Date; expiresAt: Date; userAgent: string | null; ip: string }): Promise<string> {
    const id = randomUUID();
    await em.execute(
      `insert into ${this.t.device} (id, user_id, created_at, expires_at, user_agent, ip) values (?, ?, ?, ?, ?, ?)`,
      [id, userId, o.now, o.expiresAt, o.userAgent?.slice(0, 300) ?? null, o.ip],
    );
    return id;
  }

  /**
   * Marks a trusted device used if it belongs to the user, has not expired and
   * is younger than `maxAgeDays` (the current setting); false otherwise.
   */
  async touchDevice(em: PluginEntityManager, userId: string, deviceId: string, now: Date, maxAgeDays: number): Promise<boolean> {
    const rows = await em.execute<unknown[]>(
      `update ${this.t.device} set last_used_at = ?
       where id = ? and user_id = ? and expires_at > ? and created_at > ? returning id`,
      [now, deviceId, userId, now, new Date(now.getTime() - maxAgeDays * 86_400_000)],
    );
    return rows.length > 0;
  }

  async devices(em: PluginEntityManager, userId: string, now: Date): Promise<TrustedDevice[]> {
    const rows = await em.execute<Array<Record<string, unknown>>>(
      `select * from ${this.t.device} where user_id = ? and expires_at > ? order by created_at desc`,
      [userId, now],
    );
    return rows.map((r) => ({
      id: r.id as string, createdAt: date(r.created_at)!, expiresAt: date(r.expires_at)!, lastUsedAt: date(r.last_used_at),
      userAgent: (r.user_agent as string) ?? null, ip: (r.ip as string) ?? null,
    }));
  }

  /** Forgets one trusted device (or all of the user's with `deviceId` null); returns how many. */
  async revokeDevices(em: PluginEntityManager, userId: string, deviceId: string | null): Promise<number> {
    const rows = await em.execute<unknown[]>(
      deviceId
        ? `delete from ${this.t.device} where user_id = ? and id = ? returning id`
        : `delete from ${this.t.device} where user_id = ? returning id`,
      deviceId ? [userId, deviceId] : [userId],
    );
    return rows.length;
  }
}
