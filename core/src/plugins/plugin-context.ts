import { createHmac } from 'node:crypto';
import { AsyncLocalStorage } from 'node:async_hooks';
import { AsyncSeriesHook, AsyncParallelHook, AsyncSeriesWaterfallHook, AsyncSeriesBailHook } from 'tapable';
import { Cron } from 'croner';
import type {
  PluginContext, PluginRoute, PluginRequest, PluginEntityManager, PluginHook, JobHandle, PluginManifest, PluginEvent,
} from '@mpanel/sdk';
import type { Kernel } from '../kernel.js';
import type { Em } from '../db/orm.js';
import type { RouteContext, RouteDefinition } from '../http/route-registry.js';
import { writeOutbox } from '../events/outbox.js';
import { appendAudit } from '../audit/store.js';
import { TENANT_FILTER } from '../db/entities/index.js';
import { deriveKey, seal, open } from '../system/secret-key.js';
import { resolveAuthorization } from '../rbac/resolve.js';
import type { Registrations } from './registrations.js';

/** Typed services plugins provide to each other, by `<plugin id>.<name>`. */
export class ServiceDirectory {
  private readonly services = new Map<string, { owner: string; implementation: unknown }>();

  provide(owner: string, name: string, implementation: unknown): () => void {
    const existing = this.services.get(name);
    if (existing) throw new Error(`service "${name}" is already provided by ${existing.owner}`);
    const entry = { owner, implementation };
    this.services.set(name, entry);
    return () => {
      if (this.services.get(name) === entry) this.services.delete(name);
    };
  }

  consume<T>(name: string): T {
    const entry = this.services.get(name);
    if (!entry) throw new Error(`no plugin provides the service "${name}" (is its plugin enabled?)`);
    return entry.implementation as T;
  }

  list(): Array<{ name: string; owner: string }> {
    return [...this.services.entries()].map(([name, e]) => ({ name, owner: e.owner }));
  }
}

export interface PluginRuntimeState {
  id: string;
  version: string;
  manifest: PluginManifest;
  capabilities: string[];
  schema: string;
  settings: Record<string, unknown>;
  settingsListeners: Set<(s: Record<string, unknown>) => void | Promise<void>>;
}

/**
 * The EntityManager of the plugin route whose handler is running, while it
 * runs. Look-ups through ctx (users, tenants, access) use it, so that inside a
 * route's transaction they don't wait for a second connection — on the
 * embedded database (one connection) that wait would never end.
 */
const runningRoute = new AsyncLocalStorage<{ em: () => Em; running: boolean }>();

/** Turns a core route context into what a plugin handler sees. */
function toPluginRequest(id: string, rc: RouteContext<any, any, any>): PluginRequest {
  return {
    params: rc.params,
    query: rc.query,
    body: rc.body,
    actor: {
      type: rc.actor.type, userId: rc.actor.userId, email: rc.actor.email, tenantId: rc.actor.tenantId, tenantPath: rc.actor.tenantPath, label: rc.actor.label,
    },
    can: (permission, tenantPath) => (tenantPath ? rc.authz.hasOn(permission, tenantPath) : rc.authz.has(permission)),
    visibleTenantIds: rc.visibleTenantIds,
    get em() {
      return rc.em as unknown as PluginEntityManager;
    },
    log: rc.log.child({ plugin: id }),
    requestId: rc.requestId,
    ip: rc.ip,
    headers: rc.req.headers,
    audit: rc.audit,
    publish: (type, payload, options) => {
      assertOwnName(id, type, 'event type');
      return rc.publish(type, payload, options);
    },
    afterCommit: (fn) => rc.afterCommit(fn),
    raw: { req: rc.req, res: rc.res },
  };
}

function assertOwnName(id: string, name: string, what: string): void {
  if (!name.startsWith(`${id}.`)) throw new Error(`${what} "${name}" must start with "${id}."`);
}

/**
 * Builds the `ctx` a plugin's setup receives. Every registration goes through
 * `regs`, so disabling the plugin undoes it completely.
 */
