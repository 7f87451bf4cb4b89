import type { Request, Response, NextFunction } from 'express';
import FindMyWay, { type HTTPMethod } from 'find-my-way';
import type { ValidateFunction } from 'ajv';
import type { DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import { ProblemError, fromForeignProblem } from '../errors/problem.js';
import type { Em, Orm } from '../db/orm.js';
import type { Actor } from '../di/actor.js';
import { Tokens } from '../di/tokens.js';
import type { Authorization } from '../rbac/authorization.js';
import type { PermissionRegistry } from '../rbac/permissions.js';
import { TENANT_FILTER, type TenantFilterParams } from '../db/entities/index.js';
import { appendAudit, type AuditInput } from '../audit/store.js';
import { writeOutbox, type PublishOptions } from '../events/outbox.js';
import { compileBody, compileStrings, toFieldErrors, type JsonSchema } from './schema.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Result of authenticating a request (see auth/authenticator.ts). */
export interface AuthResult {
  actor: Actor;
  authz: Authorization;
  /** Tenant ids this actor may see; the tenant filter of the request's EntityManager. */
  visibleTenantIds: string[];
  /** Set when the credentials came from the session cookie (then CSRF applies). */
  csrfToken?: string;
}

export interface Authenticator {
  authenticate(req: Request): Promise<AuthResult>;
}

/** What the handler fills in for the route's audit entry. */
export interface AuditNote {
  /** Overrides the actor (e.g. login: the request is anonymous, the entry names the user who logged in). */
  actor?: { type: 'user' | 'token' | 'anonymous' | 'system'; id: string | null; label: string };
  target?: string;
  tenantId?: string | null;
  tenantPath?: string | null;
  details?: Record<string, unknown>;
}

/** Everything a route handler gets. */
export interface RouteContext<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  authz: Authorization;
  /** Ids of every tenant the actor may see (the request EntityManager's tenant filter). */
  visibleTenantIds: readonly string[];
  /** The session's CSRF token (cookie sessions only). */
  csrfToken: string | null;
  /** Request-scoped EntityManager: inside the route's transaction for state-changing routes; tenant-filtered. */
  em: Em;
  /** The request's child DI container (actor, authz, em, logger registered as values). */
  container: DependencyContainer;
  log: Logger;
  requestId: string;
  ip: string;
  userAgent: string | null;
  /** Details for this route's audit entry. */
  audit: AuditNote;
  /** Runs `fn` after the route's transaction committed (e.g. dropping caches that a concurrent request could refill with pre-commit data). */
  afterCommit(fn: () => void): void;
  /** Publishes a domain event in the route's transaction (delivered after commit). */
  publish(type: string, payload: Record<string, unknown>, options?: PublishOptions): Promise<void>;
  /** Writes an extra audit entry in the route's transaction (for security events inside a route). */
  auditExtra(entry: Omit<AuditInput, 'actorType' | 'ip' | 'userAgent' | 'requestId'> & { actorType?: AuditInput['actorType'] }): Promise<void>;
  /**
   * An EntityManager that ignores the tenant filter — only for code that must
   * look across tenants before an actor is known (login, setup, reset).
   */
  unscopedEm(): Em;
  req: Request;
  res: Response;
}

export interface RouteSchemas {
  params?: JsonSchema;
  query?: JsonSchema;
  body?: JsonSchema;
  /** Schema of the success response body (documented; checked in tests). */
  response?: JsonSchema;
}

