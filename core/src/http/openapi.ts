import type { RouteDefinition } from './route-registry.js';
import { closeObjects } from './schema.js';
import { listProblems } from '../errors/catalogue.js';

const problemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' },
    code: { type: 'string' }, instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { pointer: { type: 'string' }, message: { type: 'string' } } } },
  },
};

/** Express `/users/:id` → OpenAPI `/users/{id}`. */
function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** OpenAPI 3.1 document generated from the route registry (so it can't drift from the code). */
export function buildOpenApi(routes: Array<{ owner: string; def: RouteDefinition }>, info: { version: string }): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { owner, def } of routes) {
    const p = toOpenApiPath(def.path);
    const parameters: unknown[] = [];
    const params = def.schema?.params as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, schema] of Object.entries(params?.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    const query = def.schema?.query as { properties?: Record<string, unknown>; required?: string[] } | undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {})) {
      parameters.push({ name, in: 'query', required: query?.required?.includes(name) ?? false, schema });
    }
    const status = String(def.status ?? (def.schema?.response ? 200 : 204));
    const op: Record<string, unknown> = {
      operationId: `${def.method.toLowerCase()}${def.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      summary: def.summary,
      tags: def.tags ?? [owner],
      parameters,
      security: def.public ? [] : [{ session: [] }, { bearer: [] }],
      'x-mpanel-permission': def.permission ?? null,
      'x-mpanel-public': def.public === true,
      'x-mpanel-audit': def.audit ?? null,
      'x-mpanel-owner': owner,
      responses: {
        [status]: def.schema?.response
          ? { description: 'Success', content: { 'application/json': { schema: closeObjects(def.schema.response) } } }
          : { description: 'Success' },
        default: { description: 'Error', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
      },
    };
    if (def.schema?.body) op.requestBody = { required: true, content: { 'application/json': { schema: closeObjects(def.schema.body) } } };
    (paths[p] ??= {})[def.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'mpanel API', version: info.version, description: 'Generated from the route registry. Errors are RFC 9457 problem documents; `x-mpanel-problems` lists every problem type.' },
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        session: { type: 'apiKey', in: 'cookie', name: 'mpanel_session', description: 'Session cookie from POST /api/v1/auth/login; state changes need the X-CSRF-Token header' },
        bearer: { type: 'http', scheme: 'bearer', description: 'API token (mpt_…) from POST /api/v1/auth/tokens' },
      },
    },
    'x-mpanel-problems': listProblems(),
  };
}
