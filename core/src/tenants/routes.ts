import { randomUUID } from 'node:crypto';
import type { Kernel } from '../kernel.js';
import type { Em } from '../db/orm.js';
import { ProblemError } from '../errors/problem.js';
import { Tenant, TENANT_KINDS, type TenantKind } from '../db/entities/index.js';
import { idParams, name as nameSchema, pageOf, pageQuery, uuid, dateTime } from '../http/common-schemas.js';
import { afterCursor, decodeCursor, page } from '../http/pagination.js';
import type { RouteContext } from '../http/route-registry.js';

/** Which kinds of tenant may sit below which. */
const ALLOWED_CHILDREN: Record<TenantKind, TenantKind[]> = {
  platform: ['reseller', 'customer'],
  reseller: ['reseller', 'customer'],
  customer: [],
};

const quotasSchema = {
  type: 'object',
  maxProperties: 50,
  propertyNames: { pattern: '^[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)*$', maxLength: 100 },
  additionalProperties: { type: 'integer', minimum: 0, maximum: 1_000_000_000 },
};

const brandingSchema = {
  type: 'object',
  properties: {
    productName: { type: 'string', minLength: 1, maxLength: 100 },
    logoUrl: { type: 'string', maxLength: 2000, pattern: '^(https?://|/)' },
    primaryColor: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' },
    accentColor: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' },
    domain: { type: 'string', maxLength: 253, pattern: '^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$' },
  },
};

export const tenantView = {
  type: 'object',
  required: ['id', 'parentId', 'path', 'kind', 'name', 'quotas', 'branding', 'createdAt'],
  properties: {
    id: uuid, parentId: { type: ['string', 'null'] }, path: { type: 'string' }, kind: { enum: [...TENANT_KINDS] },
    name: { type: 'string' }, quotas: { type: 'object', additionalProperties: { type: 'integer' } },
    branding: { type: 'object', additionalProperties: { type: 'string' } }, createdAt: dateTime,
  },
};

export function toTenantView(t: Tenant) {
  return {
    id: t.id, parentId: t.parentId ?? null, path: t.path, kind: t.kind, name: t.name,
    quotas: t.quotas ?? {}, branding: t.branding ?? {}, createdAt: new Date(t.createdAt).toISOString(),
  };
}

/**
 * Quotas can't be oversold: for every quota the parent sets, the children's
 * values for it add up to at most the parent's.
 */
async function checkQuotas(em: Em, parent: Tenant, quotas: Record<string, number>, excludeChildId?: string): Promise<void> {
  const siblings = await em.find(Tenant, { parentId: parent.id, ...(excludeChildId ? { id: { $ne: excludeChildId } } : {}) }, { filters: { tenant: { all: true } } });
  for (const [key, value] of Object.entries(quotas)) {
    const limit = parent.quotas?.[key];
    if (limit === undefined) continue;
    const used = siblings.reduce((sum, s) => sum + (s.quotas?.[key] ?? 0), 0);
    if (used + value > limit) {
      throw new ProblemError('quota-exceeded', `Quota "${key}": the parent has ${limit}, children already hold ${used}, so at most ${Math.max(0, limit - used)} is left`, { quota: key, limit, used });
    }
  }
}

