import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext, type PluginRequest } from '@mpanel/sdk';
import { EndpointSchema, Endpoint } from '../entities/endpoint.js';
import { DeliverySchema, Delivery } from '../entities/delivery.js';
import { EVENT_PATTERN } from '../delivery/event-filter.js';
import { newSecret } from '../delivery/signature.js';
import { checkEndpointUrl, MAX_URL_LENGTH } from '../delivery/url-policy.js';
import { deliveryBody, QUEUED_EVENT } from '../delivery/dispatcher.js';
import type { WebhooksSettings } from '../settings.js';
import { beforeCursor, decodeCursor, page, pageOf, pageQuery } from './pagination.js';
import { deliverySchema, deliveryView, endpointSchema, endpointView, endpointWithSecretSchema } from './views.js';

/** Endpoints one tenant may own (its subtree's endpoints are counted separately). */
export const MAX_ENDPOINTS_PER_TENANT = 50;

const uuid = { type: 'string', format: 'uuid' };
const idParams = { type: 'object', required: ['id'], properties: { id: uuid } };
const events = { type: 'array', minItems: 1, maxItems: 50, uniqueItems: true, items: { type: 'string', pattern: EVENT_PATTERN, maxLength: 200 } };
const url = { type: 'string', minLength: 1, maxLength: MAX_URL_LENGTH };
const description = { type: 'string', maxLength: 500 };

interface CreateBody { url: string; events?: string[]; description?: string; active?: boolean; tenantId?: string }
interface UpdateBody { url?: string; events?: string[]; description?: string; active?: boolean }

/** Finds a visible endpoint (tenant filter) or answers 404. */
export async function findEndpoint(req: PluginRequest<any, any, any>, id: string): Promise<Endpoint> {
  const e = await req.em.findOne<Endpoint>(EndpointSchema, { id });
  if (!e) throw new ProblemError('not-found', `No webhook endpoint ${id}`, { status: 404 });
  return e;
}

/** Writes need `webhooks.manage` on the endpoint's tenant, not just somewhere. */
export function assertManage(req: PluginRequest<any, any, any>, tenantPath: string): void {
  if (!req.can('webhooks.manage', tenantPath)) {
    throw new ProblemError('forbidden', 'This needs the permission "webhooks.manage" on the endpoint\'s tenant', { status: 403, extensions: { permission: 'webhooks.manage' } });
  }
}

function auditEndpoint(req: PluginRequest<any, any, any>, e: Endpoint, details?: Record<string, unknown>): void {
  req.audit.target = `webhook-endpoint:${e.id}`;
  req.audit.tenantId = e.tenantId;
  req.audit.tenantPath = e.tenantPath;
  if (details) req.audit.details = details;
}

/** The tenant a new endpoint belongs to: the caller's own, or one of its subtree. */
async function targetTenant(req: PluginRequest<any, any, CreateBody>): Promise<{ id: string; path: string }> {
  const id = req.body.tenantId ?? req.actor.tenantId;
  if (!id) throw new ProblemError('tenant-required', 'Name the tenant the endpoint belongs to (tenantId)', { status: 422 });
  if (id === req.actor.tenantId && req.actor.tenantPath) return { id, path: req.actor.tenantPath };
  if (!req.visibleTenantIds.includes(id)) throw new ProblemError('not-found', `No tenant ${id}`, { status: 404 });
  // SDK gap: no tenant lookup for plugins; core's tenant table is read directly.
  const rows = await req.em.execute<Array<{ path: string }>>('select path from public.tenant where id = ?', [id]);
  if (!rows[0]) throw new ProblemError('not-found', `No tenant ${id}`, { status: 404 });
  return { id, path: rows[0].path };
}

