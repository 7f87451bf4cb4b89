import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { validatePrefix } from '../provisioning/names.js';
import { ensurePrefix } from '../provisioning/prefixes.js';
import { QUOTA_KEYS, effectiveLimit, subtreeUsage, tenantChain } from '../provisioning/quotas.js';
import type { DatabaseSettings } from '../settings.js';
import { uuidParams } from './access.js';

const usageSchema = {
  type: 'object', required: ['tenantId', 'prefix', 'limits', 'usage'],
  properties: {
    tenantId: { type: 'string' }, prefix: { type: 'string' },
    limits: { type: 'object', properties: { databases: { type: ['integer', 'null'] }, users: { type: ['integer', 'null'] }, sizeMb: { type: ['integer', 'null'] } } },
    usage: { type: 'object', properties: { databases: { type: 'integer' }, users: { type: 'integer' }, sizeMb: { type: 'number' } } },
  },
};

/** A tenant's name prefix and quota usage; admins set prefixes. */
export function registerTenantRoutes(ctx: PluginContext<DatabaseSettings>): void {
  const s = ctx.db.schema;

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/tenants/:id/usage',
    summary: 'The tenant\'s name prefix, its effective limits (nearest tenant above that sets each) and its subtree\'s usage.',
    permission: 'database.read',
    tenantScoped: true,
    schema: { params: uuidParams('id'), response: usageSchema },
    handler: async (req) => {
      const tenant = req.visibleTenantIds.includes(req.params.id) ? await ctx.tenants.get(req.params.id) : null;
      if (!tenant) throw new ProblemError('not-found', `No tenant ${req.params.id}`, { status: 404 });
      const chain = await tenantChain(ctx, tenant);
      const em = ctx.db.em();
      const prefix = await ensurePrefix(em, s, tenant);
      const usage = await subtreeUsage(em, s, tenant.path);
      return {
        tenantId: tenant.id,
        prefix,
        limits: { databases: effectiveLimit(chain, QUOTA_KEYS.databases), users: effectiveLimit(chain, QUOTA_KEYS.users), sizeMb: effectiveLimit(chain, QUOTA_KEYS.sizeMb) },
        usage: { databases: usage.databases, users: usage.users, sizeMb: Math.round((usage.sizeBytes / (1024 * 1024)) * 100) / 100 },
      };
    },
  });

  ctx.routes.add<{ id: string }, {}, { prefix: string }>({
    method: 'PUT',
    path: '/tenants/:id/prefix',
    summary: 'Set the tenant\'s name prefix (only while it has no databases or users).',
    permission: 'database.servers',
    audit: 'database.prefix.set',
    tenantScoped: true,
    schema: {
      params: uuidParams('id'),
      body: { type: 'object', additionalProperties: false, required: ['prefix'], properties: { prefix: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: { type: 'object', required: ['tenantId', 'prefix'], properties: { tenantId: { type: 'string' }, prefix: { type: 'string' } } },
    },
    handler: async (req) => {
      const tenant = req.visibleTenantIds.includes(req.params.id) ? await ctx.tenants.get(req.params.id) : null;
      if (!tenant) throw new ProblemError('not-found', `No tenant ${req.params.id}`, { status: 404 });
      if (!req.can('database.servers', tenant.path)) throw new ProblemError('forbidden', 'You may not set this tenant\'s prefix', { status: 403 });
      const prefix = validatePrefix(req.body.prefix);
      req.audit.target = `tenant:${tenant.id}`;
      req.audit.tenantId = tenant.id;
      req.audit.tenantPath = tenant.path;
      req.audit.details = { prefix };
      const owned = await req.em.execute<Array<{ n: string }>>(
        `select ((select count(*) from ${s}.provisioned_database where tenant_id = ?) + (select count(*) from ${s}.database_user where tenant_id = ?))::text as n`,
        [tenant.id, tenant.id],
      );
      if (Number(owned[0]?.n) > 0) throw new ProblemError('conflict', 'The tenant already has databases or users named with its current prefix', { status: 409 });
      const taken = await req.em.execute<unknown[]>(`select 1 from ${s}.tenant_prefix where prefix = ? and tenant_id <> ?`, [prefix, tenant.id]);
      if (taken.length) throw new ProblemError('conflict', `The prefix ${prefix} belongs to another tenant`, { status: 409, extensions: { field: 'prefix' } });
      await req.em.execute(
        `insert into ${s}.tenant_prefix (tenant_id, prefix) values (?, ?) on conflict (tenant_id) do update set prefix = excluded.prefix`,
        [tenant.id, prefix],
      );
      return { tenantId: tenant.id, prefix };
    },
  });
}
