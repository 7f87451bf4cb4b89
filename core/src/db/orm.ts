import fs from 'node:fs';
import path from 'node:path';
import { MikroORM, type Options } from '@mikro-orm/core';
import type { SqlEntityManager } from '@mikro-orm/sql';
import { PostgreSqlDriver } from '@mikro-orm/postgresql';
import { PgliteDriver } from '@mikro-orm/pglite';
import { Migrator } from '@mikro-orm/migrations';
import type { PanelConfig } from '../config/load.js';
import { coreEntities } from './entities/index.js';
import { coreMigrations } from './migrations/index.js';

/** The EntityManager type used throughout core (PostgreSQL dialect; PGlite speaks it too). */
export type Em = SqlEntityManager;
export type Orm = MikroORM;

export interface OrmHandle {
  orm: Orm;
  /** `postgresql` for an external server, `pglite` for the embedded one. */
  kind: 'postgresql' | 'pglite';
}

/**
 * Connects MikroORM. With `databaseUrl` it talks to PostgreSQL; without, it
 * opens an embedded PGlite cluster in `<dataDir>/pgdata` so `npm start`
 * needs no database server. Never auto-syncs the schema: migrations do that.
 */
export async function openDatabase(
  config: Pick<PanelConfig, 'databaseUrl' | 'dataDir'>,
  log: (message: string) => void = () => {},
): Promise<OrmHandle> {
  const common = {
    entities: coreEntities,
    extensions: [Migrator],
    migrations: {
      migrationsList: coreMigrations,
      snapshot: false,
      transactional: true,
      allOrNothing: true,
      tableName: 'mikro_orm_migrations',
    },
    // MikroORM's own messages (e.g. the migrator's progress) go to our logger.
    logger: log,
    // Entities are defined with defineEntity; no reflection needed.
    discovery: { warnWhenNoEntities: false },
    allowGlobalContext: false,
    ignoreUndefinedInQuery: true,
  };
  if (config.databaseUrl) {
    const orm = await MikroORM.init({
      ...common,
      driver: PostgreSqlDriver,
      clientUrl: config.databaseUrl,
      pool: { min: 1, max: 10 },
    } as unknown as Options);
    return { orm, kind: 'postgresql' };
  }
  const dir = path.join(config.dataDir, 'pgdata');
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const orm = await MikroORM.init({ ...common, driver: PgliteDriver, dbName: dir } as unknown as Options);
  return { orm, kind: 'pglite' };
}

/** Runs pending core migrations; returns the names that ran. */
export async function migrateCore(orm: Orm): Promise<string[]> {
  const migrator = orm.migrator as unknown as Migrator;
  const ran = await migrator.up();
  return ran.map((m) => m.name);
}

export async function pendingCoreMigrations(orm: Orm): Promise<string[]> {
  const migrator = orm.migrator as unknown as Migrator;
  return (await migrator.getPending()).map((m) => m.name);
}
