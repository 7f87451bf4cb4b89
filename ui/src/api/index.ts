import { ApiClient } from './client';

/** Where a 401 sends the user; set by main.ts once the router exists. */
let onUnauthenticated: () => void = () => undefined;
export function setUnauthenticatedHandler(fn: () => void): void {
  onUnauthenticated = fn;
}

/** The one API client of the shell (and of every plugin panel, as `shell.api`). */
export const api = new ApiClient({ onUnauthenticated: () => onUnauthenticated() });
