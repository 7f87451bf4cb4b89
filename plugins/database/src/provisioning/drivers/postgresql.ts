import pg from 'pg';
import type { Privilege } from '../../entities/database-grant.js';
import type { EngineDriver, GrantPeers, ServerCredentials } from './types.js';

/** The database the admin connects to for cluster-wide statements. */
const MAINTENANCE_DB = 'postgres';

/**
 * PostgreSQL. Roles are cluster-wide; database-level statements need a
 * connection to that database, so clients are opened per database and kept
 * until close(). Identifiers go through escapeIdentifier, the password of
 * CREATE/ALTER ROLE through escapeLiteral (the protocol can't bind it).
 */
export class PostgresDriver implements EngineDriver {
  readonly engine = 'postgresql' as const;
  private readonly clients = new Map<string, Promise<pg.Client>>();

  constructor(private readonly creds: ServerCredentials) {}

  private client(database = MAINTENANCE_DB): Promise<pg.Client> {
    let c = this.clients.get(database);
    if (!c) {
      c = (async () => {
        const client = new pg.Client({
          host: this.creds.host, port: this.creds.port, user: this.creds.adminUser, password: this.creds.adminPassword,
          database, connectionTimeoutMillis: 10_000, statement_timeout: 60_000, application_name: 'mpanel-database',
        });
        // A server that goes away must fail the step, not crash the panel.
        client.on('error', () => {});
        await client.connect();
        return client;
      })();
      this.clients.set(database, c);
      c.catch(() => this.clients.delete(database));
    }
    return c;
  }

  private q(name: string): string {
    return pg.escapeIdentifier(name);
  }

  async ping(): Promise<string> {
    const c = await this.client();
    const r = await c.query<{ v: string }>('select version() as v');
    return r.rows[0]!.v;
  }

  async databaseExists(name: string): Promise<boolean> {
    const r = await (await this.client()).query('select 1 from pg_database where datname = $1', [name]);
    return r.rowCount! > 0;
  }

  async userExists(name: string): Promise<boolean> {
    const r = await (await this.client()).query('select 1 from pg_roles where rolname = $1', [name]);
    return r.rowCount! > 0;
  }

  async createDatabase(name: string): Promise<void> {
    const c = await this.client();
    await c.query(`create database ${this.q(name)}`);
    // New databases let PUBLIC connect and create temp tables: close that, so
    // other tenants' roles can't even connect.
    await c.query(`revoke all on database ${this.q(name)} from public`);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.disconnect(name);
    await (await this.client()).query(`drop database if exists ${this.q(name)} with (force)`);
  }

  async createUser(name: string, password: string): Promise<void> {
    await (await this.client()).query(`create role ${this.q(name)} login password ${pg.escapeLiteral(password)}`);
  }

  async setPassword(name: string, password: string): Promise<void> {
    await (await this.client()).query(`alter role ${this.q(name)} password ${pg.escapeLiteral(password)}`);
  }

  async dropUser(name: string): Promise<void> {
    if (!(await this.userExists(name))) return;
    // Objects and privileges of the role live in each database it touched
    // (pg_shdepend): hand its objects to the admin there, then drop the rest.
    const dbs = await (await this.client()).query<{ datname: string }>(
      `select distinct d.datname from pg_shdepend s join pg_database d on d.oid = s.dbid
        where s.refclassid = 'pg_authid'::regclass and s.refobjid = (select oid from pg_roles where rolname = $1)`,
      [name],
    );
    const targets = new Set([MAINTENANCE_DB, ...dbs.rows.map((r) => r.datname)]);
    for (const db of targets) {
      const c = await this.client(db);
      await c.query(`reassign owned by ${this.q(name)} to current_user`);
      await c.query(`drop owned by ${this.q(name)}`);
    }
    await (await this.client()).query(`drop role if exists ${this.q(name)}`);
  }

  async grant(user: string, database: string, privilege: Privilege, peers: GrantPeers): Promise<void> {
    await this.revoke(user, database, peers);
    const u = this.q(user);
    const main = await this.client();
    const c = await this.client(database);
    if (privilege === 'all') {
      await main.query(`grant all on database ${this.q(database)} to ${u}`);
      await c.query(`grant all on schema public to ${u}`);
      await c.query(`grant all on all tables in schema public to ${u}`);
      await c.query(`grant all on all sequences in schema public to ${u}`);
      // Tables one writer creates must be usable by the others (and readable by readers).
      for (const w of peers.writers) {
        for (const [owner, grantee] of [[user, w], [w, user]] as const) {
          await c.query(`alter default privileges for role ${this.q(owner)} in schema public grant all on tables to ${this.q(grantee)}`);
          await c.query(`alter default privileges for role ${this.q(owner)} in schema public grant all on sequences to ${this.q(grantee)}`);
        }
      }
      for (const r of peers.readers) {
        await c.query(`alter default privileges for role ${u} in schema public grant select on tables to ${this.q(r)}`);
      }
    } else {
      await main.query(`grant connect on database ${this.q(database)} to ${u}`);
      await c.query(`grant usage on schema public to ${u}`);
      await c.query(`grant select on all tables in schema public to ${u}`);
      await c.query(`grant select on all sequences in schema public to ${u}`);
      for (const w of peers.writers) {
        await c.query(`alter default privileges for role ${this.q(w)} in schema public grant select on tables to ${u}`);
      }
    }
  }

  async revoke(user: string, database: string, peers: GrantPeers): Promise<void> {
    if (!(await this.userExists(user)) || !(await this.databaseExists(database))) return;
    const u = this.q(user);
    const c = await this.client(database);
    for (const peer of [...peers.writers, ...peers.readers]) {
      if (peer === user || !(await this.userExists(peer))) continue;
      for (const [owner, grantee] of [[user, peer], [peer, user]] as const) {
        await c.query(`alter default privileges for role ${this.q(owner)} in schema public revoke all on tables from ${this.q(grantee)}`);
        await c.query(`alter default privileges for role ${this.q(owner)} in schema public revoke all on sequences from ${this.q(grantee)}`);
      }
    }
    await c.query(`revoke all on all tables in schema public from ${u}`);
    await c.query(`revoke all on all sequences in schema public from ${u}`);
    await c.query(`revoke all on schema public from ${u}`);
    await (await this.client()).query(`revoke all on database ${this.q(database)} from ${u}`);
  }

  async databaseSize(name: string): Promise<number | null> {
    if (!(await this.databaseExists(name))) return null;
    const r = await (await this.client()).query<{ size: string }>('select pg_database_size($1)::text as size', [name]);
    return Number(r.rows[0]!.size);
  }

  /** Our own connection to a database would block DROP DATABASE. */
  private async disconnect(database: string): Promise<void> {
    const c = this.clients.get(database);
    if (!c) return;
    this.clients.delete(database);
    await c.then((client) => client.end()).catch(() => {});
  }

  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((c) => c.then((client) => client.end()).catch(() => {})));
  }
}
