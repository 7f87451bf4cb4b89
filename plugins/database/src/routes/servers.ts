import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { ENGINES, type Engine } from '../entities/server.js';
import { openDriver, type ServerCredentials } from '../provisioning/drivers/index.js';
import { serverCredentials } from '../provisioning/driver-pool.js';
import type { DatabaseSettings } from '../settings.js';
import { serverRows, uuidParams } from './access.js';
import { adminServerView, publicServerView, serverSchema } from './views.js';

const host = { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$' };
const serverFields = {
  name: { type: 'string', minLength: 1, maxLength: 100 },
  engine: { enum: [...ENGINES] },
  host,
  port: { type: 'integer', minimum: 1, maximum: 65535 },
  publicHost: { type: ['string', 'null'], minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:-]+$' },
  adminUser: { type: 'string', minLength: 1, maxLength: 80 },
  adminPassword: { type: 'string', maxLength: 1000 },
  isDefault: { type: 'boolean' },
};
const { engine: _engine, ...patchFields } = serverFields;

interface ServerBody {
  name: string;
  engine: Engine;
  host: string;
  port: number;
  publicHost?: string | null;
  adminUser: string;
  adminPassword?: string;
  isDefault?: boolean;
}

/** Connects with the credentials and returns the server's version, or throws a 422 that says why it failed. */
async function probe(creds: ServerCredentials): Promise<string> {
  const driver = openDriver(creds);
  try {
    return await driver.ping();
  } catch (err) {
    throw new ProblemError('server-unreachable', `Could not connect to ${creds.engine} at ${creds.host}:${creds.port} as ${creds.adminUser}: ${(err as Error).message}`, { status: 422 });
  } finally {
    await driver.close();
  }
}

/** Admins register the PostgreSQL and MariaDB servers databases are created on. */
export function registerServerRoutes(ctx: PluginContext<DatabaseSettings>): void {
  const s = ctx.db.schema;

  ctx.routes.add({
    method: 'GET',
    path: '/servers',
    summary: 'Database servers: where to connect (admins also see the admin side, never the password).',
    permission: 'database.read',
    schema: { response: { type: 'array', items: serverSchema } },
    handler: async (req) => {
      const admin = req.can('database.servers');
      return (await serverRows(ctx)).map((r) => (admin ? adminServerView(r) : publicServerView(r)));
    },
  });

  ctx.routes.add<{}, {}, ServerBody>({
    method: 'POST',
    path: '/servers',
    summary: 'Register a database server; its admin password is sealed at rest. The connection is tested first.',
    permission: 'database.servers',
    audit: 'database.server.create',
    status: 201,
    schema: {
      body: { type: 'object', additionalProperties: false, required: ['name', 'engine', 'host', 'port', 'adminUser'], properties: serverFields },
      response: serverSchema,
    },
    handler: async (req) => {
      const b = req.body;
      const version = await probe({ engine: b.engine, host: b.host, port: b.port, adminUser: b.adminUser, adminPassword: b.adminPassword ?? '' });
      const id = randomUUID();
      const dup = await req.em.execute<unknown[]>(`select 1 from ${s}.server where name = ?`, [b.name]);
      if (dup.length) throw new ProblemError('conflict', `A server named ${b.name} exists`, { status: 409, extensions: { field: 'name' } });
      if (b.isDefault) await req.em.execute(`update ${s}.server set is_default = false where engine = ?`, [b.engine]);
      await req.em.execute(
        `insert into ${s}.server (id, name, engine, host, port, public_host, admin_user, admin_password_sealed, is_default) values (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, b.name, b.engine, b.host, b.port, b.publicHost ?? null, b.adminUser, ctx.secrets.seal(b.adminPassword ?? ''), !!b.isDefault],
      );
      req.audit.target = `database-server:${id}`;
      req.audit.details = { name: b.name, engine: b.engine, host: b.host, port: b.port, version };
      const rows = await req.em.execute<any[]>(`select id, name, engine, host, port, public_host, admin_user, is_default, created_at from ${s}.server where id = ?`, [id]);
      return adminServerView(rows[0]);
    },
  });

  ctx.routes.add<{ id: string }, {}, Partial<ServerBody>>({
    method: 'PATCH',
    path: '/servers/:id',
    summary: 'Change a server (the new connection is tested before it is saved).',
    permission: 'database.servers',
    audit: 'database.server.update',
    schema: {
      params: uuidParams('id'),
      body: { type: 'object', additionalProperties: false, minProperties: 1, properties: patchFields },
      response: serverSchema,
    },
    handler: async (req) => {
      const current = (await serverRows(ctx)).find((r) => r.id === req.params.id);
      if (!current) throw new ProblemError('not-found', `No database server ${req.params.id}`, { status: 404 });
      const old = await serverCredentials(ctx, current.id);
      const b = req.body;
      const next = { engine: current.engine, host: b.host ?? current.host, port: b.port ?? Number(current.port), adminUser: b.adminUser ?? current.admin_user, adminPassword: b.adminPassword ?? old.adminPassword };
      if (b.host !== undefined || b.port !== undefined || b.adminUser !== undefined || b.adminPassword !== undefined) await probe(next);
      if (b.isDefault) await req.em.execute(`update ${s}.server set is_default = false where engine = ?`, [current.engine]);
      await req.em.execute(
        `update ${s}.server set name = ?, host = ?, port = ?, public_host = ?, admin_user = ?, admin_password_sealed = ?, is_default = ?, updated_at = now() where id = ?`,
        [b.name ?? current.name, next.host, next.port, b.publicHost === undefined ? current.public_host : b.publicHost, next.adminUser, ctx.secrets.seal(next.adminPassword), b.isDefault ?? current.is_default, current.id],
      );
      req.audit.target = `database-server:${current.id}`;
      req.audit.details = { changed: Object.keys(b).filter((k) => k !== 'adminPassword').concat(b.adminPassword !== undefined ? ['adminPassword'] : []) };
      const rows = await req.em.execute<any[]>(`select id, name, engine, host, port, public_host, admin_user, is_default, created_at from ${s}.server where id = ?`, [current.id]);
      return adminServerView(rows[0]);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'POST',
    path: '/servers/:id/test',
    summary: 'Test the connection to a registered server.',
    permission: 'database.servers',
    audit: 'database.server.test',
    schema: { params: uuidParams('id'), response: { type: 'object', required: ['ok', 'version'], properties: { ok: { type: 'boolean' }, version: { type: 'string' } } } },
    handler: async (req) => {
      req.audit.target = `database-server:${req.params.id}`;
      const version = await probe(await serverCredentials(ctx, req.params.id));
      return { ok: true, version };
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'DELETE',
    path: '/servers/:id',
    summary: 'Forget a server that holds no databases or users of the panel (nothing on the server is touched).',
    permission: 'database.servers',
    audit: 'database.server.delete',
    schema: { params: uuidParams('id') },
    handler: async (req) => {
      const inUse = await req.em.execute<Array<{ n: string }>>(
        `select ((select count(*) from ${s}.provisioned_database where server_id = ?) + (select count(*) from ${s}.database_user where server_id = ?))::text as n`,
        [req.params.id, req.params.id],
      );
      if (Number(inUse[0]?.n) > 0) throw new ProblemError('server-in-use', 'The server still holds databases or users of this panel; delete them first', { status: 409 });
      const gone = await req.em.execute<unknown[]>(`delete from ${s}.server where id = ? returning id`, [req.params.id]);
      if (!gone.length) throw new ProblemError('not-found', `No database server ${req.params.id}`, { status: 404 });
      req.audit.target = `database-server:${req.params.id}`;
      return undefined;
    },
  });
}