/** A route as declared by core or a plugin. */
export interface RouteDefinition<P = any, Q = any, B = any, R = any> {
  method: HttpMethod;
  /** Express-style path, e.g. `/api/v1/users/:id`. */
  path: string;
  summary: string;
  tags?: string[];
  schema?: RouteSchemas;
  /** Permission the actor must hold somewhere in its grants. Exactly one of `permission`/`public`. */
  permission?: string;
  /** Explicitly open to anonymous callers. */
  public?: true;
  /** Audit action; required for state-changing methods. */
  audit?: string;
  /** The route acts on an object owned by a tenant, addressed by `:id` (RBAC matrix checks cross-tenant ids). */
  tenantScoped?: boolean;
  /** Success status (default 200, or 204 when the handler returns undefined). */
  status?: number;
  /** The handler writes the response itself (streams, CSV). */
  raw?: boolean;
  /** Skip CSRF (only for routes that cannot have a session yet, e.g. login). */
  csrfExempt?: boolean;
  /** Runs state-changing routes without a surrounding transaction (handler manages its own). */
  noTransaction?: boolean;
  handler(ctx: RouteContext<P, Q, B>): Promise<R> | R;
}

interface CompiledRoute {
  def: RouteDefinition;
  owner: string;
  /** Name of a trailing `*name` wildcard in the path (its segments become an array param). */
  wildcard?: string;
  params?: ValidateFunction;
  query?: ValidateFunction;
  body?: ValidateFunction;
  response?: ValidateFunction;
}

export interface RouteRegistryDeps {
  orm: Orm;
  rootContainer: DependencyContainer;
  permissions: PermissionRegistry;
  authenticator: Authenticator;
  logger: Logger;
  /** Validate responses against their schema (on in tests) — a mismatch is a 500 in that mode. */
  validateResponses: boolean;
  /** Called after a state-changing transaction commits (triggers event delivery). */
  afterCommit: () => void;
  /** Called when a handler fails with something other than a problem (a bug): the plugin host blames the owner. */
  onHandlerError?: (owner: string, error: unknown) => void | Promise<void>;
}

const STATE_CHANGING = new Set<HttpMethod>(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * The one way to add an HTTP route. Every route declares its schemas, its
 * permission decision and (when it changes state) its audit action; register()
 * refuses a route that doesn't. Routes are grouped by owner (`core`, plugin
 * ids) so an owner's routes can be removed at once without a restart.
 */
