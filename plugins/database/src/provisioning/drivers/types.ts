import type { Engine } from '../../entities/server.js';
import type { Privilege } from '../../entities/database-grant.js';

/** How to reach a server as its administrator. */
export interface ServerCredentials {
  engine: Engine;
  host: string;
  port: number;
  adminUser: string;
  adminPassword: string;
}

/** Other users of the same database, so PostgreSQL default privileges can link them. */
export interface GrantPeers {
  writers: string[];
  readers: string[];
}

/**
 * What the saga does to a server. Every drop/revoke is idempotent (it may run
 * again during recovery) and every name was validated before it got here;
 * the drivers still quote with the engine's own escaping.
 */
export interface EngineDriver {
  readonly engine: Engine;
  /** Server version, proving the credentials work. */
  ping(): Promise<string>;
  databaseExists(name: string): Promise<boolean>;
  userExists(name: string): Promise<boolean>;
  /** Creates the database, reachable by nobody but the admin until a grant. */
  createDatabase(name: string): Promise<void>;
  dropDatabase(name: string): Promise<void>;
  createUser(name: string, password: string): Promise<void>;
  /** Drops the user; objects it owns are handed to the admin (data is kept). */
  dropUser(name: string): Promise<void>;
  setPassword(name: string, password: string): Promise<void>;
  /** Sets the user's access to the database to exactly `privilege`. */
  grant(user: string, database: string, privilege: Privilege, peers: GrantPeers): Promise<void>;
  /** Removes every privilege of the user on the database. */
  revoke(user: string, database: string, peers: GrantPeers): Promise<void>;
  /** Bytes on disk, or null if the database does not exist. */
  databaseSize(name: string): Promise<number | null>;
  close(): Promise<void>;
}
