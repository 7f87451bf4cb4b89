import { MariaDbDriver } from './mariadb.js';
import { PostgresDriver } from './postgresql.js';
import type { EngineDriver, ServerCredentials } from './types.js';

export type { EngineDriver, GrantPeers, ServerCredentials } from './types.js';

/** A driver for one server; close() it when done. Connects lazily. */
export function openDriver(creds: ServerCredentials): EngineDriver {
  return creds.engine === 'postgresql' ? new PostgresDriver(creds) : new MariaDbDriver(creds);
}
