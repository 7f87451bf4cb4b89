import type { PluginMigration } from '@mpanel/sdk';

/**
 * Runs with search_path = plugin_twofactor. Seeds are sealed with the plugin's
 * key (ctx.secrets), backup codes are stored as HMACs; neither is readable
 * from a database dump alone.
 */
export const twofactorTables: PluginMigration = {
  name: '0001-twofactor',
  async up(db) {
    await db.execute(`create table enrolment (
      user_id uuid primary key references public.app_user(id) on delete cascade,
      secret text,
      enabled_at timestamptz,
      last_step bigint,
      last_used_at timestamptz,
      pending_secret text,
      pending_at timestamptz,
      initial_codes_until timestamptz)`);
    await db.execute(`create table backup_code (
      user_id uuid not null references enrolment(user_id) on delete cascade,
      code_hash text not null,
      created_at timestamptz not null,
      used_at timestamptz,
      primary key (user_id, code_hash))`);
    await db.execute(`create table trusted_device (
      id uuid primary key,
      user_id uuid not null references enrolment(user_id) on delete cascade,
      created_at timestamptz not null,
      expires_at timestamptz not null,
      last_used_at timestamptz,
      user_agent text,
      ip text)`);
    await db.execute('create index trusted_device_user_idx on trusted_device(user_id)');
  },
  async down(db) {
    await db.execute('drop table if exists trusted_device');
    await db.execute('drop table if exists backup_code');
    await db.execute('drop table if exists enrolment');
  },
};
