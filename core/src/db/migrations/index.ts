import { Migration0001Initial } from './0001-initial.js';
import { Migration0002Plugins } from './0002-plugins.js';
import { Migration0003OutboxLease } from './0003-outbox-lease.js';

/** Core migrations in order. Add new ones at the end; never edit a released one. */
export const coreMigrations = [
  { name: '0001-initial', class: Migration0001Initial },
  { name: '0002-plugins', class: Migration0002Plugins },
  { name: '0003-outbox-lease', class: Migration0003OutboxLease },
];
