/**
 * The RBAC matrix, generated from the route registry: every route × every
 * built-in role (plus anonymous and a narrowly scoped API token) gets the
 * allow/deny its permission declaration implies, every denial is a 403
 * problem+json that lands in the audit trail, and every route that takes
 * ids refuses ids from another tenant without changing anything.
 *
 * New routes are covered automatically; a route whose path parameters or
 * id-carrying fields the generator cannot fill fails loudly.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPanel, OWNER } from './helpers/panel.js';
import { buildWorld, PASSWORD, type World } from './helpers/world.js';
import { sql } from './helpers/db.js';
import { TestClient, type ApiResponse } from './helpers/client.js';
import { STATE_CHANGING, fillPath, paramSchema, pathParams, randomParams, validBody } from './helpers/route-samples.js';
import { BUILTIN_ROLES } from '../src/rbac/builtin-roles.js';
import { ALL_PERMISSIONS } from '../src/rbac/permissions.js';
import { compileStrings, type JsonSchema } from '../src/http/schema.js';
import type { RouteDefinition } from '../src/http/route-registry.js';

// The panel is started while the file is collected so the cases can be generated from its registry.
const tp = await startTestPanel();
const ROUTES = tp.panel.kernel.routes.list().sort((a, b) => `${a.def.path} ${a.def.method}`.localeCompare(`${b.def.path} ${b.def.method}`));
const keyOf = (def: RouteDefinition) => `${def.method} ${def.path}`;

/** Which world user holds which built-in role (see helpers/world.ts). */
const MATRIX_USERS = { owner: 'platform-owner', admin: 'admin', reseller: 'reseller', customerA: 'customer', auditor: 'auditor' } as const;
type MatrixUser = keyof typeof MATRIX_USERS;
const rolePermissions = (roleKey: string): string[] => {
  const r = BUILTIN_ROLES.find((x) => x.key === roleKey);
  if (!r) throw new Error(`no built-in role ${roleKey}`);
  return r.permissions;
};
const allows = (permissions: readonly string[], def: RouteDefinition) =>
  !!def.public || permissions.includes(ALL_PERMISSIONS) || permissions.includes(def.permission!);

/** Scope of the API-token column of the matrix (the owner's token, narrowed to these). */
const TOKEN_SCOPE = ['account.self', 'tenant.read'];

interface Probe {
  path: string;
  body?: unknown;
  /** What a caller that passes the permission gate gets for this dummy input. */
  expectAllowed: { status: number; code?: string; pointer?: string };
}

const PROBE_PARAM = '__rbacProbe';

/**
 * A request that passes the permission gate but never reaches a handler:
 * random ids plus an unknown query parameter, which the registry refuses
 * (400 at /query/__rbacProbe) right after the permission check. So nothing
 * is executed for allowed roles — logout, password change and plugin calls
 * that would reach the network included — and the matrix is deterministic.
 * (Logout is additionally executed for real on fresh sessions below.)
 */
function probeFor(def: RouteDefinition): Probe {
  if (compileStrings(def.schema?.query ?? { type: 'object', properties: {} })({ [PROBE_PARAM]: '1' })) {
    throw new Error(`${keyOf(def)}: its query schema accepts unknown parameters; teach probeFor a harmless input`);
  }
  const path = `${fillPath(def.path, randomParams(def))}?${PROBE_PARAM}=1`;
  return {
    path,
    // State-changing routes also get an (unexpected) body; the query is refused first.
    body: STATE_CHANGING.has(def.method) ? { [PROBE_PARAM]: true } : undefined,
    expectAllowed: { status: 400, code: 'validation-failed', pointer: `/query/${PROBE_PARAM}` },
  };
}

function send(client: TestClient, def: RouteDefinition, probe: Probe, requestId?: string): Promise<ApiResponse> {
  return client.request(def.method, probe.path, probe.body, requestId ? { 'x-request-id': requestId } : {});
}

