import { AsyncSeriesWaterfallHook, AsyncSeriesBailHook, AsyncSeriesHook, AsyncParallelHook } from 'tapable';
import type { HookRegistry } from '../hooks/registry.js';

// The hook payload types are part of the plugin contract, so they live in the SDK.
import type { LoginState, LoginSubject, FactorAttempt, FactorVerdict } from '@mpanel/sdk';
import { CORE_HOOKS } from '@mpanel/sdk';
export type { LoginState, LoginSubject, FactorAttempt, FactorVerdict, FactorRequirement } from '@mpanel/sdk';

/** The login hooks core declares. Names are the public contract plugins tap. */
export const LOGIN_HOOKS = {
  /** After the password was verified; taps may add required factors. */
  afterPassword: CORE_HOOKS.loginAfterPassword,
  /** Verifies one factor answer; the first tap that returns a verdict wins. */
  verifyFactor: CORE_HOOKS.loginVerifyFactor,
  /** Right before a session is issued; a tap may throw a ProblemError to refuse the login. */
  beforeSession: CORE_HOOKS.loginBeforeSession,
  /** After a session was issued (observers: notifications, last-login bookkeeping). */
  succeeded: CORE_HOOKS.loginSucceeded,
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
