import { Migration0001Initial } from './0001-initial.js';

/** Core migrations in order. Add new ones at the end; never edit a released one. */
export const coreMigrations = [{ name: '0001-initial', class: Migration0001Initial }];
