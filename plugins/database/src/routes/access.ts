import { ProblemError, type PluginContext, type PluginRequest, type TenantInfo } from '@mpanel/sdk';
import type { Engine } from '../entities/server.js';
import type { ServerInfo } from '../provisioning/operations.js';
import type { ServerRow } from './views.js';

/**
 * The tenant a request acts for: the caller's own, or (for resellers and
 * admins) one in their subtree. Invisible tenants are "not found", visible
 * ones the caller may not manage are "forbidden".
 */
export async function actingTenant(ctx: PluginContext<any>, req: PluginRequest<any, any, any>, tenantId: string | undefined, permission: string): Promise<TenantInfo> {
  const id = tenantId ?? req.actor.tenantId;
  if (!id) throw new ProblemError('forbidden', 'This caller belongs to no tenant', { status: 403 });
  const tenant = req.visibleTenantIds.includes(id) ? await ctx.tenants.get(id) : null;
  if (!tenant) throw new ProblemError('not-found', `No tenant ${id}`, { status: 404 });
  if (!req.can(permission, tenant.path)) throw new ProblemError('forbidden', `You may not manage databases of tenant ${tenant.name}`, { status: 403 });
  return tenant;
}

/** The tenant owning an object the caller found through the tenant filter; checks the permission on it. */
export async function owningTenant(ctx: PluginContext<any>, req: PluginRequest<any, any, any>, tenantId: string, permission: string): Promise<TenantInfo> {
  const tenant = await ctx.tenants.get(tenantId);
  if (!tenant || !req.visibleTenantIds.includes(tenantId)) throw new ProblemError('not-found', 'Not found', { status: 404 });
  if (!req.can(permission, tenant.path)) throw new ProblemError('forbidden', `You may not manage databases of tenant ${tenant.name}`, { status: 403 });
  return tenant;
}

export async function serverRows(ctx: PluginContext<any>): Promise<ServerRow[]> {
  return ctx.db.em().execute<ServerRow[]>(`select id, name, engine, host, port, public_host, admin_user, is_default, created_at from ${ctx.db.schema}.server order by name`);
}

export function serverInfo(row: ServerRow): ServerInfo {
  return { id: row.id, name: row.name, engine: row.engine, host: row.public_host ?? row.host, port: Number(row.port) };
}

export async function serverById(ctx: PluginContext<any>, id: string): Promise<ServerInfo> {
  const row = (await serverRows(ctx)).find((r) => r.id === id);
  if (!row) throw new ProblemError('not-found', `No database server ${id}`, { status: 404 });
  return serverInfo(row);
}

/** The server a new object goes to: the one named, else the default (or only) server of the engine. */
export async function chooseServer(ctx: PluginContext<any>, serverId: string | undefined, engine: Engine | undefined): Promise<ServerInfo> {
  const rows = await serverRows(ctx);
  if (serverId) {
    const row = rows.find((r) => r.id === serverId);
    if (!row) throw new ProblemError('not-found', `No database server ${serverId}`, { status: 404, extensions: { field: 'serverId' } });
    if (engine && row.engine !== engine) throw new ProblemError('validation-failed', `Server ${row.name} runs ${row.engine}, not ${engine}`, { status: 422, extensions: { field: 'engine' } });
    return serverInfo(row);
  }
  const candidates = rows.filter((r) => !engine || r.engine === engine);
  const chosen = candidates.find((r) => r.is_default) ?? (candidates.length === 1 ? candidates[0] : undefined);
  if (!chosen) {
    throw new ProblemError('no-server', candidates.length ? 'Several database servers fit: give serverId' : `No ${engine ?? ''} database server is registered`.replace('  ', ' '), { status: 422, extensions: { field: 'serverId' } });
  }
  return serverInfo(chosen);
}

export const uuidParams = (...names: string[]) => ({
  type: 'object',
  required: names,
  properties: Object.fromEntries(names.map((n) => [n, { type: 'string', format: 'uuid' }])),
});
