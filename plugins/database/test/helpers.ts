import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { createTestPanel, type TestPanel } from '@mpanel/sdk/testing';

export const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const API = '/api/v1/p/database';
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres' };
export const MARIA = { host: '127.0.0.1', port: 3306, user: 'root' };
export type EngineName = 'postgresql' | 'mariadb';

/** Prefixes unique to this test run, so parallel files never meet on the shared servers. */
export function runPrefixes() {
  const id = randomBytes(4).toString('hex');
  return { customer: `c${id}`, otherCustomer: `o${id}`, reseller: `r${id}` };
}

export interface Fixture {
  t: TestPanel;
  prefixes: ReturnType<typeof runPrefixes>;
  servers: Record<EngineName, string>;
  /** Drops everything this run created on both servers (and checks nothing else). */
  cleanup(): Promise<void>;
}

/** A panel with the plugin, both servers registered and per-run prefixes for the test tenants. */
export async function setupFixture(): Promise<Fixture> {
  const t = await createTestPanel({ plugins: [pluginDir] });
  const prefixes = runPrefixes();
  const servers = {} as Record<EngineName, string>;
  const run = prefixes.customer.slice(1);
  for (const [engine, c] of [['postgresql', PG], ['mariadb', MARIA]] as const) {
    const res = await t.as('admin').post(`${API}/servers`, { name: `${engine}-${run}`, engine, host: c.host, port: c.port, adminUser: c.user, adminPassword: '', isDefault: true });
    if (res.status !== 201) throw new Error(`server registration failed: ${res.status} ${res.text}`);
    servers[engine] = res.body.id;
  }
  for (const key of ['customer', 'otherCustomer', 'reseller'] as const) {
    const res = await t.as('admin').request('PUT', `${API}/tenants/${t.tenants[key]}/prefix`, { prefix: prefixes[key] });
    if (res.status !== 200) throw new Error(`prefix failed: ${res.status} ${res.text}`);
  }
  return {
    t, prefixes, servers,
    async cleanup() {
      for (const p of Object.values(prefixes)) await dropEverything(p);
      await t.close();
    },
  };
}

export async function withPg<T>(fn: (c: pg.Client) => Promise<T>, opts: { user?: string; password?: string; database?: string } = {}): Promise<T> {
  const c = new pg.Client({ host: PG.host, port: PG.port, user: opts.user ?? PG.user, password: opts.password, database: opts.database ?? 'postgres' });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function withMaria<T>(fn: (c: mysql.Connection) => Promise<T>, opts: { user?: string; password?: string; database?: string } = {}): Promise<T> {
  const c = await mysql.createConnection({ host: MARIA.host, port: MARIA.port, user: opts.user ?? MARIA.user, password: opts.password ?? '', database: opts.database });
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Databases and users/roles on both servers whose names start with `prefix_` (straight from the catalogs). */
export async function catalog(prefix: string): Promise<{ pgDatabases: string[]; pgRoles: string[]; myDatabases: string[]; myUsers: string[] }> {
  const like = `${prefix}\\_%`;
  const pgDatabases = await withPg(async (c) => (await c.query('select datname from pg_database where datname like $1 order by 1', [like])).rows.map((r) => r.datname));
  const pgRoles = await withPg(async (c) => (await c.query('select rolname from pg_roles where rolname like $1 order by 1', [like])).rows.map((r) => r.rolname));
  const myDatabases = await withMaria(async (c) => ((await c.query('select SCHEMA_NAME as n from information_schema.SCHEMATA where SCHEMA_NAME like ? order by 1', [like]))[0] as Array<{ n: string }>).map((r) => r.n));
  const myUsers = await withMaria(async (c) => ((await c.query('select User as n from mysql.user where User like ? order by 1', [like]))[0] as Array<{ n: string }>).map((r) => r.n));
  return { pgDatabases, pgRoles, myDatabases, myUsers };
}

export async function dropEverything(prefix: string): Promise<void> {
  const found = await catalog(prefix);
  await withPg(async (c) => {
    for (const d of found.pgDatabases) await c.query(`drop database if exists ${pg.escapeIdentifier(d)} with (force)`);
    for (const r of found.pgRoles) {
      await c.query(`drop owned by ${pg.escapeIdentifier(r)}`);
      await c.query(`drop role if exists ${pg.escapeIdentifier(r)}`);
    }
  });
  await withMaria(async (c) => {
    for (const d of found.myDatabases) await c.query(`drop database if exists ${mysql.escapeId(d)}`);
    for (const u of found.myUsers) await c.query('drop user if exists ?@?', [u, '%']);
  });
}

/** Polls until `check` returns true or the deadline passes (no fixed sleeps). */
export async function eventually(check: () => Promise<boolean>, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not met before the deadline');
    await new Promise((r) => setTimeout(r, 100));
  }
}
