/**
 * The one catalogue of problem types (RFC 9457). Every error mpanel returns
 * has a stable `code` from this list; its `type` URI is derived from the code,
 * so clients can switch on it. Plugins extend the catalogue through the same
 * `defineProblem` call core uses.
 */
export interface ProblemSpec {
  status: number;
  title: string;
}

const catalogue = new Map<string, ProblemSpec>();

/** URI of a problem type; a URN keeps it stable and independent of where a panel is hosted. */
export function problemTypeUri(code: string): string {
  return `urn:mpanel:problem:${code}`;
}

/** Adds a problem type. Re-defining a code with a different status is a programming error. */
export function defineProblem(code: string, spec: ProblemSpec): void {
  const existing = catalogue.get(code);
  if (existing && existing.status !== spec.status) {
    throw new Error(`problem "${code}" is already defined with status ${existing.status}`);
  }
  catalogue.set(code, spec);
}

export function getProblem(code: string): ProblemSpec | undefined {
  return catalogue.get(code);
}

export function listProblems(): Array<ProblemSpec & { code: string; type: string }> {
  return [...catalogue.entries()].map(([code, spec]) => ({ code, type: problemTypeUri(code), ...spec }));
}

const core: Record<string, ProblemSpec> = {
  'validation-failed': { status: 400, title: 'The request is not valid' },
  'malformed-body': { status: 400, title: 'The request body is not valid JSON' },
  'unsupported-media-type': { status: 415, title: 'Unsupported content type' },
  'body-too-large': { status: 413, title: 'The request body is too large' },
  'unauthenticated': { status: 401, title: 'Authentication required' },
  'invalid-credentials': { status: 401, title: 'E-mail or password is wrong' },
  'second-factor-required': { status: 401, title: 'A second factor is required' },
  'csrf-failed': { status: 403, title: 'CSRF token missing or wrong' },
  'forbidden': { status: 403, title: 'Permission denied' },
  'not-found': { status: 404, title: 'Not found' },
  'route-not-found': { status: 404, title: 'No such route' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'conflict': { status: 409, title: 'Conflict with the current state' },
  'setup-done': { status: 409, title: 'Setup has already been completed' },
  'setup-token-invalid': { status: 403, title: 'Setup token missing or wrong' },
  'token-invalid': { status: 400, title: 'The token is invalid or expired' },
  'too-many-attempts': { status: 429, title: 'Too many attempts; try again later' },
  'quota-exceeded': { status: 409, title: 'Quota exceeded' },
  'plugin-invalid': { status: 422, title: 'The plugin package is not valid' },
  'plugin-incompatible': { status: 409, title: 'The plugin does not fit this panel' },
  'plugin-dependency': { status: 409, title: 'A plugin dependency is missing or in use' },
  'consent-required': { status: 409, title: 'The admin has to approve what the plugin asks for' },
  'plugin-integrity': { status: 422, title: 'The downloaded package does not match its published integrity' },
  'plugin-setup-failed': { status: 422, title: 'The plugin failed to start' },
  'plugin-state': { status: 409, title: 'The plugin is not in a state that allows this' },
  'registry-unavailable': { status: 502, title: 'The plugin registry could not be reached' },
  'config-invalid': { status: 500, title: 'Invalid configuration' },
  'not-ready': { status: 503, title: 'Not ready' },
  'internal': { status: 500, title: 'Internal error' },
};
for (const [code, spec] of Object.entries(core)) defineProblem(code, spec);
