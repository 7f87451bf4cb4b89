import { monitoring } from './0001-monitoring.js';

/** In order; never edit a released migration, add a new one. */
export const migrations = [monitoring];
