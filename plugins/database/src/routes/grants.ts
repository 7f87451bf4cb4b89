import { ProblemError, type PluginContext, type PluginRequest } from '@mpanel/sdk';
import { ProvisionedDatabaseSchema, type ProvisionedDatabase } from '../entities/provisioned-database.js';
import { PRIVILEGES, type Privilege } from '../entities/database-grant.js';
import { revokeGrant, setGrant } from '../provisioning/operations.js';
import type { SagaRunner } from '../provisioning/saga.js';
import type { DatabaseSettings } from '../settings.js';
import { owningTenant, uuidParams } from './access.js';
import { findUser } from './users.js';

/** Grant and revoke a user on a database: both of the same tenant and on the same server. */
export function registerGrantRoutes(ctx: PluginContext<DatabaseSettings>, runner: SagaRunner): void {
  const load = async (req: PluginRequest<any, any, any>, databaseId: string, userId: string) => {
    const db = await req.em.findOne<ProvisionedDatabase>(ProvisionedDatabaseSchema, { id: databaseId });
    if (!db) throw new ProblemError('not-found', `No database ${databaseId}`, { status: 404 });
    const user = await findUser(req, userId);
    // A reseller sees two customers' objects; a grant never crosses tenants.
    if (user.tenantId !== db.tenantId) throw new ProblemError('not-found', `No user ${userId} in the tenant of ${db.name}`, { status: 404 });
    if (user.serverId !== db.serverId) throw new ProblemError('server-mismatch', `${user.name} lives on another server than ${db.name}`, { status: 422, extensions: { field: 'userId' } });
    const tenant = await owningTenant(ctx, req, db.tenantId, 'database.manage');
    req.audit.target = `database:${db.id}`;
    req.audit.tenantId = tenant.id;
    req.audit.tenantPath = tenant.path;
    return { db, user, tenant };
  };

  ctx.routes.add<{ id: string; userId: string }, {}, { privilege: Privilege }>({
    method: 'PUT',
    path: '/databases/:id/grants/:userId',
    summary: 'Give a user all privileges or read-only access on a database (replaces what it had).',
    permission: 'database.manage',
    audit: 'database.grant.set',
    // The saga commits each step itself; a route transaction would only hold a connection meanwhile.
    transaction: false,
    tenantScoped: true,
    schema: {
      params: uuidParams('id', 'userId'),
      body: { type: 'object', additionalProperties: false, required: ['privilege'], properties: { privilege: { enum: [...PRIVILEGES] } } },
      response: { type: 'object', required: ['databaseId', 'userId', 'privilege'], properties: { databaseId: { type: 'string' }, userId: { type: 'string' }, user: { type: 'string' }, database: { type: 'string' }, privilege: { type: 'string' } } },
    },
    handler: async (req) => {
      const { db, user, tenant } = await load(req, req.params.id, req.params.userId);
      req.audit.details = { user: user.name, database: db.name, privilege: req.body.privilege };
      return setGrant(ctx, runner, req, tenant, db, user, req.body.privilege);
    },
  });

  ctx.routes.add<{ id: string; userId: string }>({
    method: 'DELETE',
    path: '/databases/:id/grants/:userId',
    summary: 'Take away every privilege of a user on a database.',
    permission: 'database.manage',
    audit: 'database.grant.revoke',
    // The saga commits each step itself; a route transaction would only hold a connection meanwhile.
    transaction: false,
    tenantScoped: true,
    schema: { params: uuidParams('id', 'userId') },
    handler: async (req) => {
      const { db, user, tenant } = await load(req, req.params.id, req.params.userId);
      req.audit.details = { user: user.name, database: db.name };
      await revokeGrant(ctx, runner, req, tenant, db, user);
      return undefined;
    },
  });
}
