import type { PluginMigration } from '@mpanel/sdk';

/**
 * Several panel processes: which one holds an agent's connection, so a
 * process losing a stale connection doesn't mark an agent offline that has
 * already reconnected to another.
 */
export const cluster: PluginMigration = {
  name: '0002-cluster',
  async up(db) {
    await db.execute('alter table agent add column connected_node text');
  },
  async down(db) {
    await db.execute('alter table agent drop column if exists connected_node');
  },
};
