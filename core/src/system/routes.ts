import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import { buildOpenApi } from '../http/openapi.js';
import { CORE_VERSION } from '../version.js';

/** Health, readiness, Prometheus metrics and the OpenAPI document. */
export function registerSystemRoutes(k: Kernel, isReady: () => boolean): void {
  k.routes.register({
    method: 'GET',
    path: '/healthz',
    summary: 'Liveness: the process answers.',
    tags: ['system'],
    public: true,
    schema: { response: { type: 'object', required: ['status'], properties: { status: { const: 'ok' } } } },
    handler: () => ({ status: 'ok' as const }),
  });
  k.routes.register({
    method: 'GET',
    path: '/readyz',
    summary: 'Readiness: started, migrated and the database answers.',
    tags: ['system'],
    public: true,
    schema: { response: { type: 'object', required: ['status', 'database'], properties: { status: { const: 'ready' }, database: { type: 'string' } } } },
    handler: async () => {
      if (!isReady()) throw new ProblemError('not-ready', 'The panel is starting or shutting down');
      try {
        await k.systemEm().execute('select 1');
      } catch {
        throw new ProblemError('not-ready', 'The database does not answer');
      }
      return { status: 'ready' as const, database: k.dbKind };
    },
  });
  k.routes.register({
    method: 'GET',
    path: '/metrics',
    summary: 'Prometheus metrics (text exposition format).',
    tags: ['system'],
    public: true,
    raw: true,
    handler: async (ctx) => {
      ctx.res.type(k.metrics.registry.contentType).send(await k.metrics.registry.metrics());
    },
  });
  k.routes.register({
    method: 'GET',
    path: '/api/v1/openapi.json',
    summary: 'This API as an OpenAPI 3.1 document, generated from the route registry.',
    tags: ['system'],
    public: true,
    handler: () => buildOpenApi(k.routes.list(), { version: CORE_VERSION }),
  });
}
