/**
 * Login throttling per account and per IP. Failures inside a window count up;
 * past the limit the key is locked for `lockSeconds`, doubling on each repeat
 * up to 16×, and every lock expires — so an attacker can slow a victim's
 * logins but never lock the account for good. A successful login clears the
 * account counter for that IP's future attempts.
 *
 * State is per process (a known limit for multi-node setups, noted in docs).
 */
export interface ThrottleOptions {
  maxPerAccount: number;
  maxPerIp: number;
  lockSeconds: number;
  now?: () => number;
}

interface Counter {
  failures: number;
  windowStart: number;
  lockedUntil: number;
  lockCount: number;
}

export interface ThrottleVerdict {
  allowed: boolean;
  retryAfterSeconds: number;
  scope?: 'account' | 'ip';
}

const MAX_KEYS = 100_000;

export class LoginThrottle {
  private readonly accounts = new Map<string, Counter>();
  private readonly ips = new Map<string, Counter>();
  private readonly now: () => number;

  constructor(private readonly options: ThrottleOptions) {
    this.now = options.now ?? Date.now;
  }

  check(account: string, ip: string): ThrottleVerdict {
    const t = this.now();
    for (const [scope, map, key] of [['account', this.accounts, account.toLowerCase()], ['ip', this.ips, ip]] as const) {
      const c = map.get(key);
      if (c && c.lockedUntil > t) return { allowed: false, retryAfterSeconds: Math.ceil((c.lockedUntil - t) / 1000), scope };
    }
    return { allowed: true, retryAfterSeconds: 0 };
  }

  /** Records a failure; returns true if this failure started a lock. */
  fail(account: string, ip: string): boolean {
    const a = this.bump(this.accounts, account.toLowerCase(), this.options.maxPerAccount);
    const i = this.bump(this.ips, ip, this.options.maxPerIp);
    return a || i;
  }

  succeed(account: string): void {
    this.accounts.delete(account.toLowerCase());
  }

  private bump(map: Map<string, Counter>, key: string, max: number): boolean {
    const t = this.now();
    const windowMs = this.options.lockSeconds * 1000;
    let c = map.get(key);
    if (!c) {
      if (map.size >= MAX_KEYS) this.prune(map, t);
      c = { failures: 0, windowStart: t, lockedUntil: 0, lockCount: 0 };
      map.set(key, c);
    }
    if (t - c.windowStart > windowMs && c.lockedUntil <= t) {
      c.failures = 0;
      c.windowStart = t;
      // Forget earlier locks after a quiet period, so backoff does not grow forever.
      if (t - c.lockedUntil > windowMs * 16) c.lockCount = 0;
    }
    c.failures++;
    if (c.failures >= max) {
      c.lockCount = Math.min(c.lockCount + 1, 5);
      c.lockedUntil = t + windowMs * 2 ** (c.lockCount - 1);
      c.failures = 0;
      c.windowStart = t;
      return true;
    }
    return false;
  }

  /**
   * Keeps the table bounded without letting a flood of junk keys wipe the
   * counters that matter: forget idle keys first, then keys with a single
   * failure, then the oldest unlocked ones, and only as a last resort locks.
   */
  private prune(map: Map<string, Counter>, t: number): void {
    const windowMs = this.options.lockSeconds * 1000;
    const target = Math.floor(MAX_KEYS * 0.9);
    const passes: Array<(c: Counter) => boolean> = [
      (c) => c.lockedUntil <= t && t - c.windowStart > windowMs,
      (c) => c.lockedUntil <= t && c.failures <= 1,
      (c) => c.lockedUntil <= t,
      () => true,
    ];
    for (const evictable of passes) {
      if (map.size < target) return;
      for (const [k, c] of map) {
        if (map.size < target) return;
        if (evictable(c)) map.delete(k);
      }
    }
  }
}
