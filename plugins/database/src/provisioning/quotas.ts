import { ProblemError, type PluginContext, type PluginEntityManager, type TenantInfo } from '@mpanel/sdk';

/** Quota keys in core's tenant `quotas` map. */
export const QUOTA_KEYS = { databases: 'database.databases', users: 'database.users', sizeMb: 'database.size-mb' } as const;
export type QuotaName = keyof typeof QUOTA_KEYS;

/** Class id of our advisory locks (the first int of the two-int form), so they don't collide with others'. */
const LOCK_CLASS = 0x6d_64_62; // "mdb"

/** The tenant and its ancestors, root first (from the materialised path). */
export async function tenantChain(ctx: PluginContext<any>, tenant: TenantInfo): Promise<TenantInfo[]> {
  const ids = tenant.path.split('/').filter(Boolean);
  const chain: TenantInfo[] = [];
  for (const id of ids) {
    const t = id === tenant.id ? tenant : await ctx.tenants.get(id);
    if (t) chain.push(t);
  }
  return chain;
}

/**
 * The limit that applies to a tenant: the nearest tenant on its chain (itself
 * first) that sets the key. Null: unlimited. The check, though, holds the
 * subtree's usage against every ancestor that sets it (see checkQuota).
 */
export function effectiveLimit(chain: TenantInfo[], key: string): number | null {
  for (const t of [...chain].reverse()) {
    const v = t.quotas?.[key];
    if (typeof v === 'number') return v;
  }
  return null;
}

export interface Usage {
  databases: number;
  users: number;
  sizeBytes: number;
}

/** Usage of a whole subtree (provisioning and deleting objects count: they hold their place). */
export async function subtreeUsage(em: PluginEntityManager, schema: string, tenantPath: string): Promise<Usage> {
  const like = `${tenantPath.replace(/[\\%_]/g, '\\$&')}%`;
  const dbs = await em.execute<Array<{ n: string; size: string | null }>>(
    `select count(*)::text as n, coalesce(sum(d.size_bytes), 0)::text as size from ${schema}.provisioned_database d
       join public.tenant t on t.id = d.tenant_id where t.path like ?`,
    [like],
  );
  const users = await em.execute<Array<{ n: string }>>(
    `select count(*)::text as n from ${schema}.database_user u join public.tenant t on t.id = u.tenant_id where t.path like ?`,
    [like],
  );
  return { databases: Number(dbs[0]?.n ?? 0), users: Number(users[0]?.n ?? 0), sizeBytes: Number(dbs[0]?.size ?? 0) };
}

/**
 * Serialises quota checks: locks (transaction-scoped) every tenant on the
 * chain that sets one of our quotas, plus the tenant itself, root first so
 * two requests never wait on each other in opposite order. Two customers
 * under a reseller with a limit both take the reseller's lock.
 */
export async function lockChain(em: PluginEntityManager, chain: TenantInfo[]): Promise<void> {
  const self = chain[chain.length - 1]!;
  const keys = Object.values(QUOTA_KEYS) as string[];
  for (const t of chain) {
    if (t !== self && !keys.some((k) => typeof t.quotas?.[k] === 'number')) continue;
    await em.execute('select pg_advisory_xact_lock(?, hashtext(?))', [LOCK_CLASS, `database:${t.id}`]);
  }
}

/**
 * Refuses to add `adding` objects if that would take the subtree of any
 * tenant on the chain that sets the quota past its limit. For size (which
 * grows by itself) a new database is refused once the measured size reached
 * the limit. Call with the chain locked.
 */
export async function checkQuota(em: PluginEntityManager, schema: string, chain: TenantInfo[], quota: QuotaName, adding: number): Promise<void> {
  const key = QUOTA_KEYS[quota];
  for (const t of chain) {
    const limit = t.quotas?.[key];
    if (typeof limit !== 'number') continue;
    const usage = await subtreeUsage(em, schema, t.path);
    const used = quota === 'databases' ? usage.databases : quota === 'users' ? usage.users : usage.sizeBytes / (1024 * 1024);
    const over = quota === 'sizeMb' ? used >= limit : used + adding > limit;
    if (over) {
      const whose = t === chain[chain.length - 1] ? 'your' : `the ${t.kind} "${t.name}"'s`;
      throw new ProblemError('quota-exceeded', `Quota "${key}" of ${whose} account is ${limit}; ${Math.round(used)} in use`, {
        status: 409, extensions: { quota: key, limit, used: Math.round(used), tenantId: t.id },
      });
    }
  }
}
