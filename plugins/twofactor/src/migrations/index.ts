import { twofactorTables } from './0001-twofactor.js';

/** In order; never edit a released migration, add a new one. */
export const migrations = [twofactorTables];
