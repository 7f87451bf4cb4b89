import type { PluginMigration, MigrationDb } from '@mpanel/sdk';
import type { Em } from '../db/orm.js';

/** Schema a plugin's tables live in: `plugin_<id>` with dashes as underscores. */
export function pluginSchema(id: string): string {
  return `plugin_${id.replace(/-/g, '_')}`;
}

function db(tem: Em, schema: string): MigrationDb {
  return { schema, execute: (sql, params = []) => tem.execute(sql, params as unknown[]) };
}

export async function appliedMigrations(em: Em, id: string): Promise<string[]> {
  const rows = await em.execute<Array<{ name: string }>>('select name from plugin_migration where plugin_id = ? order by applied_at, name', [id]);
  return rows.map((r) => r.name);
}

/**
 * Applies the plugin's pending migrations in one transaction, with
 * `search_path` set to the plugin's schema (so unqualified names land there),
 * and records each under the plugin id and version. Returns the names applied.
 */
export async function migratePluginUp(em: Em, id: string, version: string, migrations: readonly PluginMigration[]): Promise<string[]> {
  const schema = pluginSchema(id);
  // The common case at start: everything applied already — one query, no transaction.
  const applied = new Set(await appliedMigrations(em, id));
  if (migrations.every((m) => applied.has(m.name))) return [];
  return em.transactional(async (tx) => {
    const tem = tx as unknown as Em;
    await tem.execute(`create schema if not exists "${schema}"`);
    await tem.execute(`set local search_path to "${schema}", public`);
    const done = new Set(await appliedMigrations(tem, id));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.name)) continue;
      await m.up(db(tem, schema));
      await tem.execute('insert into plugin_migration (plugin_id, name, version) values (?, ?, ?)', [id, m.name, version]);
      applied.push(m.name);
    }
    return applied;
  });
}

/** Reverts the named migrations (newest first) in one transaction. */
export async function migratePluginDown(em: Em, id: string, migrations: readonly PluginMigration[], names: readonly string[]): Promise<void> {
  const schema = pluginSchema(id);
  const byName = new Map(migrations.map((m) => [m.name, m]));
  await em.transactional(async (tx) => {
    const tem = tx as unknown as Em;
    await tem.execute(`set local search_path to "${schema}", public`);
    for (const name of [...names].reverse()) {
      const m = byName.get(name);
      if (!m) throw new Error(`cannot revert migration "${name}" of ${id}: the plugin no longer ships it`);
      await m.down(db(tem, schema));
      await tem.execute('delete from plugin_migration where plugin_id = ? and name = ?', [id, name]);
    }
  });
}

/** Uninstall --purge: revert what the code can revert, then drop the schema and the records. */
export async function purgePluginData(em: Em, id: string, migrations: readonly PluginMigration[] | null): Promise<void> {
  if (migrations) {
    const applied = await appliedMigrations(em, id);
    const known = applied.filter((n) => migrations.some((m) => m.name === n));
    await migratePluginDown(em, id, migrations, known);
  }
  await em.transactional(async (tx) => {
    const tem = tx as unknown as Em;
    await tem.execute(`drop schema if exists "${pluginSchema(id)}" cascade`);
    await tem.execute('delete from plugin_migration where plugin_id = ?', [id]);
  });
}
