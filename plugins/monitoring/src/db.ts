import { ProblemError, type PluginEntityManager, type PluginRequest } from '@mpanel/sdk';

/** The plugin's schema; raw SQL qualifies its tables with it. */
export const S = 'plugin_monitoring';

export type Row = Record<string, any>;

export function rows<T = Row>(em: PluginEntityManager, sql: string, params: unknown[] = []): Promise<T[]> {
  return em.execute<T[]>(sql, params);
}

/** A PostgreSQL array literal of uuids (validated), for `= any(?::uuid[])`: the ORM's `?` formatting has no array binding. */
export function uuidArray(ids: readonly string[]): string {
  for (const id of ids) if (!UUID.test(id)) throw new Error(`not a uuid: ${id}`);
  return `{${ids.join(',')}}`;
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const uuidSchema = { type: 'string', format: 'uuid' } as const;
export const idParams = { type: 'object', required: ['id'], properties: { id: uuidSchema } } as const;

/** Needs `permission` on the object's tenant, not just somewhere. */
export function assertCan(req: PluginRequest<any, any, any>, permission: string, tenantPath: string): void {
  if (!req.can(permission, tenantPath)) {
    throw new ProblemError('forbidden', `This needs the permission "${permission}" on the agent's tenant`, { status: 403, extensions: { permission } });
  }
}

/** An agent the caller can see, or 404. */
export async function visibleAgent(req: PluginRequest<any, any, any>, id: string): Promise<Row> {
  const [a] = await rows(req.em, `select * from ${S}.agent where id = ? and tenant_id = any(?::uuid[])`, [id, uuidArray(req.visibleTenantIds)]);
  if (!a) throw new ProblemError('not-found', `No agent ${id}`, { status: 404 });
  return a;
}

/** The tenant a new object belongs to: the caller's own, or one it can see. */
export async function targetTenant(req: PluginRequest<any, any, any>, ctxTenants: { get(id: string): Promise<{ id: string; path: string } | null> }, tenantId?: string): Promise<{ id: string; path: string }> {
  const id = tenantId ?? req.actor.tenantId;
  if (!id) throw new ProblemError('tenant-required', 'Name the tenant (tenantId)', { status: 422 });
  if (!req.visibleTenantIds.includes(id)) throw new ProblemError('not-found', `No tenant ${id}`, { status: 404 });
  const t = await ctxTenants.get(id);
  if (!t) throw new ProblemError('not-found', `No tenant ${id}`, { status: 404 });
  return { id: t.id, path: t.path };
}

export const iso = (d: unknown): string | null => (d ? new Date(d as string).toISOString() : null);
