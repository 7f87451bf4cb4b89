import { randomUUID } from 'node:crypto';
import { ProblemError, type PluginContext } from '@mpanel/sdk';
import { GreetingSchema, Greeting } from '../entities/greeting.js';

export interface HelloSettings {
  greeting: string;
  maxLength: number;
}

const greetingView = {
  type: 'object',
  required: ['id', 'tenantId', 'message', 'createdBy', 'createdAt'],
  properties: { id: { type: 'string' }, tenantId: { type: 'string' }, message: { type: 'string' }, createdBy: { type: 'string' }, createdAt: { type: 'string' } },
};

const view = (g: Greeting) => ({ id: g.id, tenantId: g.tenantId, message: g.message, createdBy: g.createdBy, createdAt: new Date(g.createdAt).toISOString() });

/** GET /hello, and greetings CRUD under /api/v1/p/hello. */
export function registerGreetingRoutes(ctx: PluginContext<HelloSettings>): void {
  ctx.routes.add({
    method: 'GET',
    path: '/hello',
    summary: 'Says hello to the caller, with the configured greeting word.',
    permission: 'hello.read',
    schema: { response: { type: 'object', required: ['message'], properties: { message: { type: 'string' } } } },
    handler: (req) => ({ message: `${ctx.settings.get().greeting}, ${req.actor.label}!` }),
  });

  ctx.routes.add({
    method: 'GET',
    path: '/greetings',
    summary: 'Greetings of the tenants you can see, newest first.',
    permission: 'hello.read',
    schema: { response: { type: 'array', items: greetingView } },
    handler: async (req) => {
      const rows = await req.em.find<Greeting>(GreetingSchema, {}, { orderBy: { createdAt: 'desc' }, limit: 100 });
      return rows.map(view);
    },
  });

  ctx.routes.add<{}, {}, { message: string }>({
    method: 'POST',
    path: '/greetings',
    summary: 'Leave a greeting for your tenant.',
    permission: 'hello.write',
    audit: 'hello.greeting.create',
    status: 201,
    schema: {
      body: { type: 'object', required: ['message'], properties: { message: { type: 'string', minLength: 1, maxLength: 1000 } } },
      response: greetingView,
    },
    handler: async (req) => {
      const { maxLength } = ctx.settings.get();
      if (req.body.message.length > maxLength) {
        throw new ProblemError('greeting-too-long', `A greeting may have at most ${maxLength} characters`, { status: 422 });
      }
      const g = req.em.create<Greeting>(GreetingSchema, {
        id: randomUUID(), tenantId: req.actor.tenantId!, message: req.body.message, createdBy: req.actor.userId!, createdAt: new Date(),
      });
      await req.em.flush();
      req.audit.target = `greeting:${g.id}`;
      req.audit.tenantId = g.tenantId;
      req.audit.tenantPath = req.actor.tenantPath;
      await req.publish('hello.greeting.created', { id: g.id, message: g.message }, { tenantId: g.tenantId, tenantPath: req.actor.tenantPath, permission: 'hello.read' });
      return view(g);
    },
  });

  ctx.routes.add<{ id: string }>({
    method: 'DELETE',
    path: '/greetings/:id',
    summary: 'Delete a greeting of a tenant you can see.',
    permission: 'hello.write',
    audit: 'hello.greeting.delete',
    tenantScoped: true,
    schema: { params: { type: 'object', required: ['id'], properties: { id: { type: 'string', format: 'uuid' } } } },
    handler: async (req) => {
      const g = await req.em.findOne<Greeting>(GreetingSchema, { id: req.params.id });
      if (!g) throw new ProblemError('not-found', `No greeting ${req.params.id}`, { status: 404 });
      req.em.remove(g);
      await req.em.flush();
      req.audit.target = `greeting:${g.id}`;
      req.audit.tenantId = g.tenantId;
      return undefined;
    },
  });
}
