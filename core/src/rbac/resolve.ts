import type { Em } from '../db/orm.js';
import { Authorization, type Grant } from './authorization.js';

interface GrantRow {
  tenant_id: string;
  path: string;
  permissions: string[] | string;
}

/** Loads a user's role bindings into an Authorization and the ids of every tenant it can see. */
export async function resolveAuthorization(
  em: Em,
  userId: string,
  tokenScope?: string[],
): Promise<{ authz: Authorization; visibleTenantIds: string[] }> {
  const rows = await em.execute<GrantRow[]>(
    `select rb.tenant_id, t.path, r.permissions
       from role_binding rb join role r on r.id = rb.role_id join tenant t on t.id = rb.tenant_id
      where rb.user_id = ?`,
    [userId],
  );
  const byTenant = new Map<string, Grant & { permissions: Set<string> }>();
  for (const row of rows) {
    const perms = typeof row.permissions === 'string' ? (JSON.parse(row.permissions) as string[]) : row.permissions;
    const g = byTenant.get(row.tenant_id) ?? { tenantId: row.tenant_id, tenantPath: row.path, permissions: new Set<string>() };
    for (const p of perms) g.permissions.add(p);
    byTenant.set(row.tenant_id, g);
  }
  const authz = new Authorization([...byTenant.values()], tokenScope ? new Set(tokenScope) : undefined);
  const roots = authz.visibleRoots();
  const visibleTenantIds = roots.length === 0 ? [] : await visibleTenants(em, roots);
  return { authz, visibleTenantIds };
}

export async function visibleTenants(em: Em, roots: string[]): Promise<string[]> {
  const rows = await em.execute<Array<{ id: string }>>(
    `select id from tenant where ${roots.map(() => 'path like ?').join(' or ')}`,
    roots.map((r) => `${r}%`),
  );
  return rows.map((r) => r.id);
}
