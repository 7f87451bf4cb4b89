import type { PluginMigration } from '@mpanel/sdk';

/**
 * Servers, provisioned objects, grants, tenant name prefixes and the saga log.
 * Runs with search_path = plugin_database. One statement per execute (PGlite).
 */
const statements = [
  `create table server (
    id uuid primary key,
    name text not null unique,
    engine text not null check (engine in ('postgresql', 'mariadb')),
    host text not null,
    port integer not null,
    public_host text,
    admin_user text not null,
    admin_password_sealed text not null,
    is_default boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now())`,
  // Every object carries its tenant: the entity filter hides other tenants' rows.
  `create table tenant_prefix (
    tenant_id uuid primary key references public.tenant(id),
    prefix text not null unique,
    created_at timestamptz not null default now())`,
  `create table provisioned_database (
    id uuid primary key,
    tenant_id uuid not null references public.tenant(id),
    server_id uuid not null references server(id),
    name text not null,
    status text not null check (status in ('provisioning', 'ready', 'deleting')),
    size_bytes bigint,
    size_checked_at timestamptz,
    created_at timestamptz not null default now(),
    unique (server_id, name))`,
  'create index provisioned_database_tenant_idx on provisioned_database(tenant_id)',
  `create table database_user (
    id uuid primary key,
    tenant_id uuid not null references public.tenant(id),
    server_id uuid not null references server(id),
    name text not null,
    status text not null check (status in ('provisioning', 'ready', 'deleting')),
    password_rotated_at timestamptz,
    created_at timestamptz not null default now(),
    unique (server_id, name))`,
  'create index database_user_tenant_idx on database_user(tenant_id)',
  `create table database_grant (
    id uuid primary key,
    tenant_id uuid not null references public.tenant(id),
    database_id uuid not null references provisioned_database(id) on delete cascade,
    user_id uuid not null references database_user(id) on delete cascade,
    privilege text not null check (privilege in ('all', 'read')),
    created_at timestamptz not null default now(),
    unique (database_id, user_id))`,
  // The saga log: the plan (every step with its forward and undo action) is
  // written before anything touches a server, and each step's state after.
  `create table operation (
    id uuid primary key,
    tenant_id uuid not null references public.tenant(id),
    kind text not null,
    status text not null check (status in ('running', 'succeeded', 'compensated', 'compensation-failed', 'failed')),
    actor_id text,
    idempotency_key text,
    request_hash text,
    result_sealed text,
    result_status integer,
    error text,
    failed_step text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now())`,
  'create unique index operation_idempotency_idx on operation(actor_id, idempotency_key) where idempotency_key is not null',
  'create index operation_status_idx on operation(status, updated_at)',
  `create table operation_step (
    operation_id uuid not null references operation(id) on delete cascade,
    seq integer not null,
    name text not null,
    action jsonb not null,
    undo jsonb,
    pivot boolean not null default false,
    status text not null check (status in ('pending', 'running', 'done', 'failed', 'compensated')),
    error text,
    updated_at timestamptz not null default now(),
    primary key (operation_id, seq))`,
];

export const init: PluginMigration = {
  name: '0001-init',
  async up(db) {
    for (const sql of statements) await db.execute(sql);
  },
  async down(db) {
    for (const table of ['operation_step', 'operation', 'database_grant', 'database_user', 'provisioned_database', 'tenant_prefix', 'server']) {
      await db.execute(`drop table if exists ${table}`);
    }
  },
};
