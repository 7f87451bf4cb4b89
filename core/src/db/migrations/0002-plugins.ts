import { Migration } from '@mikro-orm/migrations';

/** Plugin host state: installed plugins, their lifecycle state and applied migrations. */
export class Migration0002Plugins extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table plugin (
      id text primary key,
      package_name text not null,
      version text not null,
      source text not null check (source in ('registry','local')),
      location text not null,
      integrity text null,
      state text not null check (state in ('enabled','disabled','failed')),
      manifest jsonb not null,
      granted_capabilities jsonb not null default '[]',
      settings jsonb not null default '{}',
      last_error text null,
      error_count integer not null default 0,
      installed_at timestamptz not null default now(),
      updated_at timestamptz not null default now())`);
    this.addSql(`create table plugin_migration (
      plugin_id text not null,
      name text not null,
      version text not null,
      applied_at timestamptz not null default now(),
      primary key (plugin_id, name))`);
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists plugin_migration');
    this.addSql('drop table if exists plugin');
  }
}
