import { init } from './0001-init.js';

/** Applied in this order; each is recorded once per plugin, so append only. */
export const migrations = [init];
