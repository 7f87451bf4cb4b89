import type { PluginMigration } from '@mpanel/sdk';

/** Runs with search_path = plugin_hello, so `greeting` is created in the plugin's schema. */
export const greetings: PluginMigration = {
  name: '0001-greetings',
  async up(db) {
    await db.execute(`create table greeting (
      id uuid primary key,
      tenant_id uuid not null references public.tenant(id),
      message text not null,
      created_by uuid not null,
      created_at timestamptz not null default now())`);
    await db.execute('create index greeting_tenant_idx on greeting(tenant_id)');
  },
  async down(db) {
    await db.execute('drop table if exists greeting');
  },
};
