import { Tenant } from './tenant.js';
import { User } from './user.js';
import { Session } from './session.js';
import { ApiToken } from './api-token.js';
import { Role } from './role.js';
import { RoleBinding } from './role-binding.js';
import { OneTimeToken } from './one-time-token.js';

export { Tenant, User, Session, ApiToken, Role, RoleBinding, OneTimeToken };
export { TENANT_KINDS, type TenantKind } from './tenant.js';
export { TENANT_FILTER, type TenantFilterParams } from './tenant-filter.js';

/** Core's entities (audit entries and outbox events are written with SQL: see audit/ and events/). */
export const coreEntities = [Tenant, User, Session, ApiToken, Role, RoleBinding, OneTimeToken];