export function createPluginContext(k: Kernel, state: PluginRuntimeState, regs: Registrations, services: ServiceDirectory): PluginContext<any> {
  const { id } = state;
  const log = k.log.child({ plugin: id });
  const allEm = (): Em => k.systemEm();
  /** For read-only look-ups: the running route's EntityManager (its transaction), else one for every tenant. */
  const lookupEm = (): Em => {
    const route = runningRoute.getStore();
    return route?.running ? route.em() : allEm();
  };
  /**
   * For work through ctx while a route of this plugin runs: it joins the
   * route's transaction (nested transactions become savepoints) instead of
   * waiting for a second connection — which never comes on the embedded
   * database — and commits or rolls back with the route. Outside routes
   * (jobs, subscribers, sockets) it is an EntityManager of its own.
   */
  const workEm = (): Em => {
    const route = runningRoute.getStore();
    if (!route?.running) return allEm();
    const fork = route.em().fork({ clear: true, keepTransactionContext: true }) as unknown as Em;
    fork.setFilterParams(TENANT_FILTER, { all: true });
    return fork;
  };
  const lifetime = new AbortController();
  regs.add('lifetime signal', () => lifetime.abort());
  const secretKey = deriveKey(k.masterKey, `plugin:${id}`);
  const macKey = deriveKey(k.masterKey, `plugin:${id}:hmac`);

  const tenantInfo = async (tenantId: string) => {
    if (!/^[0-9a-f-]{36}$/i.test(tenantId)) return null;
    const rows = await lookupEm().execute<Array<Record<string, any>>>('select id, parent_id, path, kind, name, quotas from tenant where id = ?', [tenantId]);
    const r = rows[0];
    if (!r) return null;
    return { id: r.id as string, parentId: (r.parent_id ?? null) as string | null, path: r.path as string, kind: r.kind, name: r.name as string, quotas: (typeof r.quotas === 'string' ? JSON.parse(r.quotas) : r.quotas) as Record<string, number> };
  };

  const ctx: PluginContext<any> = {
    id,
    version: state.version,
    manifest: Object.freeze(structuredClone(state.manifest)),
    capabilities: Object.freeze([...state.capabilities]),
    signal: lifetime.signal,

    routes: {
      add(route: PluginRoute) {
        if (!route.path?.startsWith('/')) throw new Error(`route path "${route.path}" must start with /`);
        if (route.audit) assertOwnName(id, route.audit, 'audit action');
        const def: RouteDefinition = {
          method: route.method,
          path: `/api/v1/p/${id}${route.path === '/' ? '' : route.path}`,
          summary: route.summary,
          tags: [`plugin:${id}`],
          schema: route.schema,
          permission: route.permission,
          public: route.public,
          audit: route.audit,
          tenantScoped: route.tenantScoped,
          noTransaction: route.transaction === false,
          status: route.status,
          raw: route.raw,
          handler: async (rc) => {
            const scope = { em: () => rc.em, running: true };
            try {
              return await runningRoute.run(scope, () => route.handler(toPluginRequest(id, rc)));
            } finally {
              scope.running = false; // work the handler left behind (background jobs) goes back to its own connection
            }
          },
        };
        const remove = k.routes.register(def, `plugin:${id}`);
        return regs.add(`route ${def.method} ${def.path}`, remove);
      },
    },

    permissions: { has: (name) => k.permissions.has(name) },

    db: {
      schema: state.schema,
      em: () => workEm() as unknown as PluginEntityManager,
      transaction: (fn) => workEm().transactional((tem) => fn(tem as unknown as PluginEntityManager)),
    },

    hooks: {
      tap(hookName, fn) {
        const untap = k.hooks.tap(hookName, id, fn);
        return regs.add(`tap ${hookName}`, untap);
      },
      define<T, R>(hookName: string, kind: 'series' | 'parallel' | 'waterfall' | 'bail', args: string[] = ['value']): PluginHook<T, R> {
        assertOwnName(id, hookName, 'hook name');
        const hook =
          kind === 'series' ? new AsyncSeriesHook<[T]>(args as [string])
          : kind === 'parallel' ? new AsyncParallelHook<[T]>(args as [string])
          : kind === 'waterfall' ? new AsyncSeriesWaterfallHook<[T]>(args as [string])
          : new AsyncSeriesBailHook<[T], R>(args as [string]);
        k.hooks.define(hookName, hook, { owner: id, description: `${kind} hook of plugin ${id}` });
        regs.add(`hook ${hookName}`, () => k.hooks.undefine(hookName));
        return { name: hookName, call: (arg: T) => (hook as AsyncSeriesBailHook<[T], R>).promise(arg) as Promise<R | undefined> };
      },
    },

    events: {
      async publish(type, payload, options) {
        assertOwnName(id, type, 'event type');
        await workEm().transactional((tem) => writeOutbox(tem as unknown as Em, type, payload, options));
        void k.events.drain();
      },
      subscribe(pattern, handler) {
        const off = k.events.subscribe(pattern, (e) => handler(e as PluginEvent), id);
        return regs.add(`subscription ${pattern}`, off);
      },
    },

    settings: {
      get: () => structuredClone(state.settings),
      onChange(fn) {
        state.settingsListeners.add(fn);
        return regs.add('settings listener', () => {
          state.settingsListeners.delete(fn);
        });
      },
    },

    jobs: {
      every(name, ms, fn): JobHandle {
        if (!Number.isFinite(ms) || ms < 100) throw new Error(`job "${name}": interval must be ≥ 100 ms`);
        let running = false;
        const timer = setInterval(() => {
          if (running) return;
          running = true;
          Promise.resolve()
            .then(fn)
            .catch((err) => log.error({ err, job: name }, 'plugin job failed'))
            .finally(() => (running = false));
        }, ms);
        timer.unref();
        const stop = regs.add(`job ${name}`, () => clearInterval(timer));
        return { stop };
      },
      cron(name, expression, fn): JobHandle {
        let job: Cron;
        try {
          job = new Cron(expression, { protect: true, catch: (err) => log.error({ err, job: name }, 'plugin cron job failed') }, async () => {
            await fn();
          });
        } catch (err) {
          throw new Error(`job "${name}": invalid cron expression "${expression}": ${(err as Error).message}`);
        }
        const stop = regs.add(`cron ${name}`, () => job.stop());
        return { stop };
      },
      background(name, fn): JobHandle {
        const controller = new AbortController();
        const stop = regs.add(`background ${name}`, () => controller.abort());
        Promise.resolve()
          .then(() => fn(controller.signal))
          .catch((err) => {
            if (!controller.signal.aborted) log.error({ err, job: name }, 'plugin background job failed');
          });
        return { stop };
      },
    },

    ui: { contributions: () => structuredClone(state.manifest.contributes ?? {}) },

    services: {
      provide(name, implementation) {
        const full = `${id}.${name}`;
        return regs.add(`service ${full}`, services.provide(id, full, implementation));
      },
      consume: (name) => services.consume(name),
    },

    log,

    realtime: {
      namespace(name, spec) {
        return regs.add(`realtime namespace ${name}`, k.realtime.register(id, name, spec as never));
      },
    },

    cluster: {
      nodeId: k.pluginChannels.nodeId,
      shared: k.pluginChannels.shared,
      send(topic, payload) {
        if (lifetime.signal.aborted) return; // a disabled plugin's leftover timers must not talk for it
        k.pluginChannels.send(id, topic, payload);
      },
      on(topic, handler) {
        return regs.add(`cluster topic ${topic}`, k.pluginChannels.on(id, topic, handler));
      },
    },

    mail: {
      async send(message) {
        if (!state.capabilities.includes('mail:send')) throw new Error(`plugin ${id} was not granted the capability "mail:send"`);
        await k.mailer.send(message);
      },
    },

    tenants: {
      get: (tenantId) => tenantInfo(tenantId),
      async ancestors(tenantId) {
        const t = await tenantInfo(tenantId);
        if (!t) return [];
        const ids = t.path.split('/').filter(Boolean).slice(0, -1);
        const found = await Promise.all(ids.map((a) => tenantInfo(a)));
        return found.filter((x): x is NonNullable<typeof x> => x !== null);
      },
      async subtreeIds(tenantId) {
        const t = await tenantInfo(tenantId);
        if (!t) return [];
        const rows = await lookupEm().execute<Array<{ id: string }>>('select id from tenant where path like ?', [`${t.path}%`]);
        return rows.map((r) => r.id);
      },
    },

    users: {
      async get(userId) {
        if (!/^[0-9a-f-]{36}$/i.test(userId)) return null;
        const rows = await lookupEm().execute<Array<Record<string, any>>>(
          `select u.id, u.email, u.name, u.tenant_id, u.disabled_at, t.path,
             array(select distinct r.key from role_binding rb join role r on r.id = rb.role_id where rb.user_id = u.id order by r.key) as roles
             from app_user u join tenant t on t.id = u.tenant_id where u.id = ?`,
          [userId],
        );
        const r = rows[0];
        return r ? { id: r.id, email: r.email, name: r.name, tenantId: r.tenant_id, tenantPath: r.path, disabled: !!r.disabled_at, roles: r.roles ?? [] } : null;
      },
    },

    access: {
      async forUser(userId) {
        const em = lookupEm();
        const user = await em.execute<Array<{ disabled_at: Date | null }>>('select disabled_at from app_user where id = ?', [userId]);
        if (!user[0] || user[0].disabled_at) return null;
        const { authz, visibleTenantIds } = await resolveAuthorization(em, userId);
        return { can: (permission, tenantPath) => (tenantPath ? authz.hasOn(permission, tenantPath) : authz.has(permission)), visibleTenantIds };
      },
    },

    secrets: {
      seal: (plaintext) => seal(secretKey, plaintext),
      open: (sealed) => open(secretKey, sealed),
      hmac: (data) => createHmac('sha256', macKey).update(data, 'utf8').digest('base64url'),
    },

    audit: {
      async write(entry) {
        assertOwnName(id, entry.action, 'audit action');
        await workEm().transactional((tem) =>
          appendAudit(tem as unknown as Em, {
            actorType: 'plugin', actorId: id, actorLabel: `plugin ${id}`, outcome: entry.outcome ?? 'success',
            action: entry.action, target: entry.target ?? null, tenantId: entry.tenantId ?? null, tenantPath: entry.tenantPath ?? null,
            details: { ...(entry.details ?? {}), plugin: id },
          }),
        );
      },
    },
  };
  return ctx;
}