function expectProblem(res: ApiResponse, status: number, code: string): void {
  expect(res.status, `${res.status} ${res.text}`).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/problem+json');
  expect(res.body.code).toBe(code);
  expect(typeof res.body.detail).toBe('string');
}

function expectAllowed(res: ApiResponse, probe: Probe): void {
  // Not refused for permission (or authentication) reasons, and exactly what the dummy input earns.
  expect([401, 403], `${res.status} ${res.text}`).not.toContain(res.status);
  expect(res.status, res.text).toBeLessThan(500);
  expect(res.status, res.text).toBe(probe.expectAllowed.status);
  if (probe.expectAllowed.code) expect(res.body.code).toBe(probe.expectAllowed.code);
  if (probe.expectAllowed.pointer) expect(res.body.errors.map((e: { pointer: string }) => e.pointer)).toContain(probe.expectAllowed.pointer);
}

// ---------------------------------------------------------------------------------------------
// Cross-tenant ids: every id-carrying slot (path params, uuid body/query fields) of a route.

type IdKind = 'tenant' | 'user' | 'binding' | 'role' | 'session' | 'token';
interface Slot {
  where: 'params' | 'body' | 'query';
  name: string;
  kind: IdKind;
}

const RESOURCE_KIND: Record<string, IdKind> = { tenants: 'tenant', users: 'user', roles: 'role', sessions: 'session', tokens: 'token' };
const FIELD_KIND: Record<string, IdKind> = { tenantId: 'tenant', parentId: 'tenant', userId: 'user' };

/**
 * The kind of tenant-owned object a path parameter addresses, from the segment
 * before it. Unknown → a tenant-scoped route fails loudly; other routes
 * (platform-wide objects) have nothing to test across tenants.
 */
function paramKind(def: RouteDefinition, param: string): IdKind | null {
  const segments = def.path.split('/');
  const i = segments.indexOf(`:${param}`);
  if (param === 'bindingId' && segments[i - 1] === 'roles') return 'binding';
  const kind = param === 'id' ? RESOURCE_KIND[segments[i - 1] ?? ''] : undefined;
  if (kind) return kind;
  if (def.tenantScoped) throw new Error(`${keyOf(def)}: the matrix cannot tell what :${param} addresses — teach paramKind`);
  return null;
}

function slotsOf(def: RouteDefinition): Slot[] {
  const slots: Slot[] = [];
  for (const p of pathParams(def.path)) {
    paramSchema(def, p);
    const kind = paramKind(def, p);
    if (kind) slots.push({ where: 'params', name: p, kind });
  }
  for (const where of ['body', 'query'] as const) {
    const props = (def.schema?.[where]?.properties ?? {}) as Record<string, JsonSchema>;
    for (const [name, s] of Object.entries(props)) {
      if (s.format !== 'uuid') continue;
      const kind = FIELD_KIND[name];
      if (!kind) throw new Error(`${keyOf(def)}: ${where}.${name} is an id the matrix cannot fill — teach FIELD_KIND`);
      slots.push({ where, name, kind });
    }
  }
  return slots;
}

/** Ids of one tenant's objects. */
type Ids = Record<IdKind, string> & { email: string };

interface Attacker {
  name: 'customerA' | 'managerA' | 'reseller';
  /** Whose objects it attacks. */
  victim: 'B' | 'C' | 'P' | 'R';
}
const ATTACKERS: Attacker[] = [
  { name: 'customerA', victim: 'B' },
  // Holds every permission, but only on customer A.
  { name: 'managerA', victim: 'B' },
  { name: 'reseller', victim: 'C' },
  // Upwards: a tenant's users must not reach objects of the tenants above them.
  { name: 'reseller', victim: 'P' },
  { name: 'managerA', victim: 'R' },
];
/** Victims above the attacker: their tenant ids are in the attacker's own tenant path by design. */
const ANCESTOR_VICTIMS = new Set(['P', 'R']);

