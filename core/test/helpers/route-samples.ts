/**
 * Generators for route-driven tests (RBAC matrix, bad input): valid sample
 * values for a route's JSON Schemas and fillers for its path parameters. They
 * fail loudly when a schema or a parameter is something they do not know, so
 * a new route cannot silently escape the generated tests.
 */
import { randomUUID } from 'node:crypto';
import { compileBody, type JsonSchema } from '../../src/http/schema.js';
import type { RouteDefinition } from '../../src/http/route-registry.js';

export const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Values for string properties whose pattern or meaning a generic generator cannot guess. */
const STRING_HINTS: Record<string, string> = {
  key: 'probe-role',
  role: 'customer',
  logoUrl: '/logo.png',
  primaryColor: '#112233',
  accentColor: '#445566',
  domain: 'probe.example.com',
  name: 'Probe name',
  productName: 'Probe product',
  password: 'Probe-Passw0rd-9x',
  newPassword: 'Probe-Passw0rd-9x',
  currentPassword: 'whatever-current',
  token: 'probe-token-value',
  ticket: 'probe-ticket',
  factor: 'totp',
};

/** Sample items for array properties (by property name). */
const ARRAY_HINTS: Record<string, unknown[]> = {
  permissions: ['tenant.read'],
  roles: ['customer'],
};

export class CannotSample extends Error {}

/**
 * A value that satisfies `schema` (checked with ajv). `name` is the property
 * name, used for hints. Only required properties are filled, plus as many
 * optional ones as `minProperties` demands.
 */
export function sampleValue(schema: JsonSchema, name = '', overrides: Record<string, unknown> = {}): unknown {
  if (name in overrides) return overrides[name];
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if ('default' in schema) return schema.default;
  const type = Array.isArray(schema.type) ? (schema.type as string[]).find((t) => t !== 'null') : (schema.type as string | undefined);
  switch (type) {
    case 'string': {
      if (schema.format === 'uuid') return randomUUID();
      if (schema.format === 'email') return `probe-${randomUUID().slice(0, 8)}@example.test`;
      if (schema.format === 'date-time') return new Date(0).toISOString();
      const candidate = STRING_HINTS[name] ?? 'probe-value';
      const min = (schema.minLength as number | undefined) ?? 0;
      const value = candidate.length >= min ? candidate : candidate.padEnd(min, 'x');
      if (schema.pattern && !new RegExp(schema.pattern as string, 'u').test(value)) {
        throw new CannotSample(`no sample for string "${name}" with pattern ${String(schema.pattern)}: add a hint`);
      }
      return value;
    }
    case 'integer':
    case 'number':
      return (schema.minimum as number | undefined) ?? 1;
    case 'boolean':
      return true;
    case 'array': {
      if (ARRAY_HINTS[name]) return ARRAY_HINTS[name];
      const n = Math.max(1, (schema.minItems as number | undefined) ?? 0);
      return Array.from({ length: n }, () => sampleValue((schema.items as JsonSchema) ?? {}, name, overrides));
    }
    case 'object': {
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = (schema.required ?? []) as string[];
      const out: Record<string, unknown> = {};
      for (const key of required) {
        if (!props[key]) throw new CannotSample(`required property "${key}" has no schema`);
        out[key] = sampleValue(props[key], key, overrides);
      }
      const min = (schema.minProperties as number | undefined) ?? 0;
      for (const key of Object.keys(props)) {
        if (Object.keys(out).length >= min) break;
        if (!(key in out)) out[key] = sampleValue(props[key]!, key, overrides);
      }
      return out;
    }
    default:
      throw new CannotSample(`no sample for schema of type ${JSON.stringify(schema.type)} ("${name}")`);
  }
}

/** A body that passes the route's body schema; throws when it cannot produce one. */
export function validBody(def: RouteDefinition, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const schema = def.schema?.body;
  if (!schema) throw new CannotSample(`${def.method} ${def.path} has no body schema`);
  const body = sampleValue(schema, '', overrides) as Record<string, unknown>;
  const validate = compileBody(schema);
  if (!validate(body)) {
    throw new CannotSample(`sample body for ${def.method} ${def.path} is not valid: ${JSON.stringify(validate.errors)} — add a hint`);
  }
  return body;
}

/** Names of the `:params` in an express path. */
export function pathParams(path: string): string[] {
  return [...path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
}

/** Substitutes `:params` from a map; throws for a parameter the map does not have. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_m, p: string) => {
    const v = values[p];
    if (v === undefined) throw new Error(`cannot fill :${p} in ${path}`);
    return encodeURIComponent(v);
  });
}

/** Schema of one path parameter (the route must declare it). */
export function paramSchema(def: RouteDefinition, param: string): JsonSchema {
  const s = (def.schema?.params?.properties as Record<string, JsonSchema> | undefined)?.[param];
  if (!s) throw new Error(`${def.method} ${def.path}: path parameter :${param} has no schema — declare schema.params`);
  return s;
}

/** Random values that pass each path parameter's schema (uuids only — anything else must be taught here). */
export function randomParams(def: RouteDefinition): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pathParams(def.path)) {
    const s = paramSchema(def, p);
    if (s.type === 'string' && s.format === 'uuid') out[p] = randomUUID();
    else if (s.type === 'string' && !s.format && (!s.pattern || new RegExp(s.pattern as string, 'u').test(`probe-${p.toLowerCase()}`))) out[p] = `probe-${p.toLowerCase()}`;
    else throw new Error(`${def.method} ${def.path}: cannot generate a value for :${p} (${JSON.stringify(s)}) — teach randomParams`);
  }
  return out;
}
