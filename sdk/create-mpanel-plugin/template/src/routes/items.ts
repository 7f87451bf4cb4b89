import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { Item, ItemSchema } from '../entities/item.js';
import type { Settings } from '../settings.js';

const itemView = {
  type: 'object',
  required: ['id', 'tenantId', 'name', 'createdAt'],
  properties: { id: { type: 'string' }, tenantId: { type: 'string' }, name: { type: 'string' }, createdAt: { type: 'string' } },
};

const view = (i: Item) => ({ id: i.id, tenantId: i.tenantId, name: i.name, createdAt: new Date(i.createdAt).toISOString() });

/** `GET` and `POST /api/v1/p/{{id}}/items`. */
export function registerItemRoutes(ctx: PluginContext<Settings>): void {
  ctx.routes.add({
    method: 'GET',
    path: '/items',
    summary: 'Items of the tenants you can see, newest first.',
    permission: '{{id}}.read',
    schema: { response: { type: 'array', items: itemView } },
    handler: async (req) => {
      // req.em is tenant-filtered: no where clause on tenantId needed.
      const rows = await req.em.find<Item>(ItemSchema, {}, { orderBy: { createdAt: 'desc' }, limit: 100 });
      return rows.map(view);
    },
  });

  ctx.routes.add<{}, {}, { name: string }>({
    method: 'POST',
    path: '/items',
    summary: 'Add an item to your tenant.',
    permission: '{{id}}.write',
    // Every state change is audited; the panel writes the entry when the handler succeeds.
    audit: '{{id}}.item.create',
    status: 201,
    schema: {
      body: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 1000 } } },
      response: itemView,
    },
    handler: async (req) => {
      // Read settings per request: an admin may change them while the plugin runs.
      const { maxNameLength } = ctx.settings.get();
      if (req.body.name.length > maxNameLength) {
        throw new ProblemError('item-name-too-long', `An item name may have at most ${maxNameLength} characters`, { status: 422 });
      }
      const item = req.em.create<Item>(ItemSchema, {
        id: randomUUID(), tenantId: req.actor.tenantId!, name: req.body.name, createdBy: req.actor.userId!, createdAt: new Date(),
      });
      await req.em.flush();
      req.audit.target = `item:${item.id}`;
      req.audit.tenantId = item.tenantId;
      req.audit.tenantPath = req.actor.tenantPath;
      return view(item);
    },
  });
}
