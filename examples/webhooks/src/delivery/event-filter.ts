/** An event as the dispatcher matches it against endpoints. */
export interface RoutableEvent {
  type: string;
  tenantPath: string | null;
}

/** What of an endpoint decides whether it receives an event. */
export interface EventTarget {
  tenantPath: string;
  events: readonly string[];
}

/** `*`, a dotted type (`user.created`) or a dotted prefix ending in `.*` (`tenant.*`). */
export const EVENT_PATTERN = '^(\\*|[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*(\\.\\*)?)$';

/** Same rule as the panel's event bus: `*`, `prefix.*` or an exact type. */
export function patternMatches(pattern: string, type: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('.*')) return type.startsWith(pattern.slice(0, -1));
  return pattern === type;
}

/** The platform root's path has one segment: `/<root id>/`. */
export function isRootPath(tenantPath: string): boolean {
  return /^\/[^/]+\/$/.test(tenantPath);
}

/**
 * An endpoint receives an event when one of its patterns matches the type and
 * the event's tenant lies in the endpoint's tenant subtree (path prefix). Events
 * that concern no tenant (e.g. `plugin.enabled`) go only to endpoints of the
 * platform root.
 */
export function endpointReceives(endpoint: EventTarget, event: RoutableEvent): boolean {
  if (!endpoint.events.some((p) => patternMatches(p, event.type))) return false;
  if (event.tenantPath) return event.tenantPath.startsWith(endpoint.tenantPath);
  return isRootPath(endpoint.tenantPath);
}
