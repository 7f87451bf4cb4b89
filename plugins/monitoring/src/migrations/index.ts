import { monitoring } from './0001-monitoring.js';
import { cluster } from './0002-cluster.js';
import { logShipping } from './0003-log-shipping.js';

/** In order; never edit a released migration, add a new one. */
export const migrations = [monitoring, cluster, logShipping];
