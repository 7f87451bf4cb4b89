/**
 * Bad input, generated from the route registry: for every route, wrong types,
 * missing and unknown fields, out-of-range values, oversized and malformed
 * bodies, wrong content types, invalid path ids and bad query values. Every
 * answer must be a 4xx RFC 9457 problem (never a 5xx), validation problems
 * must carry JSON pointers, and nothing may be written.
 *
 * Requests are sent as the platform owner with a valid CSRF token, so they
 * reach validation rather than stopping at authentication.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, OWNER } from './helpers/panel.js';
import { sql } from './helpers/db.js';
import type { ApiResponse, TestClient } from './helpers/client.js';
import { STATE_CHANGING, fillPath, pathParams, randomParams, validBody } from './helpers/route-samples.js';
import type { JsonSchema } from '../src/http/schema.js';
import type { RouteDefinition } from '../src/http/route-registry.js';

const BODY_LIMIT = 4096;
const tp = await startTestPanel({ config: { bodyLimitBytes: BODY_LIMIT } });
const ROUTES = tp.panel.kernel.routes.list().sort((a, b) => `${a.def.path} ${a.def.method}`.localeCompare(`${b.def.path} ${b.def.method}`));
const keyOf = (def: RouteDefinition) => `${def.method} ${def.path}`;

interface Expect {
  status?: number;
  code?: string;
  /** A field error with exactly this pointer must be present. */
  pointer?: string;
  /** Edge values a correct panel may accept: then any 2xx passes, but never a 5xx. */
  allowSuccess?: boolean;
}

interface BadCase {
  name: string;
  /** Path with params filled in (and a query string). */
  path: string;
  /** Raw request body (already serialised) or undefined. */
  raw?: string;
  contentType?: string;
  expect: Expect;
}

// ---------------------------------------------------------------------------------------------
// Generators

const typeOf = (s: JsonSchema): string | undefined =>
  Array.isArray(s.type) ? (s.type as string[]).find((t) => t !== 'null') : (s.type as string | undefined);

/** A JSON value of the wrong type for a schema. */
function wrongType(s: JsonSchema): unknown {
  switch (typeOf(s)) {
    case 'string':
      return 12345;
    case 'integer':
    case 'number':
      return 'not-a-number';
    case 'boolean':
      return 'yes';
    case 'array':
      return 'not-an-array';
    case 'object':
      return 'not-an-object';
    default:
      // enum / const without a type
      return { not: 'a scalar' };
  }
}

/** Whether unknown properties are refused (the registry closes objects with declared properties unless told otherwise). */
const isClosed = (s: JsonSchema): boolean => s.additionalProperties === false || (s.additionalProperties === undefined && !!s.properties);

/** Values that have the right type but break a constraint, with a label. */
function outOfRange(s: JsonSchema, valid: unknown): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = [];
  const t = typeOf(s);
  if (Array.isArray(s.enum) || 'const' in s) out.push(['a value outside the enum', '__not-in-enum__']);
  if (t === 'string') {
    if (typeof s.minLength === 'number' && s.minLength > 0) out.push(['an empty string', '']);
    // Stay under the body limit: longer strings are the oversized-body case.
    if (typeof s.maxLength === 'number' && s.maxLength + 200 < BODY_LIMIT) out.push(['a string over maxLength', 'a'.repeat(s.maxLength + 1)]);
    if (s.format === 'uuid') out.push(['an invalid uuid', 'not-a-uuid']);
    if (s.format === 'email') out.push(['an invalid e-mail', 'no-at-sign']);
    if (s.format === 'date-time') out.push(['an invalid date-time', '2024-13-45T99:00:00Z']);
    if (s.pattern) out.push(['whitespace only (pattern)', '   ']);
  }
  if (t === 'integer' || t === 'number') {
    if (typeof s.minimum === 'number') out.push(['below minimum', s.minimum - 1]);
    if (typeof s.maximum === 'number') out.push(['above maximum', s.maximum + 1]);
    if (t === 'integer') out.push(['a fraction', 1.5]);
  }
  if (t === 'array') {
    if (typeof s.minItems === 'number' && s.minItems > 0) out.push(['an empty array', []]);
    if (s.uniqueItems && Array.isArray(valid) && valid.length) out.push(['duplicate items', [valid[0], valid[0]]]);
    if (s.items && typeof s.items === 'object') out.push(['an item of the wrong type', [wrongType(s.items as JsonSchema)]]);
  }
  if (t === 'object' && s.additionalProperties && typeof s.additionalProperties === 'object') {
    out.push(['a map value of the wrong type', { 'some-key': wrongType(s.additionalProperties as JsonSchema) }]);
  }
  return out;
}

