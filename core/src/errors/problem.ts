import { getProblem, problemTypeUri } from './catalogue.js';

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
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly extensions: Record<string, unknown>;

  constructor(code: string, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    const spec = getProblem(code);
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
