import { ProblemError } from '../errors/problem.js';
import type { Authorization } from './authorization.js';
import { ALL_PERMISSIONS } from './permissions.js';

/**
 * Nobody hands out more than they hold: every permission in `permissions`
 * must be held by the actor on `tenantPath` (and `*` only by holders of `*`).
 */
export function assertGrantable(authz: Authorization, permissions: readonly string[], tenantPath: string, what: string): void {
  if (authz.hasOn(ALL_PERMISSIONS, tenantPath)) return;
  const missing = permissions.filter((p) => p === ALL_PERMISSIONS || !authz.hasOn(p, tenantPath));
  if (missing.length > 0) {
    throw new ProblemError('forbidden', `You cannot grant ${what} with permissions you do not hold: ${missing.join(', ')}`, { missing });
  }
}
