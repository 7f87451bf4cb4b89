import { endpointsAndDeliveries } from './0001-endpoints-and-deliveries.js';

/** In order; never edit a released migration, add a new one. */
export const migrations = [endpointsAndDeliveries];
