/**
 * The contract between the web shell (`@mpanel/ui`) and a plugin's UI module.
 *
 * A plugin ships a prebuilt ES module (manifest `ui`) whose `install(shell)`
 * registers what it shows and returns a disposer. The shell loads it with
 * `import()` at run time, shares one copy of `vue`, `pinia`, `vue-router` and
 * the UI kit (`@mpanel/sdk/ui`, mapped to the shell's build by an import map —
 * keep all four external when bundling), and calls the disposer when the
 * plugin is disabled.
 */

/** A problem the API answered (RFC 9457), thrown by `shell.api` calls. */
export interface ShellApiError extends Error {
  status: number;
  code: string;
  detail: string;
  errors?: Array<{ pointer: string; message: string }>;
  [extension: string]: unknown;
}

/** Calls the panel API with the user's session and CSRF token; throws ShellApiError on 4xx/5xx. */
export interface ShellApi {
  get<T = any>(path: string): Promise<T>;
  post<T = any>(path: string, body?: unknown): Promise<T>;
  put<T = any>(path: string, body?: unknown): Promise<T>;
  patch<T = any>(path: string, body?: unknown): Promise<T>;
  delete<T = any>(path: string): Promise<T>;
}

/** Everything the shell offers a plugin's UI module. Each `add…` returns its remover. */
export interface PluginShell {
  /** The plugin's id (routes it adds should live under `/<id>` or the paths its manifest declares). */
  readonly pluginId: string;
  api: ShellApi;
  /** Whether the logged-in user holds a permission (anywhere in their grants). */
  can(permission: string): boolean;
  /** A page, mounted in the shell's router (a Vue component; props: none — use `shell` from a closure). */
  addRoute(route: { path: string; component: unknown; title?: string; permission?: string }): () => void;
  addMenuItem(item: { id: string; label: string; path: string; icon?: string; order?: number; permission?: string }): () => void;
  /** A dashboard widget. */
  addWidget(widget: { id: string; title: string; component: unknown; size?: 'small' | 'medium' | 'large'; permission?: string }): () => void;
  /**
   * A step of the login flow for a second factor the server asks for
   * (`second-factor-required` lists `factors`). The component gets props
   * `{ factor, hints, submit(response) }`; `submit` posts to /auth/login/factor.
   */
  addLoginStep(step: { factor: string; component: unknown }): () => void;
  /** A section of the user's "Security" / account page (e.g. two-factor settings). */
  addAccountSection(section: { id: string; title: string; component: unknown; order?: number }): () => void;
  toast: { success(message: string): void; error(error: unknown): void };
  /** Domain events the server pushes to this user over socket.io (`type` exact, `prefix.*` or `*`). */
  onEvent(pattern: string, handler: (event: { type: string; payload: Record<string, unknown>; tenantId: string | null }) => void): () => void;
}

/** The shape of a plugin UI module. */
export interface PluginUiModule {
  install(shell: PluginShell): (() => void) | void;
}