export class RouteRegistry {
  private readonly routes = new Map<string, CompiledRoute>();
  // One radix-tree router (find-my-way, as in Fastify) over every owner's
  // routes: matching cost does not grow with the number of routes, and
  // rebuilding it after a plugin change is cheap.
  private router = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 500 });
  private dirty = true;

  constructor(private readonly deps: RouteRegistryDeps) {}

  register(def: RouteDefinition, owner = 'core'): () => void {
    const key = `${def.method} ${def.path}`;
    if (!def.path.startsWith('/')) throw new Error(`route ${key}: path must start with /`);
    if (def.public && def.permission) throw new Error(`route ${key}: declare either a permission or public, not both`);
    if (!def.public && !def.permission) throw new Error(`route ${key}: no permission decision (set \`permission\` or \`public: true\`)`);
    if (def.permission && !this.deps.permissions.has(def.permission)) throw new Error(`route ${key}: unknown permission "${def.permission}"`);
    if (STATE_CHANGING.has(def.method) && !def.audit) throw new Error(`route ${key}: state-changing routes must declare an audit action`);
    if (this.routes.has(key)) throw new Error(`route ${key} is already registered by ${this.routes.get(key)!.owner}`);
    const compiled: CompiledRoute = {
      def,
      owner,
      params: def.schema?.params ? compileStrings(def.schema.params) : undefined,
      query: compileStrings(def.schema?.query ?? { type: 'object', properties: {} }),
      body: def.schema?.body ? compileBody(def.schema.body) : undefined,
      response: def.schema?.response && this.deps.validateResponses ? compileBody(def.schema.response) : undefined,
    };
    this.routes.set(key, compiled);
    this.dirty = true;
    return () => {
      if (this.routes.get(key) === compiled) {
        this.routes.delete(key);
        this.dirty = true;
      }
    };
  }

  /** Removes every route of an owner (plugin disable). */
  removeOwner(owner: string): void {
    for (const [key, r] of this.routes) if (r.owner === owner) this.routes.delete(key);
    this.dirty = true;
  }

  list(): Array<{ owner: string; def: RouteDefinition }> {
    return [...this.routes.values()].map((r) => ({ owner: r.owner, def: r.def }));
  }

  /** Express middleware dispatching to the current routes; swapping routes needs no restart. */
  middleware(): (req: Request, res: Response, next: NextFunction) => void {
    return (req, res, next) => {
      if (this.dirty) this.rebuild();
      const method = req.method === 'HEAD' ? 'GET' : req.method;
      const found = this.router.find(method as HTTPMethod, req.path);
      if (!found) {
        const allowed = (['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter((m) => m !== method && this.router.find(m, req.path));
        if (allowed.length) {
          res.setHeader('allow', allowed.join(', '));
          return next(new ProblemError('method-not-allowed', `${req.path} does not take ${req.method}; it takes ${allowed.join(', ')}`));
        }
        return next();
      }
      const route = found.store as CompiledRoute;
      const params: Record<string, unknown> = { ...found.params };
      if (route.wildcard && '*' in params) {
        params[route.wildcard] = String(params['*']).split('/');
        delete params['*'];
      }
      req.params = params as Record<string, string>;
      // The route template labels metrics and logs (never the raw path).
      res.locals.routeTemplate = route.def.path;
      this.handle(route, req, res).catch((err: unknown) => {
        if (err instanceof ProblemError || fromForeignProblem(err)) return next(err);
        // Record the failure (plugin blame) before answering, so the error is visible once the 500 arrives.
        Promise.resolve(this.deps.onHandlerError?.(route.owner, err))
          .catch(() => undefined)
          .finally(() => next(err));
      });
    };
  }

  private rebuild(): void {
    const router = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 500 });
    for (const route of this.routes.values()) {
      // Express-style `*name` wildcards are find-my-way's `*`; the name is restored on dispatch.
      const wildcard = /\*([A-Za-z_][A-Za-z0-9_]*)$/.exec(route.def.path);
      route.wildcard = wildcard?.[1];
      router.on(route.def.method as HTTPMethod, wildcard ? route.def.path.slice(0, wildcard.index) + '*' : route.def.path, () => undefined, route);
    }
    this.router = router;
    this.dirty = false;
  }

  private async handle(route: CompiledRoute, req: Request, res: Response): Promise<void> {
    const { def } = route;
    const requestId = String(res.locals.requestId ?? '');
    const log: Logger = res.locals.log ?? this.deps.logger;
    const ip = req.ip ?? req.socket.remoteAddress ?? '';
    const userAgent = req.get('user-agent') ?? null;
    const auth = await this.deps.authenticator.authenticate(req);
    const { actor, authz } = auth;
    res.locals.actor = actor;

    const auditBase = {
      actorType: actor.type === 'token' ? 'token' : actor.type === 'user' ? 'user' : 'anonymous',
      actorId: actor.tokenId ?? actor.userId ?? null,
      actorLabel: actor.label,
      ip,
      userAgent,
      requestId,
    } as const;

    if (!def.public) {
      if (actor.type === 'anonymous') throw new ProblemError('unauthenticated', 'Log in or send an API token to use this route');
      if (!authz.has(def.permission!)) {
        await this.auditStandalone({
          ...auditBase,
          tenantId: actor.tenantId ?? null,
          tenantPath: actor.tenantPath ?? null,
          action: 'permission.denied',
          target: `${def.method} ${def.path}`,
          outcome: 'denied',
          details: { permission: def.permission },
        });
        throw new ProblemError('forbidden', `This needs the permission "${def.permission}"`, { permission: def.permission });
      }
    }
    if (STATE_CHANGING.has(def.method) && auth.csrfToken && !def.csrfExempt) {
      if (req.get('x-csrf-token') !== auth.csrfToken) {
        throw new ProblemError('csrf-failed', 'Send the X-CSRF-Token header with the value from login or /api/v1/auth/me');
      }
    }

    const params = { ...req.params } as Record<string, unknown>;
    if (route.params && !route.params(params)) {
      throw new ProblemError('validation-failed', 'The path parameters are not valid', { errors: toFieldErrors('params', route.params.errors) });
    }
    const query = { ...(req.query as Record<string, unknown>) };
    if (route.query && !route.query(query)) {
      throw new ProblemError('validation-failed', 'The query string is not valid', { errors: toFieldErrors('query', route.query.errors) });
    }
    let body: unknown = req.body;
    if (route.body) {
      if (body === undefined) body = {};
      if (!route.body(body)) {
        throw new ProblemError('validation-failed', 'The request body is not valid', { errors: toFieldErrors('body', route.body.errors) });
      }
    } else if (
      STATE_CHANGING.has(def.method) &&
      req.body !== undefined &&
      (typeof req.body !== 'object' || req.body === null || Array.isArray(req.body) || Object.keys(req.body).length > 0)
    ) {
      throw new ProblemError('validation-failed', 'This route takes no request body', { errors: [{ pointer: '/body', message: 'must be empty' }] });
    }

    const badText = findBadText(body, '/body') ?? findBadText(query, '/query') ?? findBadText(params, '/params');
    if (badText) {
      throw new ProblemError('validation-failed', 'Text may not contain NUL characters or unpaired UTF-16 surrogates', { errors: [{ pointer: badText, message: 'contains a NUL character or an unpaired surrogate' }] });
    }

    // The EntityManager fork and the child container are created on first use:
    // many GET routes (e.g. /auth/me) need neither, and both cost per request.
    const filter: TenantFilterParams = { ids: auth.visibleTenantIds };
    let scopedEm: Em | null = null;
    const baseEm = (): Em => {
      if (!scopedEm) {
        scopedEm = this.deps.orm.em.fork({ clear: true }) as unknown as Em;
        scopedEm.setFilterParams(TENANT_FILTER, filter);
      }
      return scopedEm;
    };
    let childContainer: DependencyContainer | null = null;
    const containerFor = (em: () => Em): DependencyContainer => {
      if (!childContainer) {
        childContainer = this.deps.rootContainer.createChildContainer();
        childContainer.register(Tokens.Actor, { useValue: actor });
        childContainer.register(Tokens.Authorization, { useValue: authz });
        childContainer.register(Tokens.TenantScope, { useValue: { tenantId: actor.tenantId ?? null, tenantPath: actor.tenantPath ?? null, visibleTenantIds: auth.visibleTenantIds } });
        childContainer.register(Tokens.RequestLogger, { useValue: log });
        childContainer.register(Tokens.RequestId, { useValue: requestId });
        childContainer.register(Tokens.Em, { useFactory: () => em() });
      }
      return childContainer;
    };

    const note: AuditNote = {};
    const commitCallbacks: Array<() => void> = [];
    const makeCtx = (getEm: () => Em, inTx: boolean): RouteContext => ({
      params: params as Record<string, string>,
      query,
      body,
      actor,
      authz,
      visibleTenantIds: auth.visibleTenantIds,
      csrfToken: auth.csrfToken ?? null,
      get em() {
        return getEm();
      },
      get container() {
        return containerFor(getEm);
      },
      log,
      requestId,
      ip,
      userAgent,
      audit: note,
      afterCommit: (fn) => {
        if (inTx) commitCallbacks.push(fn);
        else fn();
      },
      publish: async (type, payload, options) => {
        if (inTx) return writeOutbox(getEm(), type, payload, options);
        if (!STATE_CHANGING.has(def.method)) throw new Error(`${def.method} ${def.path}: events can only be published by state-changing routes`);
        // A state-changing route without a route transaction (noTransaction): the event commits on its own.
        await getEm().transactional((tem) => writeOutbox(tem as unknown as Em, type, payload, options));
        this.deps.afterCommit();
      },
      auditExtra: async (entry) => {
        await appendAudit(getEm(), { ...auditBase, ...entry, actorType: entry.actorType ?? auditBase.actorType });
      },
      unscopedEm: () => {
        // Shares the route's transaction (if any) but has its own unit of work: flush it yourself.
        const un = getEm().fork({ clear: true, keepTransactionContext: true }) as unknown as Em;
        un.setFilterParams(TENANT_FILTER, { all: true } satisfies TenantFilterParams);
        return un;
      },
      req,
      res,
    });

    let result: unknown;
    if (STATE_CHANGING.has(def.method) && !def.noTransaction) {
      try {
        result = await baseEm().transactional(async (tem) => {
          const em = tem as unknown as Em;
          const r = await def.handler(makeCtx(() => em, true));
          await appendAudit(em, this.entryFor(def, auditBase, actor, note, 'success'));
          return r;
        });
      } catch (error) {
        await this.auditFailure(def, auditBase, actor, note, error);
        throw error;
      }
      for (const fn of commitCallbacks) fn();
      this.deps.afterCommit();
    } else if (STATE_CHANGING.has(def.method)) {
      try {
        result = await def.handler(makeCtx(baseEm, false));
        await this.auditStandalone(this.entryFor(def, auditBase, actor, note, 'success'));
      } catch (error) {
        await this.auditFailure(def, auditBase, actor, note, error);
        throw error;
      }
    } else {
      result = await def.handler(makeCtx(baseEm, false));
    }

    if (def.raw || res.headersSent) return;
    if (route.response && result !== undefined && !route.response(result)) {
      log.error({ errors: route.response.errors, route: `${def.method} ${def.path}` }, 'response does not match its schema');
      throw new Error(`response of ${def.method} ${def.path} does not match its schema: ${JSON.stringify(route.response.errors)}`);
    }
    if (result === undefined) {
      res.status(def.status ?? 204).end();
      return;
    }
    res.status(def.status ?? 200).json(result);
  }

  private entryFor(def: RouteDefinition, base: Omit<AuditInput, 'action' | 'outcome'>, actor: Actor, note: AuditNote, outcome: AuditInput['outcome'], extra: Record<string, unknown> = {}): AuditInput {
    return {
      ...base,
      ...(note.actor ? { actorType: note.actor.type, actorId: note.actor.id, actorLabel: note.actor.label } : {}),
      tenantId: note.tenantId !== undefined ? note.tenantId : (actor.tenantId ?? null),
      tenantPath: note.tenantPath !== undefined ? note.tenantPath : (actor.tenantPath ?? null),
      action: def.audit!,
      target: note.target ?? null,
      outcome,
      details: { ...(note.details ?? {}), ...extra },
    };
  }

  private async auditFailure(def: RouteDefinition, base: Omit<AuditInput, 'action' | 'outcome'>, actor: Actor, note: AuditNote, error: unknown): Promise<void> {
    const code = error instanceof ProblemError ? error.code : (fromForeignProblem(error)?.code ?? 'internal');
    await this.auditStandalone(this.entryFor(def, base, actor, note, 'failure', { error: code }));
  }

  private async auditStandalone(entry: AuditInput): Promise<void> {
    const em = this.deps.orm.em.fork();
    await em.transactional((tem) => appendAudit(tem as unknown as Em, entry));
  }
}

/**
 * PostgreSQL text can hold neither NUL nor unpaired surrogates; refusing them
 * here, once, keeps every handler from failing with a 500 on such input.
 */
function findBadText(value: unknown, pointer: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') || !value.isWellFormed() ? pointer : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const bad = findBadText(value[i], `${pointer}/${i}`);
      if (bad) return bad;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const bad = findBadText(k, `${pointer}/${k}`) ?? findBadText(v, `${pointer}/${k}`);
      if (bad) return bad;
    }
  }
  return null;
}

