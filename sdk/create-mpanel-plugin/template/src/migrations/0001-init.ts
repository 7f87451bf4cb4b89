import type { PluginMigration } from '@mpanel/sdk';

/**
 * Runs with search_path set to the plugin's schema ({{schema}}), so the
 * unqualified `item` lands there. Once released, never edit a migration:
 * add the next one.
 */
export const init: PluginMigration = {
  name: '0001-init',
  async up(db) {
    await db.execute(`create table item (
      id uuid primary key,
      tenant_id uuid not null references public.tenant(id),
      name text not null,
      created_by uuid not null,
      created_at timestamptz not null default now())`);
    await db.execute('create index item_tenant_idx on item(tenant_id)');
  },
  async down(db) {
    await db.execute('drop table if exists item');
  },
};
