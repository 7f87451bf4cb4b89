import type { ShellApi, ShellApiError } from '@mpanel/sdk';

/** A problem+json answer (RFC 9457) as an Error: `status`, `code`, `detail` and any extension members. */
export class ApiError extends Error implements ShellApiError {
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ pointer: string; message: string }>;
  [extension: string]: unknown;

  constructor(status: number, body: Record<string, unknown> | null, fallback: string) {
    const detail = typeof body?.detail === 'string' ? body.detail : typeof body?.title === 'string' ? body.title : fallback;
    super(detail);
    this.name = 'ApiError';
    Object.assign(this, body ?? {});
    this.status = status;
    this.code = typeof body?.code === 'string' ? body.code : status >= 500 ? 'internal' : 'http-error';
    this.detail = detail;
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** A human sentence for any error: the server's problem detail (plus field messages) or the Error's message. */
export function errorMessage(e: unknown): string {
  if (isApiError(e)) {
    const fields = (e.errors ?? []).map((f) => `${f.pointer.replace(/^\/(body|query|params)\/?/, '') || 'request'} ${f.message}`);
    return fields.length ? `${e.detail}: ${fields.join('; ')}` : e.detail;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null;
  const hit = document.cookie.split('; ').find((c) => c.startsWith(`${name}=`));
  return hit ? decodeURIComponent(hit.slice(name.length + 1)) : null;
}

export interface ApiClientOptions {
  /** Called when an authenticated call answers 401 (the session ended): the shell sends the user to login. */
  onUnauthenticated?: (error: ApiError) => void;
  fetch?: typeof fetch;
}

/**
 * The panel API with the browser's session cookie. State-changing requests
 * carry X-CSRF-Token (from /auth/me or the readable `mpanel_csrf` cookie).
 */
export class ApiClient implements ShellApi {
  csrfToken: string | null = null;

  constructor(private readonly options: ApiClientOptions = {}) {}

  async request<T = unknown>(method: string, path: string, body?: unknown, opts: { quiet401?: boolean; raw?: boolean } = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && method !== 'HEAD') {
      const csrf = this.csrfToken ?? readCookie('mpanel_csrf');
      if (csrf) headers['x-csrf-token'] = csrf;
    }
    const doFetch = this.options.fetch ?? fetch;
    let res: Response;
    try {
      res = await doFetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
    } catch (e) {
      throw new ApiError(0, { code: 'network', detail: `The panel could not be reached (${(e as Error).message})` }, 'Network error');
    }
    if (opts.raw && res.ok) return res as unknown as T;
    const text = await res.text();
    let parsed: unknown = null;
    if (text && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!res.ok) {
      const error = new ApiError(res.status, parsed as Record<string, unknown> | null, `${res.status} ${res.statusText || 'error'}`);
      if (res.status === 401 && error.code === 'unauthenticated' && !opts.quiet401) this.options.onUnauthenticated?.(error);
      throw error;
    }
    return (res.status === 204 ? undefined : parsed ?? text) as T;
  }

  get<T = any>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T = any>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  put<T = any>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  patch<T = any>(path: string, body?: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete<T = any>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }
}

/** `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, unknown>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
