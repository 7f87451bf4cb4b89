/**
 * Wrong second-factor codes per user and per IP, for every place that checks
 * a code (login, disable, new backup codes, enrolment). Past the limit inside
 * the window the key is locked; each further lock lasts twice as long, up to
 * 16 windows, and every lock expires. Per process, like core's login throttle.
 */
export interface ThrottleOptions {
  maxPerUser: number;
  maxPerIp: number;
  windowMs: number;
  now?: () => number;
}

interface Counter {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  locks: number;
}

const MAX_KEYS = 50_000;

export class CodeThrottle {
  private readonly users = new Map<string, Counter>();
  private readonly ips = new Map<string, Counter>();
  private readonly now: () => number;

  constructor(private readonly options: ThrottleOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Seconds until the user or the IP may try again (0: now). */
  retryAfter(userId: string, ip: string): number {
    const t = this.now();
    const until = Math.max(this.users.get(userId)?.lockedUntil ?? 0, this.ips.get(ip)?.lockedUntil ?? 0);
    return until > t ? Math.ceil((until - t) / 1000) : 0;
  }

  fail(userId: string, ip: string): void {
    this.bump(this.users, userId, this.options.maxPerUser);
    this.bump(this.ips, ip, this.options.maxPerIp);
  }

  /** A right code clears the user's count (not the IP's: one good account must not launder many bad tries). */
  succeed(userId: string): void {
    this.users.delete(userId);
  }

  private bump(map: Map<string, Counter>, key: string, max: number): void {
    const t = this.now();
    let c = map.get(key);
    if (!c) {
      if (map.size >= MAX_KEYS) {
        for (const [k, v] of map) if (v.lockedUntil <= t) map.delete(k);
      }
      c = { failures: 0, windowStart: t, lockedUntil: 0, locks: 0 };
      map.set(key, c);
    }
    if (t - c.windowStart > this.options.windowMs && c.lockedUntil <= t) {
      c.failures = 0;
      c.windowStart = t;
      if (t - c.lockedUntil > this.options.windowMs * 16) c.locks = 0;
    }
    if (++c.failures >= max) {
      c.locks = Math.min(c.locks + 1, 5);
      c.lockedUntil = t + this.options.windowMs * 2 ** (c.locks - 1);
      c.failures = 0;
      c.windowStart = t;
    }
  }
}