/** Query-string values (strings on the wire) that must be refused for a property. */
function badQueryValues(s: JsonSchema): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  const t = typeOf(s);
  if (Array.isArray(s.enum)) out.push(['outside the enum', '__nope__']);
  if (t === 'integer' || t === 'number') {
    out.push(['not a number', 'abc']);
    if (t === 'integer') out.push(['a fraction', '1.5']);
    if (typeof s.minimum === 'number') out.push(['below minimum', String(s.minimum - 1)]);
    if (typeof s.maximum === 'number') out.push(['above maximum', String(s.maximum + 1)]);
  }
  if (t === 'string') {
    if (s.format === 'uuid') out.push(['an invalid uuid', 'not-a-uuid']);
    if (s.format === 'date-time') {
      out.push(['an invalid date-time', 'yesterday']);
      out.push(['an impossible date', '2024-02-30T00:00:00Z']);
      // Well-formed RFC 3339 that PostgreSQL cannot store as is: year 0.
      out.push(['year zero', '0000-01-01T00:00:00Z']);
    }
    if (typeof s.maxLength === 'number') out.push(['over maxLength', 'a'.repeat(s.maxLength + 1)]);
    if (typeof s.minLength === 'number' && s.minLength > 0) out.push(['empty', '']);
  }
  return out;
}

