import { Migration } from '@mikro-orm/migrations';

/**
 * Core schema v1. Written by hand (never generated in a process that might
 * have plugin entities loaded) and one statement per addSql, because PGlite
 * refuses several statements in one execute.
 */
// Foreign keys are DEFERRABLE INITIALLY DEFERRED: entities are modelled without
// ORM relations (ids only), so MikroORM cannot order inserts by dependency;
// checking at commit keeps integrity without depending on flush order.
export class Migration0001Initial extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table tenant (
      id uuid primary key,
      parent_id uuid null references tenant(id) deferrable initially deferred,
      path text not null unique,
      kind text not null check (kind in ('platform','reseller','customer')),
      name text not null,
      quotas jsonb not null default '{}',
      branding jsonb not null default '{}',
      created_at timestamptz not null default now())`);
    this.addSql(`create index tenant_parent_idx on tenant(parent_id)`);
    this.addSql(`create index tenant_path_idx on tenant(path text_pattern_ops)`);

    this.addSql(`create table app_user (
      id uuid primary key,
      tenant_id uuid not null references tenant(id) deferrable initially deferred,
      email text not null,
      name text not null,
      password_hash text not null,
      email_verified_at timestamptz null,
      disabled_at timestamptz null,
      created_at timestamptz not null default now(),
      password_changed_at timestamptz not null default now())`);
    this.addSql(`create unique index app_user_email_uq on app_user(lower(email))`);
    this.addSql(`create index app_user_tenant_idx on app_user(tenant_id)`);

    this.addSql(`create table session (
      id uuid primary key,
      tenant_id uuid not null references tenant(id) deferrable initially deferred,
      user_id uuid not null references app_user(id) on delete cascade deferrable initially deferred,
      token_hash text not null unique,
      csrf_token text not null,
      ip text null,
      user_agent text null,
      created_at timestamptz not null,
      last_seen_at timestamptz not null,
      expires_at timestamptz not null,
      revoked_at timestamptz null)`);
    this.addSql(`create index session_user_idx on session(user_id)`);

    this.addSql(`create table api_token (
      id uuid primary key,
      tenant_id uuid not null references tenant(id) deferrable initially deferred,
      user_id uuid not null references app_user(id) on delete cascade deferrable initially deferred,
      name text not null,
      token_hash text not null unique,
      prefix text not null,
      permissions jsonb not null,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      last_used_at timestamptz null,
      revoked_at timestamptz null)`);
    this.addSql(`create index api_token_user_idx on api_token(user_id)`);

    this.addSql(`create table role (
      id uuid primary key,
      tenant_id uuid null references tenant(id) deferrable initially deferred,
      key text not null,
      name text not null,
      description text not null default '',
      permissions jsonb not null,
      builtin boolean not null default false,
      created_at timestamptz not null default now())`);
    this.addSql(`create unique index role_key_uq on role(coalesce(tenant_id, '00000000-0000-0000-0000-000000000000'::uuid), key)`);

    this.addSql(`create table role_binding (
      id uuid primary key,
      user_id uuid not null references app_user(id) on delete cascade deferrable initially deferred,
      role_id uuid not null references role(id) on delete cascade deferrable initially deferred,
      tenant_id uuid not null references tenant(id) deferrable initially deferred,
      created_at timestamptz not null default now())`);
    this.addSql(`create unique index role_binding_uq on role_binding(user_id, role_id, tenant_id)`);

    this.addSql(`create table one_time_token (
      id uuid primary key,
      user_id uuid not null references app_user(id) on delete cascade deferrable initially deferred,
      purpose text not null,
      token_hash text not null unique,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      used_at timestamptz null)`);

    // Key/value state of the installation (setup done, setup token hash).
    this.addSql(`create table system_state (
      key text primary key,
      value jsonb not null,
      updated_at timestamptz not null default now())`);

    // Append-only, hash-chained audit trail (see audit/chain.ts).
    this.addSql(`create table audit_entry (
      seq bigint primary key,
      at timestamptz not null,
      actor_type text not null,
      actor_id text null,
      actor_label text null,
      tenant_id uuid null,
      tenant_path text null,
      action text not null,
      target text null,
      outcome text not null,
      ip text null,
      user_agent text null,
      request_id text null,
      details jsonb not null default '{}',
      prev_hash text not null,
      hash text not null)`);
    this.addSql(`create index audit_entry_at_idx on audit_entry(at)`);
    this.addSql(`create index audit_entry_action_idx on audit_entry(action)`);
    this.addSql(`create index audit_entry_tenant_path_idx on audit_entry(tenant_path text_pattern_ops)`);
    this.addSql(`create function audit_entry_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit_entry is append-only'; end $$`);
    this.addSql(`create trigger audit_entry_no_change before update or delete on audit_entry
      for each row execute function audit_entry_append_only()`);

    // Transactional outbox (see events/outbox.ts).
    this.addSql(`create table outbox_event (
      id bigserial primary key,
      type text not null,
      tenant_id uuid null,
      tenant_path text null,
      permission text null,
      payload jsonb not null,
      created_at timestamptz not null default now(),
      delivered_at timestamptz null)`);
    this.addSql(`create index outbox_event_pending_idx on outbox_event(id) where delivered_at is null`);
  }

  override async down(): Promise<void> {
    for (const t of ['outbox_event', 'audit_entry', 'system_state', 'one_time_token', 'role_binding', 'role', 'api_token', 'session', 'app_user', 'tenant']) {
      this.addSql(`drop table if exists ${t} cascade`);
    }
    this.addSql(`drop function if exists audit_entry_append_only()`);
  }
}
