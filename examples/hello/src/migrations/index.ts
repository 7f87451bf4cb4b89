import { greetings } from './0001-greetings.js';

/** In order; never edit a released migration, add a new one. */
export const migrations = [greetings];