/** Cursor strings a client could forge; a cursor is opaque, so all of them must be 400. */
const FORGED_CURSORS: Array<[string, string]> = [
  ['garbage', '!!!not-base64!!!'],
  ['base64 of non-JSON', Buffer.from('hello').toString('base64url')],
  ['base64 of a number array', Buffer.from('[1,2]').toString('base64url')],
  ['an id that is not a uuid', Buffer.from(JSON.stringify(['2024-01-01T00:00:00.000Z', 'not-a-uuid'])).toString('base64url')],
  ['a date out of range', Buffer.from(JSON.stringify(['+275760-09-13T00:00:00.001Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url')],
  ['a negative seq', '-1'],
  ['a date before year 1', Buffer.from(JSON.stringify(['-200000-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url')],
  ['a date after year 9999', Buffer.from(JSON.stringify(['+200000-01-01T00:00:00.000Z', '00000000-0000-4000-8000-000000000000'])).toString('base64url')],
];

function casesFor(def: RouteDefinition): BadCase[] {
  const cases: BadCase[] = [];
  const params = randomParams(def);
  const base = fillPath(def.path, params);
  const json = (v: unknown) => JSON.stringify(v);

  // Path parameters: invalid ids.
  for (const p of pathParams(def.path)) {
    for (const [label, value] of [
      ['not a uuid', 'not-a-uuid'],
      ['a number', '12345'],
      ['a uuid with a bad character', '00000000-0000-0000-0000-00000000000g'],
      ['an overlong value', 'a'.repeat(300)],
      ['SQL in the id', "1' or '1'='1"],
    ] as const) {
      const schema = (def.schema?.params?.properties as Record<string, JsonSchema>)[p]!;
      if (schema.format !== 'uuid') continue;
      cases.push({
        name: `params.${p}: ${label}`,
        path: fillPath(def.path, { ...params, [p]: value }),
        raw: def.schema?.body ? json(validBody(def)) : undefined,
        expect: { status: 400, code: 'validation-failed', pointer: `/params/${p}` },
      });
    }
  }

  // Query: an unknown parameter (every route has a closed query schema), and bad values of declared ones.
  const bodyForQuery = STATE_CHANGING.has(def.method) && def.schema?.body ? json(validBody(def)) : undefined;
  cases.push({ name: 'query: unknown parameter', path: `${base}?__unknown=1`, raw: bodyForQuery, expect: { status: 400, code: 'validation-failed', pointer: '/query/__unknown' } });
  const queryProps = (def.schema?.query?.properties ?? {}) as Record<string, JsonSchema>;
  for (const [name, s] of Object.entries(queryProps)) {
    for (const [label, value] of badQueryValues(s)) {
      cases.push({ name: `query.${name}: ${label}`, path: `${base}?${name}=${encodeURIComponent(value)}`, raw: bodyForQuery, expect: { status: 400, code: 'validation-failed', pointer: `/query/${name}` } });
    }
    if (typeOf(s) !== 'array') {
      const ok = typeOf(s) === 'integer' ? String((s.minimum as number | undefined) ?? 1) : s.format === 'uuid' ? '00000000-0000-4000-8000-000000000000' : Array.isArray(s.enum) ? String(s.enum[0]) : 'x';
      cases.push({ name: `query.${name}: repeated`, path: `${base}?${name}=${ok}&${name}=${ok}`, raw: bodyForQuery, expect: { status: 400, code: 'validation-failed', pointer: `/query/${name}` } });
    }
    if (typeOf(s) === 'string' && s.format === 'date-time') {
      // Valid RFC 3339 that PostgreSQL would refuse verbatim: the panel must answer (2xx or 4xx), never 5xx.
      for (const [label, value] of [['a -23:59 offset', '2024-01-01T00:00:00-23:59'], ['a leap second', '2016-12-31T23:59:60Z'], ['lower-case t and z', '2024-01-01t00:00:00z']] as const) {
        cases.push({ name: `query.${name}: ${label} (edge, may succeed)`, path: `${base}?${name}=${encodeURIComponent(value)}`, raw: bodyForQuery, expect: { allowSuccess: true } });
      }
    }
    if (name === 'cursor') {
      for (const [label, value] of FORGED_CURSORS) {
        if (typeof s.maxLength === 'number' && value.length > s.maxLength) continue;
        cases.push({ name: `query.cursor: forged (${label})`, path: `${base}?cursor=${encodeURIComponent(value)}`, raw: bodyForQuery, expect: { status: 400, code: 'validation-failed', pointer: '/query/cursor' } });
      }
    }
  }

  if (!STATE_CHANGING.has(def.method)) return cases;

  // Transport-level refusals, for every state-changing route.
  const bodyish = def.schema?.body ? validBody(def) : { some: 'field' };
  cases.push({ name: 'body: malformed JSON', path: base, raw: '{"a": 1,', expect: { status: 400, code: 'malformed-body' } });
  cases.push({ name: 'body: truncated string', path: base, raw: '{"a": "unterminated', expect: { status: 400, code: 'malformed-body' } });
  cases.push({ name: 'body: text/plain', path: base, raw: json(bodyish), contentType: 'text/plain', expect: { status: 415, code: 'unsupported-media-type' } });
  cases.push({ name: 'body: form-urlencoded', path: base, raw: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded', expect: { status: 415, code: 'unsupported-media-type' } });
  cases.push({ name: 'body: JSON in a non-UTF-8 charset', path: base, raw: json(bodyish), contentType: 'application/json; charset=latin1', expect: { status: 415, code: 'unsupported-media-type' } });
  cases.push({
    name: `body: over the ${BODY_LIMIT}-byte limit`,
    path: base,
    raw: json({ ...bodyish, padding: 'x'.repeat(BODY_LIMIT + 1) }),
    expect: { status: 413, code: 'body-too-large' },
  });

  if (!def.schema?.body) {
    // A route without a body must refuse one rather than ignore it — whatever JSON it is.
    // Scalars and null included: an earlier registry ignored them and ran the handler (logout logged out).
    // Each such request runs on a throwaway session (see below), so the rest of the file is unaffected.
    for (const [label, raw] of [['an object', '{"unexpected": true}'], ['an array', '[1]'], ['a string', '"text"'], ['a number', '42'], ['true', 'true'], ['null', 'null']] as const) {
      cases.push({ name: `body: ${label} where none is taken`, path: base, raw, expect: { status: 400, code: 'validation-failed', pointer: '/body' } });
    }
    return cases;
  }

  // Body schema: shape, wrong types, missing and unknown fields, constraint violations.
  const schema = def.schema.body;
  const valid = validBody(def);
  for (const [label, raw] of [['an array', '[]'], ['a string', '"text"'], ['a number', '42'], ['null', 'null'], ['false', 'false']] as const) {
    cases.push({ name: `body: ${label} instead of an object`, path: base, raw, expect: { status: 400, code: 'validation-failed', pointer: '/body' } });
  }
  if ((schema.required as string[] | undefined)?.length || schema.minProperties) {
    cases.push({ name: 'body: empty object', path: base, raw: '{}', expect: { status: 400, code: 'validation-failed' } });
    cases.push({ name: 'body: none at all', path: base, expect: { status: 400, code: 'validation-failed' } });
  }
  if (isClosed(schema)) {
    cases.push({ name: 'body: unknown extra field', path: base, raw: json({ ...valid, __unknown: 1 }), expect: { status: 400, code: 'validation-failed', pointer: '/body/__unknown' } });
    const rest = json(valid).slice(1);
    cases.push({ name: 'body: __proto__ key', path: base, raw: `{"__proto__":{"admin":true}${rest === '}' ? '' : ','}${rest}`, expect: { status: 400, code: 'validation-failed', pointer: '/body/__proto__' } });
  }
  for (const key of (schema.required ?? []) as string[]) {
    const { [key]: _dropped, ...rest } = valid;
    cases.push({ name: `body.${key}: missing (required)`, path: base, raw: json(rest), expect: { status: 400, code: 'validation-failed', pointer: `/body/${key}` } });
    cases.push({ name: `body.${key}: null`, path: base, raw: json({ ...valid, [key]: null }), expect: { status: 400, code: 'validation-failed', pointer: `/body/${key}` } });
  }
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, s] of Object.entries(props)) {
    cases.push({ name: `body.${key}: wrong type`, path: base, raw: json({ ...valid, [key]: wrongType(s) }), expect: { status: 400, code: 'validation-failed', pointer: `/body/${key}` } });
    for (const [label, value] of outOfRange(s, valid[key])) {
      cases.push({ name: `body.${key}: ${label}`, path: base, raw: json({ ...valid, [key]: value }), expect: { status: 400, code: 'validation-failed' } });
    }
    // One level down: nested objects with declared properties.
    if (typeOf(s) === 'object' && s.properties) {
      for (const [sub, ss] of Object.entries(s.properties as Record<string, JsonSchema>)) {
        cases.push({ name: `body.${key}.${sub}: wrong type`, path: base, raw: json({ ...valid, [key]: { [sub]: wrongType(ss) } }), expect: { status: 400, code: 'validation-failed', pointer: `/body/${key}/${sub}` } });
      }
      if (isClosed(s)) cases.push({ name: `body.${key}: unknown nested field`, path: base, raw: json({ ...valid, [key]: { __unknown: 'x' } }), expect: { status: 400, code: 'validation-failed', pointer: `/body/${key}/__unknown` } });
    }
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// "Nothing written"

const WATCHED = ['app_user', 'tenant', 'role', 'role_binding', 'api_token', 'session', 'one_time_token', 'system_state', 'outbox_event'] as const;
/** Content digests that ignore bookkeeping columns touched by every authenticated request. */
const DIGEST: Record<(typeof WATCHED)[number], string> = {
  app_user: 'select id, tenant_id, email, name, password_hash, email_verified_at, disabled_at, password_changed_at from app_user',
  tenant: 'select id, parent_id, path, kind, name, quotas, branding from tenant',
  role: 'select id, tenant_id, key, name, description, permissions from role',
  role_binding: 'select id, user_id, role_id, tenant_id from role_binding',
  api_token: 'select id, name, permissions, expires_at, revoked_at from api_token',
  session: 'select id, user_id, revoked_at from session',
  one_time_token: 'select id, user_id, purpose, used_at from one_time_token',
  system_state: 'select key, value from system_state',
  outbox_event: 'select id from outbox_event',
};

interface DbState {
  tables: Record<string, { rows: number; digest: string }>;
  lastAuditSeq: number;
}

async function dbState(): Promise<DbState> {
  const select = WATCHED.map(
    (t) => `(select json_build_object('rows', count(*), 'digest', coalesce(md5(string_agg(x::text, '|' order by x::text)), '')) from (${DIGEST[t]}) x) as "${t}"`,
  ).join(', ');
  const [row] = await sql(tp.db!.url, `select ${select}, (select coalesce(max(seq), 0)::text from audit_entry) as last_seq`);
  const tables: DbState['tables'] = {};
  for (const t of WATCHED) tables[t] = row![t];
  return { tables, lastAuditSeq: Number(row!.last_seq) };
}

function expectProblem(res: ApiResponse, c: BadCase): void {
  const where = `${res.status} ${res.text.slice(0, 500)}`;
  if (c.expect.allowSuccess && res.status >= 200 && res.status < 300) return;
  expect(res.status, where).toBeGreaterThanOrEqual(400);
  expect(res.status, where).toBeLessThan(500);
  expect(res.headers.get('content-type'), where).toContain('application/problem+json');
  const doc = res.body as Record<string, any>;
  expect(typeof doc.code, where).toBe('string');
  expect(typeof doc.detail, where).toBe('string');
  expect(doc.detail.length).toBeGreaterThan(0);
  expect(doc.status).toBe(res.status);
  expect(doc.type).toBe(`urn:mpanel:problem:${doc.code}`);
  if (c.expect.status !== undefined) expect(res.status, where).toBe(c.expect.status);
  if (c.expect.code !== undefined) expect(doc.code, where).toBe(c.expect.code);
  if (doc.code === 'validation-failed') {
    expect(Array.isArray(doc.errors), where).toBe(true);
    expect(doc.errors.length, where).toBeGreaterThan(0);
    for (const e of doc.errors) {
      expect(e.pointer, where).toMatch(/^\/(body|query|params)(\/[^/]*)*$/);
      expect(typeof e.message).toBe('string');
    }
    if (c.expect.pointer) expect(doc.errors.map((e: { pointer: string }) => e.pointer), where).toContain(c.expect.pointer);
  }
}

// ---------------------------------------------------------------------------------------------

describe('bad input (generated from the route registry)', () => {
  let owner: TestClient;
  let total = 0;

  beforeAll(async () => {
    owner = await tp.owner();
  });
  afterAll(async () => tp.close());

  it('has routes with schemas to test', () => {
    expect(ROUTES.filter((r) => r.def.schema?.body || r.def.schema?.params || r.def.schema?.query).length).toBeGreaterThan(15);
  });

  for (const { def } of ROUTES) {
    describe(keyOf(def), () => {
      let cases: BadCase[] = [];
      try {
        cases = casesFor(def);
      } catch (error) {
        it('can be generated', () => {
          throw error;
        });
        return;
      }
      for (const c of cases) {
        it(c.name, async () => {
          total++;
          const headers: Record<string, string> = {};
          if (c.raw !== undefined) headers['content-type'] = c.contentType ?? 'application/json';
          // Routes without a body schema (logout, verify-email, deletes) would run if a bad body slipped
          // through validation: give them a throwaway session so the shared one survives a failure here.
          let client = owner;
          if (STATE_CHANGING.has(def.method) && !def.schema?.body) {
            client = tp.client();
            await client.login(OWNER.email, OWNER.password);
          }
          const before = await dbState();
          const res = await client.request(def.method, c.path, c.raw, headers);
          const after = await dbState();

          expectProblem(res, c);
          expect(after.tables, 'nothing was written').toEqual(before.tables);
          // Failed state-changing requests are audited by design — but only as failures.
          const added = await sql(tp.db!.url, 'select action, outcome from audit_entry where seq > $1', [before.lastAuditSeq]);
          for (const a of added) expect(['failure', 'denied'], `${a.action} audited as ${a.outcome}`).toContain(a.outcome);
        });
      }
    });
  }

  it('the owner session survived every bad request', async () => {
    expect(total).toBeGreaterThan(0);
    expect((await owner.get('/api/v1/auth/me')).status).toBe(200);
  });
});
