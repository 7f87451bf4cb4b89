import { init } from './0001-init.js';

/** In order; never edit a released migration, add a new one. */
export const migrations = [init];
