import { ProblemError, type PluginContext, type PluginRequest } from '@mpanel/sdk';
import { DatabaseGrantSchema, type DatabaseGrant } from '../entities/database-grant.js';
import { DatabaseUserSchema, type DatabaseUser } from '../entities/database-user.js';
import { ProvisionedDatabaseSchema, type ProvisionedDatabase } from '../entities/provisioned-database.js';
import { ENGINES, type Engine } from '../entities/server.js';
import { openDriver } from '../provisioning/drivers/index.js';
import { serverCredentials } from '../provisioning/driver-pool.js';
import { createDatabase, deleteDatabase } from '../provisioning/operations.js';
import type { SagaRunner } from '../provisioning/saga.js';
import type { DatabaseSettings } from '../settings.js';
import { actingTenant, chooseServer, owningTenant, serverById, serverInfo, serverRows, uuidParams } from './access.js';
import { connectionView, credentialsSchema, databaseSchema, iso } from './views.js';

/** Names are checked by validateName (422 naming the field); the schema only caps the size. */
const looseName = { type: 'string', minLength: 1, maxLength: 200 };

/** The database with its grants and connection details, as the caller may see it. */
export async function databaseViews(ctx: PluginContext<any>, req: PluginRequest<any, any, any>, dbs: ProvisionedDatabase[]) {
  const servers = new Map((await serverRows(ctx)).map((r) => [r.id, serverInfo(r)]));
  const ids = dbs.map((d) => d.id);
  const grants = ids.length ? await req.em.find<DatabaseGrant>(DatabaseGrantSchema, { databaseId: { $in: ids } }) : [];
  const userIds = [...new Set(grants.map((g) => g.userId))];
  const users = userIds.length ? await req.em.find<DatabaseUser>(DatabaseUserSchema, { id: { $in: userIds } }) : [];
  const userName = new Map(users.map((u) => [u.id, u.name]));
  return dbs.map((d) => {
    const server = servers.get(d.serverId)!;
    return {
      id: d.id, tenantId: d.tenantId, serverId: d.serverId, name: d.name, status: d.status,
      sizeBytes: d.sizeBytes == null ? null : Number(d.sizeBytes), sizeCheckedAt: iso(d.sizeCheckedAt), createdAt: iso(d.createdAt)!,
      connection: connectionView(server, d.name),
      grants: grants.filter((g) => g.databaseId === d.id && userName.has(g.userId)).map((g) => ({ userId: g.userId, user: userName.get(g.userId)!, privilege: g.privilege })),
    };
  });
}

async function findDatabase(req: PluginRequest<any, any, any>, id: string): Promise<ProvisionedDatabase> {
  // The tenant filter hides other tenants' databases: a guessed id is "not found".
  const db = await req.em.findOne<ProvisionedDatabase>(ProvisionedDatabaseSchema, { id });
  if (!db) throw new ProblemError('not-found', `No database ${id}`, { status: 404 });
  return db;
}

export function registerDatabaseRoutes(ctx: PluginContext<DatabaseSettings>, runner: SagaRunner): void {
  ctx.routes.add<{}, { tenantId?: string }>({
    method: 'GET',
    path: '/databases',
    summary: 'Databases of the tenants you can see (or of one), with last measured sizes, grants and connection details.',
    permission: 'database.read',
    schema: {
      query: { type: 'object', additionalProperties: false, properties: { tenantId: { type: 'string', format: 'uuid' } } },
      response: { type: 'array', items: databaseSchema },
    },
    handler: async (req) => {
      const where = req.query.tenantId ? { tenantId: req.query.tenantId } : {};
      const dbs = await req.em.find<ProvisionedDatabase>(ProvisionedDatabaseSchema, where, { orderBy: { name: 'asc' }, limit: 1000 });
      return databaseViews(ctx, req, dbs);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/databases/:id',
    summary: 'One database, with its size measured now.',
    permission: 'database.read',
    tenantScoped: true,
    schema: { params: uuidParams('id'), response: databaseSchema },
    handler: async (req) => {
      const db = await findDatabase(req, req.params.id);
      if (db.status === 'ready') {
        const driver = openDriver(await serverCredentials(ctx, db.serverId));
        try {
          const size = await driver.databaseSize(db.name);
          if (size !== null) {
            await ctx.db.em().execute(`update ${ctx.db.schema}.provisioned_database set size_bytes = ?, size_checked_at = now() where id = ?`, [size, db.id]);
            db.sizeBytes = size;
            db.sizeCheckedAt = new Date();
          }
        } catch (err) {
          req.log.warn({ err, database: db.name }, 'could not measure the database size');
        } finally {
          await driver.close();
        }
      }
      return (await databaseViews(ctx, req, [db]))[0];
    },
  });

  ctx.routes.add<{}, {}, { name: string; serverId?: string; engine?: Engine; tenantId?: string; owner?: string }>({
    method: 'POST',
    path: '/databases',
    summary: 'Create a database named <prefix>_<something>, optionally with an owner user (its password is shown once). Send Idempotency-Key to retry safely.',
    permission: 'database.manage',
    audit: 'database.database.create',
    // The saga commits each step itself; a route transaction would only hold a connection meanwhile.
    transaction: false,
    status: 201,
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['name'],
        properties: { name: looseName, owner: looseName, serverId: { type: 'string', format: 'uuid' }, engine: { enum: [...ENGINES] }, tenantId: { type: 'string', format: 'uuid' } },
      },
      response: { type: 'object', required: ['database'], properties: { database: databaseSchema, owner: { ...credentialsSchema, properties: { ...credentialsSchema.properties, id: { type: 'string' } } } } },
    },
    handler: async (req) => {
      const tenant = await actingTenant(ctx, req, req.body.tenantId, 'database.manage');
      const server = await chooseServer(ctx, req.body.serverId, req.body.engine);
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      req.audit.details = { name: req.body.name, server: server.name, owner: req.body.owner ?? null };
      const result = (await createDatabase(ctx, runner, req, { tenant, server, name: req.body.name, owner: req.body.owner })) as { database: { id: string } };
      req.audit.target = `database:${result.database.id}`;
      return result;
    },
  });

  ctx.routes.add<{ id: string }, { confirm?: string }>({
    method: 'DELETE',
    path: '/databases/:id',
    summary: 'Drop a database and everything in it. Needs ?confirm=<database name>.',
    permission: 'database.manage',
    audit: 'database.database.delete',
    // The saga commits each step itself; a route transaction would only hold a connection meanwhile.
    transaction: false,
    tenantScoped: true,
    schema: { params: uuidParams('id'), query: { type: 'object', additionalProperties: false, properties: { confirm: { type: 'string', maxLength: 200 } } } },
    handler: async (req) => {
      const db = await findDatabase(req, req.params.id);
      const tenant = await owningTenant(ctx, req, db.tenantId, 'database.manage');
      req.audit.target = `database:${db.id}`;
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      req.audit.details = { name: db.name };
      if (req.query.confirm !== db.name) {
        throw new ProblemError('confirmation-required', `Type the database name (${db.name}) to confirm: this drops all its data`, { status: 422, extensions: { field: 'confirm' } });
      }
      await serverById(ctx, db.serverId);
      await deleteDatabase(ctx, runner, req, tenant, db);
      return undefined;
    },
  });
}
