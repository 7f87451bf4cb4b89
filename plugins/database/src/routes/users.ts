import { ProblemError, type PluginContext, type PluginRequest } from '@mpanel/sdk';
import { DatabaseGrantSchema, type DatabaseGrant } from '../entities/database-grant.js';
import { DatabaseUserSchema, type DatabaseUser } from '../entities/database-user.js';
import { ProvisionedDatabaseSchema, type ProvisionedDatabase } from '../entities/provisioned-database.js';
import { ENGINES, type Engine } from '../entities/server.js';
import { createUser, deleteUser, rotatePassword } from '../provisioning/operations.js';
import type { SagaRunner } from '../provisioning/saga.js';
import type { DatabaseSettings } from '../settings.js';
import { actingTenant, chooseServer, owningTenant, serverById, uuidParams } from './access.js';
import { iso, userSchema } from './views.js';

const looseName = { type: 'string', minLength: 1, maxLength: 200 };

export async function findUser(req: PluginRequest<any, any, any>, id: string): Promise<DatabaseUser> {
  const user = await req.em.findOne<DatabaseUser>(DatabaseUserSchema, { id });
  if (!user) throw new ProblemError('not-found', `No database user ${id}`, { status: 404 });
  return user;
}

async function userViews(req: PluginRequest<any, any, any>, users: DatabaseUser[]) {
  const ids = users.map((u) => u.id);
  const grants = ids.length ? await req.em.find<DatabaseGrant>(DatabaseGrantSchema, { userId: { $in: ids } }) : [];
  const dbIds = [...new Set(grants.map((g) => g.databaseId))];
  const dbs = dbIds.length ? await req.em.find<ProvisionedDatabase>(ProvisionedDatabaseSchema, { id: { $in: dbIds } }) : [];
  const dbName = new Map(dbs.map((d) => [d.id, d.name]));
  return users.map((u) => ({
    id: u.id, tenantId: u.tenantId, serverId: u.serverId, name: u.name, status: u.status, createdAt: iso(u.createdAt)!, passwordRotatedAt: iso(u.passwordRotatedAt),
    grants: grants.filter((g) => g.userId === u.id && dbName.has(g.databaseId)).map((g) => ({ databaseId: g.databaseId, database: dbName.get(g.databaseId)!, privilege: g.privilege })),
  }));
}

const passwordResponse = {
  type: 'object', required: ['user', 'password', 'host', 'port'],
  properties: { user: { type: 'string' }, password: { type: 'string' }, host: { type: 'string' }, port: { type: 'integer' } },
};

export function registerUserRoutes(ctx: PluginContext<DatabaseSettings>, runner: SagaRunner): void {
  ctx.routes.add<{}, { tenantId?: string }>({
    method: 'GET',
    path: '/users',
    summary: 'Database users of the tenants you can see, with their grants.',
    permission: 'database.read',
    schema: {
      query: { type: 'object', additionalProperties: false, properties: { tenantId: { type: 'string', format: 'uuid' } } },
      response: { type: 'array', items: userSchema },
    },
    handler: async (req) => {
      const where = req.query.tenantId ? { tenantId: req.query.tenantId } : {};
      return userViews(req, await req.em.find<DatabaseUser>(DatabaseUserSchema, where, { orderBy: { name: 'asc' }, limit: 1000 }));
    },
  });

  ctx.routes.add<{}, {}, { name: string; serverId?: string; engine?: Engine; tenantId?: string }>({
    method: 'POST',
    path: '/users',
    summary: 'Create a database user named <prefix>_<something>; the password is in this answer only. Send Idempotency-Key to retry safely.',
    permission: 'database.manage',
    audit: 'database.user.create',
    // The saga commits each step itself; a route transaction would only hold a connection meanwhile.
    transaction: false,
    status: 201,
    schema: {
      body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: looseName, serverId: { type: 'string', format: 'uuid' }, engine: { enum: [...ENGINES] }, tenantId: { type: 'string', format: 'uuid' } } },
      response: { type: 'object', required: ['user', 'password', 'host', 'port'], properties: { user: userSchema, password: { type: 'string' }, host: { type: 'string' }, port: { type: 'integer' } } },
    },
    handler: async (req) => {
      const tenant = await actingTenant(ctx, req, req.body.tenantId, 'database.manage');
      const server = await chooseServer(ctx, req.body.serverId, req.body.engine);
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      req.audit.details = { name: req.body.name, server: server.name };
      const result = (await createUser(ctx, runner, req, { tenant, server, name: req.body.name })) as { user: { id: string } };
      req.audit.target = `database-user:${result.user.id}`;
      return result;
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'POST',
    path: '/users/:id/password',
    summary: 'Give a user a new random password, shown in this answer only.',
    permission: 'database.manage',
    audit: 'database.user.password',
    // The saga commits each step itself; a route transaction would only hold a connection meanwhile.
    transaction: false,
    tenantScoped: true,
    schema: { params: uuidParams('id'), response: passwordResponse },
    handler: async (req) => {
      const user = await findUser(req, req.params.id);
      const tenant = await owningTenant(ctx, req, user.tenantId, 'database.manage');
      req.audit.target = `database-user:${user.id}`;
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      return rotatePassword(ctx, runner, req, tenant, user, await serverById(ctx, user.serverId));
    },
  });

  ctx.routes.add<{ id: string }, { confirm?: string }>({
    method: 'DELETE',
    path: '/users/:id',
    summary: 'Drop a database user (tables it created stay, owned by the server admin). Needs ?confirm=<user name>.',
    permission: 'database.manage',
    audit: 'database.user.delete',
    // The saga commits each step itself; a route transaction would only hold a connection meanwhile.
    transaction: false,
    tenantScoped: true,
    schema: { params: uuidParams('id'), query: { type: 'object', additionalProperties: false, properties: { confirm: { type: 'string', maxLength: 200 } } } },
    handler: async (req) => {
      const user = await findUser(req, req.params.id);
      const tenant = await owningTenant(ctx, req, user.tenantId, 'database.manage');
      req.audit.target = `database-user:${user.id}`;
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      req.audit.details = { name: user.name };
      if (req.query.confirm !== user.name) {
        throw new ProblemError('confirmation-required', `Type the user name (${user.name}) to confirm`, { status: 422, extensions: { field: 'confirm' } });
      }
      await deleteUser(ctx, runner, req, tenant, user);
      return undefined;
    },
  });
}
