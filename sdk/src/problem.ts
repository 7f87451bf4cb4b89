/**
 * Brand shared by every problem error, whichever copy of the SDK or core
 * created it, so the panel recognises errors thrown by plugins.
 */
export const PROBLEM_BRAND: unique symbol = Symbol.for('mpanel.problem') as never;

/** Options of a plugin-thrown problem. */
export interface ProblemOptions {
  /** HTTP status (4xx for the caller's mistakes). Defaults to the core catalogue's status for core codes, else 400. */
  status?: number;
  /** Short, stable summary of the problem type. */
  title?: string;
  /** Extra members of the problem document (RFC 9457 extensions). */
  extensions?: Record<string, unknown>;
}

/**
 * Throw this from a route handler, hook tap or setup to answer with an
 * RFC 9457 `application/problem+json` error. `code` is stable and
 * machine-readable (`not-found`, `quota-exceeded`, or your own such as
 * `greeting-too-long`); `detail` tells the user what is wrong.
 *
 * @example throw new ProblemError('not-found', `No greeting ${id}`, { status: 404 });
 */
export class ProblemError extends Error {
  readonly [PROBLEM_BRAND] = true;
  readonly code: string;
  readonly status?: number;
  readonly title?: string;
  readonly extensions: Record<string, unknown>;

  constructor(code: string, detail: string, options: ProblemOptions = {}) {
    super(detail);
    this.name = 'ProblemError';
    this.code = code;
    this.status = options.status;
    this.title = options.title;
    this.extensions = options.extensions ?? {};
  }
}

/** True for any problem error, including ones from another copy of the SDK or from core. */
export function isProblemError(err: unknown): err is ProblemError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[PROBLEM_BRAND] === true;
}
