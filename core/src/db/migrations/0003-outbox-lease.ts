import { Migration } from '@mikro-orm/migrations';

/**
 * Outbox events are leased while being delivered and marked delivered only
 * afterwards, so a process that dies mid-delivery leaves them to be delivered
 * again (at least once) instead of losing them.
 */
export class Migration0003OutboxLease extends Migration {
  override async up(): Promise<void> {
    this.addSql('alter table outbox_event add column leased_until timestamptz null');
  }

  override async down(): Promise<void> {
    this.addSql('alter table outbox_event drop column leased_until');
  }
}
