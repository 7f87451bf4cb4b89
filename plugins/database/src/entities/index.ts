export { DatabaseServerSchema, DatabaseServer, ENGINES, type Engine } from './server.js';
export { ProvisionedDatabaseSchema, ProvisionedDatabase, OBJECT_STATES, type ObjectState } from './provisioned-database.js';
export { DatabaseUserSchema, DatabaseUser } from './database-user.js';
export { DatabaseGrantSchema, DatabaseGrant, PRIVILEGES, type Privilege } from './database-grant.js';
export { OperationSchema, Operation, OPERATION_STATES, type OperationState } from './operation.js';

import { DatabaseServerSchema } from './server.js';
import { ProvisionedDatabaseSchema } from './provisioned-database.js';
import { DatabaseUserSchema } from './database-user.js';
import { DatabaseGrantSchema } from './database-grant.js';
import { OperationSchema } from './operation.js';

export const entities = [DatabaseServerSchema, ProvisionedDatabaseSchema, DatabaseUserSchema, DatabaseGrantSchema, OperationSchema];
