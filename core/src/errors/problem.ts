import { getProblem, problemTypeUri } from './catalogue.js';

/** Shared with the SDK (Symbol.for), so problems cross package copies. */
const PROBLEM_BRAND: unique symbol = Symbol.for('mpanel.problem') as never;

/** One field-level complaint inside a `validation-failed` problem. */
export interface ProblemFieldError {
  /** JSON pointer into the request part, e.g. `/body/email`. */
  pointer: string;
  message: string;
}

/** RFC 9457 problem document as sent on the wire. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  errors?: ProblemFieldError[];
  [extension: string]: unknown;
}

/**
 * The one error type of mpanel. Throw it anywhere in a request and the HTTP
 * layer renders it as `application/problem+json`; anything else that escapes
 * a handler becomes a 500 `internal` with the detail hidden.
 */
export class ProblemError extends Error {
  /** Same brand as the SDK's ProblemError, so plugin-thrown problems are recognised. */
  readonly [PROBLEM_BRAND] = true;
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly extensions: Record<string, unknown>;

  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}, spec = getProblem(code)) {
    super(detail);
    if (!spec) throw new Error(`unknown problem code "${code}" (define it with defineProblem)`);
    this.name = 'ProblemError';
    this.code = code;
    this.status = spec.status;
    this.title = spec.title;
    this.extensions = extensions;
  }

  toDocument(instance?: string): ProblemDocument {
    return {
      type: problemTypeUri(this.code),
      title: this.title,
      status: this.status,
      detail: this.message,
      code: this.code,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

export function isProblem(err: unknown): err is ProblemError {
  return err instanceof ProblemError;
}


interface ForeignProblem {
  code: string;
  message: string;
  status?: number;
  title?: string;
  extensions?: Record<string, unknown>;
}

/**
 * Converts a problem thrown by a plugin (the SDK's ProblemError, possibly
 * from another copy of the SDK) into core's. Core codes keep their catalogue
 * status; plugin codes may choose a 4xx status or 502/503/504 (a service
 * they depend on failed) — anything else becomes 400.
 */
export function fromForeignProblem(err: unknown): ProblemError | null {
  if (typeof err !== 'object' || err === null || (err as Record<symbol, unknown>)[PROBLEM_BRAND] !== true) return null;
  const f = err as ForeignProblem;
  if (typeof f.code !== 'string' || !/^[a-z][a-z0-9-]{0,63}$/.test(f.code)) return null;
  const known = getProblem(f.code);
  // Plugins may blame the caller (4xx) or a service they depend on (502/503/504); never a bare 500.
  const allowed = typeof f.status === 'number' && ((f.status >= 400 && f.status < 500) || f.status === 502 || f.status === 503 || f.status === 504);
  const status = known?.status ?? (allowed ? f.status! : 400);
  return new ProblemError(f.code, String(f.message), f.extensions ?? {}, { status, title: known?.title ?? f.title ?? f.code });
}
