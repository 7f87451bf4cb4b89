import { ProblemError, type PluginRequest } from '@mpanel/sdk';
import type { CheckResult } from '../second-factor.js';

const STATUS: Record<string, number> = {
  'invalid-code': 422,
  'code-replayed': 422,
  'too-many-attempts': 429,
  'not-enrolled': 409,
  'enrolment-expired': 409,
  'twofactor-enabled': 409,
};

/** Turns a failed check into the route's problem answer (and its audit entry's reason). */
export function assertOk(req: PluginRequest<any, any, any>, result: CheckResult): asserts result is Extract<CheckResult, { ok: true }> {
  if (result.ok) return;
  req.audit.details = { ...(req.audit.details ?? {}), reason: result.code };
  throw new ProblemError(result.code, result.message, {
    status: STATUS[result.code] ?? 422,
    extensions: result.retryAfter ? { retryAfter: result.retryAfter } : {},
  });
}

/** Two-factor settings belong to people in a browser session, not to API tokens. */
export function assertSessionUser(req: PluginRequest<any, any, any>): string {
  if (req.actor.type !== 'user' || !req.actor.userId) {
    throw new ProblemError('forbidden', 'Two-factor login is managed from a logged-in session, not with an API token', { status: 403 });
  }
  return req.actor.userId;
}
