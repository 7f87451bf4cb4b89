import mysql from 'mysql2/promise';
import type { Privilege } from '../../entities/database-grant.js';
import type { EngineDriver, ServerCredentials } from './types.js';

/** Users may connect from anywhere the server lets them; the server's own firewall decides. */
const USER_HOST = '%';
/** MariaDB: "There is no such grant defined" — revoking what isn't granted. */
const ER_NONEXISTING_GRANT = 1141;

/**
 * MariaDB / MySQL. Identifiers go through mysql2's escapeId, user names,
 * hosts and passwords are bound as `?` values (escaped as literals by the
 * driver). One admin connection, no multiple statements.
 */
export class MariaDbDriver implements EngineDriver {
  readonly engine = 'mariadb' as const;
  private conn: Promise<mysql.Connection> | null = null;

  constructor(private readonly creds: ServerCredentials) {}

  private connection(): Promise<mysql.Connection> {
    if (!this.conn) {
      this.conn = mysql.createConnection({
        host: this.creds.host, port: this.creds.port, user: this.creds.adminUser, password: this.creds.adminPassword,
        connectTimeout: 10_000, multipleStatements: false,
      }).then((c) => {
        // A server that goes away must fail the step, not crash the panel.
        c.on('error', () => {});
        return c;
      });
      this.conn.catch(() => (this.conn = null));
    }
    return this.conn;
  }

  private async query<T = any>(sql: string, values: unknown[] = []): Promise<T> {
    const [rows] = await (await this.connection()).query(sql, values);
    return rows as T;
  }

  /**
   * In GRANT/REVOKE, `_` and `%` in a database name are wildcards: `ab_x`
   * would also match `abcx`, another tenant's database. Escape them.
   */
  private grantTarget(database: string): string {
    return `${mysql.escapeId(database.replace(/([_%\\])/g, '\\$1'))}.*`;
  }

  async ping(): Promise<string> {
    const rows = await this.query<Array<{ v: string }>>('select version() as v');
    return rows[0]!.v;
  }

  async databaseExists(name: string): Promise<boolean> {
    const rows = await this.query<unknown[]>('select 1 from information_schema.SCHEMATA where SCHEMA_NAME = ?', [name]);
    return rows.length > 0;
  }

  async userExists(name: string): Promise<boolean> {
    const rows = await this.query<unknown[]>('select 1 from mysql.user where User = ?', [name]);
    return rows.length > 0;
  }

  async createDatabase(name: string): Promise<void> {
    await this.query(`create database ${mysql.escapeId(name)} character set utf8mb4 collate utf8mb4_unicode_ci`);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.query(`drop database if exists ${mysql.escapeId(name)}`);
  }

  async createUser(name: string, password: string): Promise<void> {
    await this.query('create user ?@? identified by ?', [name, USER_HOST, password]);
  }

  async setPassword(name: string, password: string): Promise<void> {
    await this.query('alter user ?@? identified by ?', [name, USER_HOST, password]);
  }

  async dropUser(name: string): Promise<void> {
    // Removes its grants too; tables live in databases, not with users: no data goes.
    await this.query('drop user if exists ?@?', [name, USER_HOST]);
  }

  async grant(user: string, database: string, privilege: Privilege): Promise<void> {
    await this.revoke(user, database);
    const what = privilege === 'all' ? 'all privileges' : 'select, show view';
    await this.query(`grant ${what} on ${this.grantTarget(database)} to ?@?`, [user, USER_HOST]);
  }

  async revoke(user: string, database: string): Promise<void> {
    if (!(await this.userExists(user))) return;
    try {
      await this.query(`revoke all privileges on ${this.grantTarget(database)} from ?@?`, [user, USER_HOST]);
    } catch (err) {
      if ((err as { errno?: number }).errno !== ER_NONEXISTING_GRANT) throw err;
    }
  }

  async databaseSize(name: string): Promise<number | null> {
    if (!(await this.databaseExists(name))) return null;
    const rows = await this.query<Array<{ size: string | null }>>(
      'select cast(coalesce(sum(data_length + index_length), 0) as char) as size from information_schema.TABLES where table_schema = ?',
      [name],
    );
    return Number(rows[0]?.size ?? 0);
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = null;
    if (c) await c.then((conn) => conn.end()).catch(() => {});
  }
}