export function registerTenantRoutes(k: Kernel): void {
  k.routes.register({
    method: 'GET',
    path: '/api/v1/tenants',
    summary: 'Tenants in your subtree (optionally the children of one tenant).',
    tags: ['tenants'],
    permission: 'tenant.read',
    schema: {
      query: { type: 'object', properties: { ...(pageQuery.properties as object), parentId: uuid, kind: { enum: [...TENANT_KINDS] } } },
      response: pageOf(tenantView),
    },
    handler: async (ctx: RouteContext<{}, { limit: number; cursor?: string; parentId?: string; kind?: TenantKind }>) => {
      const { limit, parentId, kind } = ctx.query;
      const rows = await ctx.em.find(
        Tenant,
        { ...(parentId ? { parentId } : {}), ...(kind ? { kind } : {}), ...afterCursor(decodeCursor(ctx.query.cursor)) },
        { orderBy: { createdAt: 'asc', id: 'asc' }, limit: limit + 1 },
      );
      return page(rows, limit, toTenantView);
    },
  });

  k.routes.register({
    method: 'GET',
    path: '/api/v1/tenants/:id',
    summary: 'One tenant.',
    tags: ['tenants'],
    permission: 'tenant.read',
    tenantScoped: true,
    schema: { params: idParams, response: tenantView },
    handler: async (ctx) => {
      const t = await ctx.em.findOne(Tenant, { id: ctx.params.id });
      if (!t) throw new ProblemError('not-found', `No tenant ${ctx.params.id} in your subtree`);
      return toTenantView(t);
    },
  });

  k.routes.register({
    method: 'POST',
    path: '/api/v1/tenants',
    summary: 'Create a reseller or customer below a tenant you manage.',
    tags: ['tenants'],
    permission: 'tenant.create',
    audit: 'tenant.create',
    status: 201,
    schema: {
      body: {
        type: 'object',
        required: ['parentId', 'kind', 'name'],
        properties: { parentId: uuid, kind: { enum: ['reseller', 'customer'] }, name: nameSchema, quotas: quotasSchema, branding: brandingSchema },
      },
      response: tenantView,
    },
    handler: async (ctx: RouteContext<{}, {}, { parentId: string; kind: TenantKind; name: string; quotas?: Record<string, number>; branding?: Record<string, string> }>) => {
      const parent = await ctx.em.findOne(Tenant, { id: ctx.body.parentId });
      if (!parent) throw new ProblemError('not-found', `No tenant ${ctx.body.parentId} in your subtree`);
      if (!ctx.authz.hasOn('tenant.create', parent.path)) throw new ProblemError('forbidden', 'You may not create tenants below this one');
      if (!ALLOWED_CHILDREN[parent.kind].includes(ctx.body.kind)) {
        throw new ProblemError('validation-failed', `A ${parent.kind} cannot have a ${ctx.body.kind} below it`, { errors: [{ pointer: '/body/kind', message: `must be one of: ${ALLOWED_CHILDREN[parent.kind].join(', ') || 'none'}` }] });
      }
      const quotas = ctx.body.quotas ?? {};
      await ctx.em.execute('select id from tenant where id = ? for update', [parent.id]);
      await checkQuotas(ctx.em, parent, quotas);
      const id = randomUUID();
      const t = ctx.em.create(Tenant, { id, parentId: parent.id, path: `${parent.path}${id}/`, kind: ctx.body.kind, name: ctx.body.name, quotas, branding: ctx.body.branding ?? {}, createdAt: new Date(k.now()) });
      // The new tenant is not in this request's visible set yet: flush through an unscoped fork.
      const em = ctx.unscopedEm();
      em.persist(t);
      await em.flush();
      ctx.audit.target = `tenant:${id}`;
      ctx.audit.tenantId = id;
      ctx.audit.tenantPath = t.path;
      ctx.audit.details = { name: t.name, kind: t.kind, parentId: parent.id };
      await ctx.publish('tenant.created', { id, name: t.name, kind: t.kind, parentId: parent.id }, { tenantId: id, tenantPath: t.path, permission: 'tenant.read' });
      // Every cached visible-tenant list of ancestors' users is now short by one.
      k.authenticator.invalidateAll();
      // Again after commit: a request racing the transaction may have re-cached the old state.
      ctx.afterCommit(() => k.authenticator.invalidateAll());
      return toTenantView(t);
    },
  });

  k.routes.register({
    method: 'PATCH',
    path: '/api/v1/tenants/:id',
    summary: 'Rename a tenant, change its branding, or (from above it) its quotas.',
    tags: ['tenants'],
    permission: 'tenant.update',
    audit: 'tenant.update',
    tenantScoped: true,
    schema: {
      params: idParams,
      body: { type: 'object', minProperties: 1, properties: { name: nameSchema, quotas: quotasSchema, branding: brandingSchema } },
      response: tenantView,
    },
    handler: async (ctx: RouteContext<{ id: string }, {}, { name?: string; quotas?: Record<string, number>; branding?: Record<string, string> }>) => {
      const t = await ctx.em.findOne(Tenant, { id: ctx.params.id });
      if (!t) throw new ProblemError('not-found', `No tenant ${ctx.params.id} in your subtree`);
      if (!ctx.authz.hasOn('tenant.update', t.path)) throw new ProblemError('forbidden', 'You may not change this tenant');
      ctx.audit.target = `tenant:${t.id}`;
      ctx.audit.tenantId = t.id;
      ctx.audit.tenantPath = t.path;
      const changes: Record<string, unknown> = {};
      if (ctx.body.quotas) {
        // Quotas are set from above: holding tenant.update only on the tenant itself is not enough.
        const parentPath = t.path.slice(0, t.path.slice(0, -1).lastIndexOf('/') + 1);
        if (!t.parentId || !ctx.authz.hasOn('tenant.update', parentPath)) {
          throw new ProblemError('forbidden', 'Quotas of a tenant are set by whoever manages its parent');
        }
        const parent = await ctx.unscopedEm().findOne(Tenant, { id: t.parentId });
        await ctx.em.execute('select id from tenant where id = ? for update', [t.parentId]);
        await checkQuotas(ctx.em, parent!, ctx.body.quotas, t.id);
        const children = await ctx.em.find(Tenant, { parentId: t.id });
        for (const [key, value] of Object.entries(ctx.body.quotas)) {
          const used = children.reduce((s, c) => s + (c.quotas?.[key] ?? 0), 0);
          if (used > value) throw new ProblemError('quota-exceeded', `Quota "${key}": children already hold ${used}, more than ${value}`, { quota: key, limit: value, used });
        }
        changes.quotas = { from: t.quotas, to: ctx.body.quotas };
        t.quotas = ctx.body.quotas;
      }
      if (ctx.body.name !== undefined) {
        changes.name = { from: t.name, to: ctx.body.name };
        t.name = ctx.body.name;
      }
      if (ctx.body.branding) {
        changes.branding = { from: t.branding, to: ctx.body.branding };
        t.branding = ctx.body.branding;
      }
      await ctx.em.flush();
      ctx.audit.details = changes;
      await ctx.publish('tenant.updated', { id: t.id, changes: Object.keys(changes) }, { tenantId: t.id, tenantPath: t.path, permission: 'tenant.read' });
      return toTenantView(t);
    },
  });
}
