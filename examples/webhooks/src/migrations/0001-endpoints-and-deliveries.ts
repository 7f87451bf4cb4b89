import type { PluginMigration } from '@mpanel/sdk';

/** Runs with search_path = plugin_webhooks, so the tables land in the plugin's schema. */
export const endpointsAndDeliveries: PluginMigration = {
  name: '0001-endpoints-and-deliveries',
  async up(db) {
    await db.execute(`create table endpoint (
      id uuid primary key,
      tenant_id uuid not null references public.tenant(id) on delete cascade,
      tenant_path text not null,
      url text not null,
      description text not null default '',
      secret text not null,
      events jsonb not null default '["*"]',
      active boolean not null default true,
      created_by uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now())`);
    await db.execute('create index endpoint_tenant_idx on endpoint(tenant_id)');
    await db.execute('create index endpoint_active_path_idx on endpoint(tenant_path) where active');
    await db.execute(`create table delivery (
      id uuid primary key,
      endpoint_id uuid not null references endpoint(id) on delete cascade,
      tenant_id uuid not null,
      event_id text not null,
      event_type text not null,
      body text not null,
      state text not null default 'pending' check (state in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      status_code integer,
      last_error text,
      duration_ms integer,
      next_attempt_at timestamptz,
      locked_until timestamptz,
      replay_of uuid,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      delivered_at timestamptz)`);
    await db.execute("create index delivery_due_idx on delivery(next_attempt_at) where state = 'pending'");
    await db.execute('create index delivery_endpoint_idx on delivery(endpoint_id, created_at desc, id desc)');
    await db.execute('create index delivery_tenant_idx on delivery(tenant_id, created_at desc, id desc)');
  },
  async down(db) {
    await db.execute('drop table if exists delivery');
    await db.execute('drop table if exists endpoint');
  },
};