/** Endpoint CRUD, secret rotation and test pings under /api/v1/p/webhooks/endpoints. */
export function registerEndpointRoutes(ctx: PluginContext<WebhooksSettings>): void {
  ctx.routes.add<{}, { tenantId?: string; limit: number; cursor?: string }>({
    method: 'GET',
    path: '/endpoints',
    summary: 'Webhook endpoints of the tenants you can see, newest first.',
    permission: 'webhooks.read',
    schema: {
      query: { type: 'object', properties: { tenantId: uuid, ...pageQuery } },
      response: pageOf(endpointSchema),
    },
    handler: async (req) => {
      const where: Record<string, unknown> = { ...beforeCursor(decodeCursor(req.query.cursor)) };
      if (req.query.tenantId) where.tenantId = req.query.tenantId;
      const rows = await req.em.find<Endpoint>(EndpointSchema, where, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: req.query.limit + 1 });
      return page(rows, req.query.limit, endpointView);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'GET',
    path: '/endpoints/:id',
    summary: 'One webhook endpoint (without its secret).',
    permission: 'webhooks.read',
    tenantScoped: true,
    schema: { params: idParams, response: endpointSchema },
    handler: async (req) => endpointView(await findEndpoint(req, req.params.id)),
  });

  ctx.routes.add<{}, {}, CreateBody>({
    method: 'POST',
    path: '/endpoints',
    summary: 'Register an endpoint for the events of a tenant subtree. The answer holds the signing secret — the only time it is shown.',
    permission: 'webhooks.manage',
    audit: 'webhooks.endpoint.create',
    status: 201,
    schema: {
      body: { type: 'object', required: ['url'], properties: { url, events, description, active: { type: 'boolean' }, tenantId: uuid } },
      response: endpointWithSecretSchema,
    },
    handler: async (req) => {
      const tenant = await targetTenant(req);
      assertManage(req, tenant.path);
      const target = checkEndpointUrl(req.body.url, ctx.settings.get().allowPrivateNetworks);
      const existing = await req.em.count(EndpointSchema, { tenantId: tenant.id });
      if (existing >= MAX_ENDPOINTS_PER_TENANT) {
        throw new ProblemError('too-many-endpoints', `A tenant may have at most ${MAX_ENDPOINTS_PER_TENANT} webhook endpoints`, { status: 422 });
      }
      const now = new Date();
      const e = req.em.create<Endpoint>(EndpointSchema, {
        id: randomUUID(), tenantId: tenant.id, tenantPath: tenant.path, url: target, description: req.body.description ?? '',
        secret: newSecret(), events: req.body.events ?? ['*'], active: req.body.active ?? true,
        createdBy: req.actor.userId ?? null, createdAt: now, updatedAt: now,
      });
      await req.em.flush();
      auditEndpoint(req, e, { url: e.url, events: e.events });
      return { ...endpointView(e), secret: e.secret };
    },
  });

  ctx.routes.add<{ id: string }, {}, UpdateBody>({
    method: 'PATCH',
    path: '/endpoints/:id',
    summary: 'Change an endpoint\'s URL, events, description or active flag.',
    permission: 'webhooks.manage',
    audit: 'webhooks.endpoint.update',
    tenantScoped: true,
    schema: {
      params: idParams,
      body: { type: 'object', minProperties: 1, properties: { url, events, description, active: { type: 'boolean' } } },
      response: endpointSchema,
    },
    handler: async (req) => {
      const e = await findEndpoint(req, req.params.id);
      assertManage(req, e.tenantPath);
      const b = req.body;
      if (b.url !== undefined) e.url = checkEndpointUrl(b.url, ctx.settings.get().allowPrivateNetworks);
      if (b.events !== undefined) e.events = b.events;
      if (b.description !== undefined) e.description = b.description;
      if (b.active !== undefined) e.active = b.active;
      e.updatedAt = new Date();
      await req.em.flush();
      auditEndpoint(req, e, { changes: Object.keys(b) });
      return endpointView(e);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'DELETE',
    path: '/endpoints/:id',
    summary: 'Delete an endpoint and its delivery log.',
    permission: 'webhooks.manage',
    audit: 'webhooks.endpoint.delete',
    tenantScoped: true,
    schema: { params: idParams },
    handler: async (req) => {
      const e = await findEndpoint(req, req.params.id);
      assertManage(req, e.tenantPath);
      auditEndpoint(req, e, { url: e.url });
      req.em.remove(e);
      await req.em.flush();
      return undefined;
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'POST',
    path: '/endpoints/:id/rotate-secret',
    summary: 'Replace the signing secret. The answer holds the new one — the only time it is shown.',
    permission: 'webhooks.manage',
    audit: 'webhooks.endpoint.rotate-secret',
    tenantScoped: true,
    schema: { params: idParams, response: endpointWithSecretSchema },
    handler: async (req) => {
      const e = await findEndpoint(req, req.params.id);
      assertManage(req, e.tenantPath);
      e.secret = newSecret();
      e.updatedAt = new Date();
      await req.em.flush();
      auditEndpoint(req, e);
      return { ...endpointView(e), secret: e.secret };
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'POST',
    path: '/endpoints/:id/test',
    summary: 'Queue a `webhooks.ping` delivery to the endpoint; follow it in the delivery log.',
    permission: 'webhooks.manage',
    audit: 'webhooks.endpoint.test',
    tenantScoped: true,
    status: 202,
    schema: { params: idParams, response: deliverySchema },
    handler: async (req) => {
      const e = await findEndpoint(req, req.params.id);
      assertManage(req, e.tenantPath);
      if (!e.active) throw new ProblemError('endpoint-inactive', 'The endpoint is inactive; activate it first', { status: 409 });
      const now = new Date();
      const eventId = randomUUID();
      const d = req.em.create<Delivery>(DeliverySchema, {
        id: randomUUID(), endpointId: e.id, tenantId: e.tenantId, eventId, eventType: 'webhooks.ping',
        body: deliveryBody({ id: eventId, type: 'webhooks.ping', createdAt: now.toISOString(), tenantId: e.tenantId, payload: { endpointId: e.id, message: 'Hello from mpanel' } }),
        state: 'pending', attempts: 0, nextAttemptAt: now, createdAt: now, updatedAt: now,
      });
      await req.em.flush();
      auditEndpoint(req, e, { delivery: d.id });
      await req.publish(QUEUED_EVENT, { id: d.id, endpointId: e.id }, { tenantId: e.tenantId, tenantPath: e.tenantPath, permission: 'webhooks.read' });
      return deliveryView(d);
    },
  });
}
