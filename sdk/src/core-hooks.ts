/**
 * Hooks that core declares, by name, with the values their taps receive.
 * Tap them with `ctx.hooks.tap(CORE_HOOKS.loginAfterPassword, fn)`.
 */

/** The user a login is about, as hooks see it. */
export interface LoginSubject {
  userId: string;
  email: string;
  name: string;
  tenantId: string;
  tenantPath: string;
  /** Keys of the roles the user holds (built-in and custom), for per-role policies. */
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

/** Passed through `auth.login.afterPassword`; taps push to `requiredFactors` and return the state. */
export interface LoginState {
  subject: LoginSubject;
  ip: string;
  userAgent: string | null;
  /** Factors still required before a session is issued. */
  requiredFactors: FactorRequirement[];
  /** Cookies the browser sent (e.g. a plugin's signed "trusted device" cookie). */
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

/** A tap's verdict on a factor answer; return `undefined` for factors that are not yours. */
export interface FactorVerdict {
  ok: boolean;
  /** Shown to the user when `ok` is false. */
  reason?: string;
  /** Cookies to set on success (e.g. "trust this device"). */
  setCookies?: Array<{ name: string; value: string; maxAgeSeconds: number }>;
}

/** Names of the hooks core declares. */
export const CORE_HOOKS = {
  /** AsyncSeriesWaterfall<LoginState>: after the password was verified; push to `requiredFactors` to demand a factor. */
  loginAfterPassword: 'auth.login.afterPassword',
  /** AsyncSeriesBail<FactorAttempt, FactorVerdict | undefined>: the first tap that returns a verdict wins. */
  loginVerifyFactor: 'auth.login.verifyFactor',
  /** AsyncSeries<LoginState>: right before a session is issued; throw a ProblemError to refuse. */
  loginBeforeSession: 'auth.login.beforeSession',
  /** AsyncParallel<LoginSubject & { sessionId }>: after a session was issued. */
  loginSucceeded: 'auth.login.succeeded',
} as const;
