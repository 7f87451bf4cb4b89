import { Ajv, type ValidateFunction, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { ProblemFieldError } from '../errors/problem.js';

/** A JSON Schema (draft 2020-12 subset that ajv and OpenAPI 3.1 both understand). */
export type JsonSchema = Record<string, unknown>;

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    strictRequired: false,
    coerceTypes: coerce ? 'array' : false,
    useDefaults: true,
    removeAdditional: false,
  });
  addFormats(ajv);
  // OpenAPI annotation keywords we allow in schemas.
  ajv.addKeyword({ keyword: 'example' });
  return ajv;
}

// Bodies are JSON: no coercion ("1" is not 1). Params and query strings are
// always strings on the wire, so they are coerced to the declared types.
const bodyAjv = makeAjv(false);
const stringAjv = makeAjv(true);

/**
 * Objects reject unknown properties unless a schema says otherwise: a typo in
 * a field name must be an error, not silently ignored.
 */
export function closeObjects(schema: JsonSchema): JsonSchema {
  const s: JsonSchema = { ...schema };
  if (s.type === 'object' && s.additionalProperties === undefined && s.properties) s.additionalProperties = false;
  if (s.properties && typeof s.properties === 'object') {
    s.properties = Object.fromEntries(Object.entries(s.properties as Record<string, JsonSchema>).map(([k, v]) => [k, closeObjects(v)]));
  }
  if (s.items && typeof s.items === 'object' && !Array.isArray(s.items)) s.items = closeObjects(s.items as JsonSchema);
  return s;
}

// Compiling is the slow part of registering a route; identical schemas (e.g.
// the empty query of most routes, or a plugin re-enabled) share one validator.
const compiled = new Map<string, ValidateFunction>();

function cachedCompile(ajv: Ajv, kind: string, schema: JsonSchema): ValidateFunction {
  const key = `${kind}:${JSON.stringify(schema)}`;
  let fn = compiled.get(key);
  if (!fn) {
    fn = ajv.compile(closeObjects(schema));
    compiled.set(key, fn);
  }
  return fn;
}

export function compileBody(schema: JsonSchema): ValidateFunction {
  return cachedCompile(bodyAjv, 'body', schema);
}

export function compileStrings(schema: JsonSchema): ValidateFunction {
  return cachedCompile(stringAjv, 'strings', schema);
}

/** Turns ajv errors into problem+json field errors with JSON pointers rooted at the request part. */
export function toFieldErrors(part: 'body' | 'query' | 'params' | 'response', errors: ErrorObject[] | null | undefined): ProblemFieldError[] {
  return (errors ?? []).map((e) => {
    let pointer = `/${part}${e.instancePath}`;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      pointer = `${pointer}/${extra}`;
      message = 'is not an allowed field';
    } else if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      pointer = `${pointer}/${missing}`;
      message = 'is required';
    }
    return { pointer, message };
  });
}
