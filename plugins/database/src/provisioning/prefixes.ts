import { ProblemError, type PluginEntityManager, type TenantInfo } from '@mpanel/sdk';
import { prefixFromName } from './names.js';

/**
 * A tenant's name prefix: assigned on first use from its name (made unique
 * with a number), or set by an admin before anything is provisioned.
 */
export async function ensurePrefix(em: PluginEntityManager, schema: string, tenant: TenantInfo): Promise<string> {
  const existing = await em.execute<Array<{ prefix: string }>>(`select prefix from ${schema}.tenant_prefix where tenant_id = ?`, [tenant.id]);
  if (existing[0]) return existing[0].prefix;
  const base = prefixFromName(tenant.name);
  for (let i = 0; i < 1000; i++) {
    const candidate = i === 0 ? base : `${base.slice(0, 12)}${i + 1}`;
    const inserted = await em.execute<Array<{ prefix: string }>>(
      `insert into ${schema}.tenant_prefix (tenant_id, prefix) values (?, ?) on conflict do nothing returning prefix`,
      [tenant.id, candidate],
    );
    if (inserted[0]) return inserted[0].prefix;
    const again = await em.execute<Array<{ prefix: string }>>(`select prefix from ${schema}.tenant_prefix where tenant_id = ?`, [tenant.id]);
    if (again[0]) return again[0].prefix; // someone assigned it concurrently
  }
  throw new ProblemError('conflict', 'Could not find a free name prefix for this tenant; ask an admin to set one', { status: 409 });
}
