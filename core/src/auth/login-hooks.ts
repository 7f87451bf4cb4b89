import { AsyncSeriesWaterfallHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncParallelHook } from 'tapable';
import type { HookRegistry } from '../hooks/registry.js';

/** The user a login is about, as hooks see it. */
export interface LoginSubject {
  userId: string;
  email: string;
  name: string;
  tenantId: string;
  tenantPath: string;
  /** Built-in and custom role keys the user holds (for per-role policies). */
  roles: string[];
}

/** A second factor a plugin demands, e.g. `{ factor: 'totp', label: 'Authenticator app' }`. */
export interface FactorRequirement {
  /** Identifier the client sends back in `POST /api/v1/auth/login/factor`. */
  factor: string;
  label: string;
  /** Free-form hints for the UI (e.g. `{ enrolment: true }` when the user must enrol first). */
  hints?: Record<string, unknown>;
}

/** Passed through `auth.login.afterPassword`; taps push to `requiredFactors`. */
export interface LoginState {
  subject: LoginSubject;
  ip: string;
  userAgent: string | null;
  /** Factors still required before a session is issued. */
  requiredFactors: FactorRequirement[];
  /** Set by a client-presented, plugin-verified value (e.g. a trusted-device cookie) — taps may read request cookies. */
  cookies: Record<string, string>;
}

/** One answer to a factor challenge. */
export interface FactorAttempt {
  subject: LoginSubject;
  factor: string;
  /** What the user typed or the client produced, opaque to core. */
  response: Record<string, unknown>;
  ip: string;
  userAgent: string | null;
}

/** A tap's verdict; `undefined` means "not my factor". */
export interface FactorVerdict {
  ok: boolean;
  /** Shown to the user when `ok` is false. */
  reason?: string;
  /** Cookies the plugin wants set on success (e.g. "trust this device"). */
  setCookies?: Array<{ name: string; value: string; maxAgeSeconds: number }>;
}

/** The login hooks core declares. Names are the public contract plugins tap. */
export const LOGIN_HOOKS = {
  /** After the password was verified; taps may add required factors. */
  afterPassword: 'auth.login.afterPassword',
  /** Verifies one factor answer; the first tap that returns a verdict wins. */
  verifyFactor: 'auth.login.verifyFactor',
  /** Right before a session is issued; a tap may throw a ProblemError to refuse the login. */
  beforeSession: 'auth.login.beforeSession',
  /** After a session was issued (observers: notifications, last-login bookkeeping). */
  succeeded: 'auth.login.succeeded',
} as const;

export interface LoginHooks {
  afterPassword: AsyncSeriesWaterfallHook<[LoginState]>;
  verifyFactor: AsyncSeriesBailHook<[FactorAttempt], FactorVerdict | undefined>;
  beforeSession: AsyncSeriesHook<[LoginState]>;
  succeeded: AsyncParallelHook<[LoginSubject & { sessionId: string }]>;
}

export function defineLoginHooks(hooks: HookRegistry): LoginHooks {
  return {
    afterPassword: hooks.define(LOGIN_HOOKS.afterPassword, new AsyncSeriesWaterfallHook<[LoginState]>(['state']), {
      description: 'After the password is verified; push to state.requiredFactors to demand a second factor',
    }),
    verifyFactor: hooks.define(LOGIN_HOOKS.verifyFactor, new AsyncSeriesBailHook<[FactorAttempt], FactorVerdict | undefined>(['attempt']), {
      description: 'Checks a second-factor answer; return a verdict for your factor, undefined otherwise',
    }),
    beforeSession: hooks.define(LOGIN_HOOKS.beforeSession, new AsyncSeriesHook<[LoginState]>(['state']), {
      description: 'Right before the session is issued; throw a ProblemError to refuse',
    }),
    succeeded: hooks.define(LOGIN_HOOKS.succeeded, new AsyncParallelHook<[LoginSubject & { sessionId: string }]>(['login']), {
      description: 'After a session was issued',
    }),
  };
}