interface CrossCase {
  def: RouteDefinition;
  slots: Slot[];
  /** Slots that get the victim's id; the others get the attacker's own ids. */
  victimSlots: Slot[];
}

function crossCases(def: RouteDefinition): CrossCase[] {
  const slots = slotsOf(def);
  if (slots.length === 0) return [];
  const cases: CrossCase[] = slots.map((s) => ({ def, slots, victimSlots: [s] }));
  if (slots.length > 1) cases.push({ def, slots, victimSlots: slots });
  return cases;
}

/** Everything a cross-tenant request could change (volatile bookkeeping columns left out). */
async function snapshot(): Promise<string> {
  const queries = [
    'select id, parent_id, path, kind, name, quotas, branding from tenant order by id',
    'select id, tenant_id, email, name, password_hash, email_verified_at, disabled_at, password_changed_at from app_user order by id',
    'select id, user_id, tenant_id, revoked_at from session order by id',
    'select id, user_id, tenant_id, name, permissions, expires_at, revoked_at from api_token order by id',
    'select id, tenant_id, key, name, description, permissions from role order by id',
    'select id, user_id, role_id, tenant_id from role_binding order by id',
    'select id, user_id, purpose, used_at from one_time_token order by id',
    'select count(*)::int as n from outbox_event',
  ];
  const parts: unknown[] = [];
  for (const q of queries) parts.push(await sql(tp.db!.url, q));
  return JSON.stringify(parts);
}

// ---------------------------------------------------------------------------------------------

