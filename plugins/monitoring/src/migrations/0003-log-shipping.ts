import type { PluginMigration } from '@mpanel/sdk';

/**
 * Exactly-once log lines: agents number every line (`seq`, never reused per
 * agent); a resent line hits the unique index and is skipped. Lines of older
 * agents carry no number (NULLs never conflict) and are stored as before.
 * `dropped_log_lines`: lines an agent's full queue had to drop, as it reports.
 */
export const logShipping: PluginMigration = {
  name: '0003-log-shipping',
  async up(db) {
    await db.execute('alter table log_line add column seq bigint');
    await db.execute('create unique index log_line_agent_seq_idx on log_line(agent_id, seq)');
    await db.execute('alter table agent add column dropped_log_lines bigint not null default 0');
  },
  async down(db) {
    await db.execute('alter table agent drop column if exists dropped_log_lines');
    await db.execute('drop index if exists log_line_agent_seq_idx');
    await db.execute('alter table log_line drop column if exists seq');
  },
};