describe('RBAC matrix (generated from the route registry)', () => {
  let world: World;
  let tokenClient: TestClient;
  let clients: Record<Attacker['name'], TestClient>;
  /** Ids of each tenant's objects: A = the attackers' own (customer A), B and C = victims, R = the reseller's own. */
  const ids: Partial<Record<Attacker['victim'], Ids>> = {};
  /** Ids owned by each attacker. */
  const own: Partial<Record<Attacker['name'], Ids>> = {};

  beforeAll(async () => {
    world = await buildWorld(tp);
    const owner = world.users.owner.client;
    const ok = (r: ApiResponse, what: string) => {
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
      return r.body;
    };

    // An owner API token narrowed to TOKEN_SCOPE: the matrix's token column.
    const tok = ok(await owner.post('/api/v1/auth/tokens', { name: 'matrix', permissions: TOKEN_SCOPE }), 'token');
    tokenClient = tp.client();
    tokenClient.bearer = tok.secret;

    const allPermissions = (ok(await owner.get('/api/v1/permissions'), 'permissions') as Array<{ name: string }>).map((p) => p.name);
    const mkRole = async (tenantId: string, key: string, permissions: string[]) =>
      ok(await owner.post('/api/v1/roles', { tenantId, key, name: key, permissions }), `role ${key}`).id as string;
    const mkUser = async (key: string, tenantId: string, role: string) => {
      const email = `${key.toLowerCase()}@world.test`;
      const u = ok(await owner.post('/api/v1/users', { tenantId, email, name: key, password: PASSWORD, roles: [role] }), `user ${key}`);
      const c = tp.client();
      await c.login(email, PASSWORD);
      return { id: u.id as string, email, client: c };
    };
    // managerA: every permission there is, but bound on customer A only.
    await mkRole(world.customerAId, 'manager-a', allPermissions);
    const managerA = await mkUser('managerA', world.customerAId, 'manager-a');
    const customerC = await mkUser('customerC', world.customerCId, 'customer');

    /** Collects the ids of one user's objects, creating a custom role in its tenant and a token for it. */
    const collect = async (tenantId: string, roleKey: string, user: { id: string; email: string; client: TestClient }): Promise<Ids> => {
      const role = await mkRole(tenantId, roleKey, ['tenant.read']);
      const me = ok(await user.client.get('/api/v1/auth/me'), 'me');
      const token = ok(await user.client.post('/api/v1/auth/tokens', { name: `${roleKey}-token`, permissions: ['tenant.read'] }), 'token');
      const bindings = ok(await owner.get(`/api/v1/users/${user.id}/roles`), 'bindings') as Array<{ id: string }>;
      return { tenant: tenantId, user: user.id, email: user.email, binding: bindings[0]!.id, role, session: me.sessionId, token: token.token.id };
    };
    ids.B = await collect(world.customerBId, 'victim-b', world.users.customerB);
    ids.C = await collect(world.customerCId, 'victim-c', customerC);
    own.customerA = await collect(world.customerAId, 'own-a', world.users.customerA);
    own.managerA = await collect(world.customerAId, 'own-a2', managerA);
    own.reseller = await collect(world.resellerId, 'own-r', world.users.reseller);
    ids.R = own.reseller;
    ids.P = await collect(world.platformId, 'victim-p', { ...world.users.admin });
    clients = { customerA: world.users.customerA.client, managerA: managerA.client, reseller: world.users.reseller.client };
  });
  afterAll(async () => tp.close());

  const clientOf = (u: MatrixUser) => world.users[u].client;
  const userIdOf = (u: MatrixUser) => world.users[u].id;

  describe('the registry itself', () => {
    it('has routes to test', () => {
      expect(ROUTES.length).toBeGreaterThan(30);
    });

    it.each(ROUTES.map((r) => [keyOf(r.def), r] as const))('%s: exactly one permission decision, a known permission, an audit action when it changes state', (_k, { def }) => {
      expect(!!def.public !== !!def.permission, 'exactly one of public / permission').toBe(true);
      if (def.permission) expect(tp.panel.kernel.permissions.has(def.permission), `permission ${def.permission} is registered`).toBe(true);
      if (STATE_CHANGING.has(def.method)) {
        expect(typeof def.audit).toBe('string');
        expect(def.audit!.length).toBeGreaterThan(0);
      }
      if (def.tenantScoped) expect(pathParams(def.path).length, 'a tenant-scoped route addresses an object by id').toBeGreaterThan(0);
    });

    it('the built-in roles in the database are the ones the matrix expects', async () => {
      const roles = (await world.users.owner.client.get('/api/v1/roles')).body as Array<{ key: string; builtin: boolean; permissions: string[] }>;
      for (const r of BUILTIN_ROLES) {
        const db = roles.find((x) => x.builtin && x.key === r.key);
        expect(db, r.key).toBeDefined();
        expect([...db!.permissions].sort()).toEqual([...r.permissions].sort());
      }
    });
  });

  for (const { def } of ROUTES) {
    describe(keyOf(def), () => {
      let probe: Probe;
      let generatorError: unknown;
      try {
        probe = probeFor(def);
      } catch (error) {
        generatorError = error;
      }
      if (generatorError) {
        it('can be probed by the generator', () => {
          throw generatorError;
        });
        return;
      }

      if (!def.public) {
        it('anonymous: 401 problem+json', async () => {
          const res = await send(tp.client(), def, probe);
          expectProblem(res, 401, 'unauthenticated');
        });
      } else {
        it('anonymous: allowed (public route)', async () => {
          expectAllowed(await send(tp.client(), def, probe), probe);
        });
      }

      for (const user of Object.keys(MATRIX_USERS) as MatrixUser[]) {
        const roleKey = MATRIX_USERS[user];
        if (allows(rolePermissions(roleKey), def)) {
          it(`${roleKey} (${user}): allowed`, async () => {
            // State-changing probes go through a fresh session: the world's sessions must outlive the matrix.
            let client = clientOf(user);
            if (STATE_CHANGING.has(def.method)) {
              client = tp.client();
              await client.login(world.users[user].email, user === 'owner' ? OWNER.password : PASSWORD);
            }
            expectAllowed(await send(client, def, probe), probe);
          });
          if (def.method === 'GET') {
            it(`${roleKey} (${user}): executed for real (random ids), not refused`, async () => {
              const res = await clientOf(user).get(fillPath(def.path, randomParams(def)));
              // 400 (a required query), 404 (random id), 502/503 (an external dependency) are fine; a refusal or a bug is not.
              expect([401, 403], `${res.status} ${res.text}`).not.toContain(res.status);
              expect(res.status === 500 || res.body?.code === 'internal', `${res.status} ${res.text}`).toBe(false);
            });
          }
        } else {
          it(`${roleKey} (${user}): 403 forbidden, audited as permission.denied`, async () => {
            const requestId = `rbac-${randomUUID()}`;
            const res = await send(clientOf(user), def, probe, requestId);
            expectProblem(res, 403, 'forbidden');
            expect(res.body.permission).toBe(def.permission);
            const audit = await world.users.owner.client.get(`/api/v1/audit?action=permission.denied&actorId=${userIdOf(user)}&limit=500`);
            expect(audit.status).toBe(200);
            const entry = (audit.body.items as Array<Record<string, any>>).find((e) => e.requestId === requestId);
            expect(entry, 'a permission.denied audit entry for this request').toBeDefined();
            expect(entry).toMatchObject({ action: 'permission.denied', outcome: 'denied', actorId: userIdOf(user), target: keyOf(def) });
            expect(entry!.details.permission).toBe(def.permission);
          });
        }
      }

      const tokenAllowed = allows(TOKEN_SCOPE, def);
      it(`API token scoped to [${TOKEN_SCOPE.join(', ')}]: ${tokenAllowed ? 'allowed' : '403 forbidden'}`, async () => {
        const res = await send(tokenClient, def, probe);
        if (tokenAllowed) expectAllowed(res, probe);
        else {
          expectProblem(res, 403, 'forbidden');
          expect(res.body.permission).toBe(def.permission);
        }
      });

      let cases: CrossCase[] = [];
      try {
        cases = crossCases(def);
      } catch (error) {
        it('its ids can be filled by the cross-tenant generator', () => {
          throw error;
        });
      }
      if (def.tenantScoped && cases.length === 0) {
        it('is tenant-scoped, so it has ids to test', () => {
          throw new Error(`${keyOf(def)} is tenantScoped but has no id slots`);
        });
      }
      if (def.method === 'GET' && pathParams(def.path).length === 0 && !def.public) {
        for (const attacker of ATTACKERS) {
          it(`cross-tenant: ${attacker.name} reading it sees nothing of tenant ${attacker.victim}`, async () => {
            const victim = ids[attacker.victim]!;
            const res = await clients[attacker.name].get(def.path);
            // 502/503 from an external dependency (the plugin registry) is not a leak; a bug (500 internal) is a failure.
            expect(res.status === 500 || res.body?.code === 'internal', `${res.status} ${res.text}`).toBe(false);
            if (res.status >= 300) return;
            const secrets: Array<keyof Ids> = ['user', 'email', 'binding', 'role', 'session', 'token'];
            if (!ANCESTOR_VICTIMS.has(attacker.victim)) secrets.push('tenant');
            for (const k of secrets) expect(res.text, `response leaks the victim's ${k}`).not.toContain(victim[k]);
          });
        }
      }
      for (const c of cases) {
        for (const attacker of ATTACKERS) {
          const label = c.victimSlots.map((s) => `${s.where}.${s.name}`).join(' + ');
          it(`cross-tenant: ${attacker.name} with ${label} of tenant ${attacker.victim} is refused and changes nothing`, async () => {
            const victim = ids[attacker.victim]!;
            const mine = own[attacker.name]!;
            const valueFor = (s: Slot) => (c.victimSlots.includes(s) ? victim : mine)[s.kind];
            const params: Record<string, string> = randomParams(def);
            const bodyOverrides: Record<string, unknown> = {};
            const query = new URLSearchParams();
            for (const s of c.slots) {
              if (s.where === 'params') params[s.name] = valueFor(s);
              // Optional id fields are only sent when they carry the victim's id.
              else if (c.victimSlots.includes(s)) {
                if (s.where === 'body') bodyOverrides[s.name] = valueFor(s);
                else query.set(s.name, valueFor(s));
              }
            }
            let body: Record<string, unknown> | undefined;
            if (def.schema?.body) {
              body = validBody(def, bodyOverrides);
              for (const [k, v] of Object.entries(bodyOverrides)) body[k] = v;
            }
            const qs = query.toString();
            const path = fillPath(def.path, params) + (qs ? `?${qs}` : '');

            const before = await snapshot();
            const res = await clients[attacker.name].request(def.method, path, body);
            const after = await snapshot();

            expect(res.status, `${res.status} ${res.text}`).toBeLessThan(500);
            const pathHasVictim = c.victimSlots.some((s) => s.where === 'params');
            if (pathHasVictim || STATE_CHANGING.has(def.method)) {
              expect([403, 404], `${def.method} ${path} → ${res.status} ${res.text}`).toContain(res.status);
              expect(res.headers.get('content-type')).toContain('application/problem+json');
            } else if (res.status < 300) {
              // A filter with a foreign id may answer, but with nothing of the other tenant in it.
              for (const k of ['user', 'binding', 'role', 'session', 'token', 'email', ...(ANCESTOR_VICTIMS.has(attacker.victim) ? [] : ['tenant'] as const)] as const) {
                expect(res.text, `response leaks the victim's ${k}`).not.toContain(victim[k]);
              }
            } else {
              expect([403, 404]).toContain(res.status);
            }
            expect(after, 'nothing changed in the database').toBe(before);
          });
        }
      }
    });
  }

  describe('routes that end the caller’s own session, executed for real on fresh logins', () => {
    const logout = ROUTES.find((r) => keyOf(r.def) === 'POST /api/v1/auth/logout');
    it('logout exists', () => expect(logout).toBeDefined());
    for (const user of Object.keys(MATRIX_USERS) as MatrixUser[]) {
      it(`${MATRIX_USERS[user]} (${user}): logout ends only that session`, async () => {
        const fresh = tp.client();
        await fresh.login(world.users[user].email, user === 'owner' ? OWNER.password : PASSWORD);
        expect((await fresh.get('/api/v1/auth/me')).status).toBe(200);
        const res = await fresh.post('/api/v1/auth/logout');
        expect(res.status).toBe(204);
        // The cookie jar dropped the cleared cookies; replaying the old cookie must fail too.
        expect((await fresh.get('/api/v1/auth/me')).status).toBe(401);
        expect((await clientOf(user).get('/api/v1/auth/me')).status).toBe(200);
      });
    }
  });

  describe('after the matrix', () => {
    it('the victims are untouched: their sessions and tokens still work', async () => {
      const b = world.users.customerB.client;
      expect((await b.get('/api/v1/auth/me')).status).toBe(200);
      const tenant = await world.users.owner.client.get(`/api/v1/tenants/${world.customerBId}`);
      expect(tenant.body.name).toBe('Customer B');
      const tokens = await sql(tp.db!.url, 'select revoked_at from api_token where id = any($1)', [[ids.B!.token, ids.C!.token, ids.P!.token, ids.R!.token]]);
      expect(tokens.map((t) => t.revoked_at)).toEqual([null, null, null, null]);
      const sessions = await sql(tp.db!.url, 'select revoked_at from session where id = any($1)', [[ids.B!.session, ids.C!.session, ids.P!.session, ids.R!.session]]);
      expect(sessions.map((t) => t.revoked_at)).toEqual([null, null, null, null]);
    });

    it('every world user is still logged in (the matrix destroyed no session)', async () => {
      for (const u of Object.values(world.users)) expect((await u.client.get('/api/v1/auth/me')).status, u.email).toBe(200);
    });
  });
});
