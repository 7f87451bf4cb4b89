import fs from 'node:fs';
import path from 'node:path';
import type { Kernel } from '../kernel.js';
import type { PluginHost } from '../plugins/host.js';
import { ProblemError } from '../errors/problem.js';
import type { RouteContext, AuthResult } from '../http/route-registry.js';
import type { Request } from 'express';
import { rowToEntry, type AuditEntry } from '../audit/store.js';
import { CORE_HOOKS } from '@mpanel/sdk';

/**
 * What the web shell needs besides the resource API:
 * - `GET /api/v1/ui/public` (no login needed): the branding that applies
 *   (the user's tenant chain, else the tenant whose branding.domain is this
 *   host, else the platform's) and the UI modules of plugins that take part
 *   in login (they tap the login hooks), so the login page can show their
 *   second-factor step;
 * - those modules' files under `/api/v1/ui/login-modules/<id>/<version>/…`;
 * - the audit live tail: socket.io namespace `/p/core/audit` that pushes new
 *   audit entries (`entries`) to sessions holding `audit.read`, each seeing
 *   only its own subtree, as `GET /api/v1/audit` would show them.
 */
export function registerShellSupport(k: Kernel, host: PluginHost): void {
  const LOGIN_HOOKS: string[] = [CORE_HOOKS.loginAfterPassword, CORE_HOOKS.loginVerifyFactor];
  const BRANDING_KEYS = ['productName', 'logoUrl', 'primaryColor', 'accentColor'] as const;

  /** Active plugins with a UI module that tap a login hook. */
  const loginPlugins = async () => {
    const owners = new Set(k.hooks.list().filter((h) => LOGIN_HOOKS.includes(h.name)).flatMap((h) => h.taps));
    const list = await host.list();
    return list.filter((r) => owners.has(r.id) && host.isActive(r.id) && r.manifest.ui);
  };

  /** Branding of a tenant path, merged from the root down (nearer tenants win). */
  const brandingOf = async (tenantPath: string) => {
    const ids = tenantPath.split('/').filter(Boolean);
    if (ids.length === 0) return {};
    const rows = await k.systemEm().execute<Array<{ id: string; branding: Record<string, string> | string }>>(
      `select id, branding from tenant where id in (${ids.map(() => '?').join(',')})`,
      ids,
    );
    const byId = new Map(rows.map((r) => [r.id, typeof r.branding === 'string' ? JSON.parse(r.branding) : r.branding]));
    const out: Record<string, string> = {};
    for (const id of ids) {
      const b = byId.get(id) ?? {};
      for (const key of BRANDING_KEYS) if (typeof b[key] === 'string' && b[key]) out[key] = b[key];
    }
    return out;
  };

  k.routes.register({
    method: 'GET',
    path: '/api/v1/ui/public',
    summary: 'For the web shell before and after login: the branding that applies here and the UI modules of plugins that take part in login.',
    tags: ['ui'],
    public: true,
    schema: {
      response: {
        type: 'object',
        required: ['branding', 'loginModules'],
        properties: {
          branding: { type: 'object', properties: Object.fromEntries(BRANDING_KEYS.map((key) => [key, { type: 'string' }])), additionalProperties: false },
          loginModules: { type: 'array', items: { type: 'object', required: ['id', 'version', 'ui'], properties: { id: { type: 'string' }, version: { type: 'string' }, ui: { type: 'string' } } } },
        },
      },
    },
    handler: async (ctx) => {
      let tenantPath: string | null = ctx.actor.tenantPath ?? null;
      if (!tenantPath) {
        const hostname = ctx.req.hostname?.toLowerCase();
        const rows = hostname
          ? await k.systemEm().execute<Array<{ path: string }>>(`select path from tenant where branding->>'domain' = ? order by length(path) limit 1`, [hostname])
          : [];
        tenantPath = rows[0]?.path ?? null;
      }
      if (!tenantPath) {
        const roots = await k.systemEm().execute<Array<{ path: string }>>('select path from tenant where parent_id is null order by created_at limit 1');
        tenantPath = roots[0]?.path ?? null;
      }
      const modules = await loginPlugins();
      return {
        branding: tenantPath ? await brandingOf(tenantPath) : {},
        loginModules: modules.map((r) => ({ id: r.id, version: r.version, ui: `/api/v1/ui/login-modules/${r.id}/${r.version}/${path.basename(r.manifest.ui!)}` })),
      };
    },
  });

  const UI_TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png' };

  k.routes.register({
    method: 'GET',
    path: '/api/v1/ui/login-modules/:id/:version/*file',
    summary: 'Files of the UI module of an enabled plugin that takes part in login (its second-factor step), served without a session.',
    tags: ['ui'],
    public: true,
    raw: true,
    schema: {
      params: {
        type: 'object',
        required: ['id', 'version'],
        properties: { id: { type: 'string', pattern: '^[a-z][a-z0-9-]{1,49}$' }, version: { type: 'string', pattern: '^[0-9A-Za-z.+-]{1,100}$' }, file: { type: 'array', items: { type: 'string' } } },
      },
    },
    handler: async (ctx: RouteContext<{ id: string; version: string; file: string[] | string }>) => {
      const record = (await loginPlugins()).find((r) => r.id === ctx.params.id && r.version === ctx.params.version);
      const notFound = () => new ProblemError('not-found', `No login UI of ${ctx.params.id}@${ctx.params.version}`);
      if (!record) throw notFound();
      const uiDir = path.resolve(record.location, path.dirname(record.manifest.ui!));
      const segments = Array.isArray(ctx.params.file) ? ctx.params.file : String(ctx.params.file).split('/');
      const file = path.resolve(uiDir, ...segments);
      const type = UI_TYPES[path.extname(file)];
      if (!file.startsWith(uiDir + path.sep) || !type || !fs.existsSync(file) || !fs.statSync(file).isFile()) throw notFound();
      ctx.res.setHeader('content-type', type);
      ctx.res.setHeader('cache-control', 'public, max-age=31536000, immutable');
      ctx.res.setHeader('x-content-type-options', 'nosniff');
      ctx.res.end(fs.readFileSync(file));
    },
  });

  registerAuditTail(k);
}

/** The audit live tail (namespace `/p/core/audit`): polls for new entries only while someone watches. */
function registerAuditTail(k: Kernel): void {
  const clients = new Map<string, { headers: Record<string, string | undefined>; emit: (entries: AuditEntry[]) => void; disconnect: () => void }>();
  let lastSeq: number | null = null;
  let timer: NodeJS.Timeout | null = null;
  let polling = false;

  const authenticate = (headers: Record<string, string | undefined>): Promise<AuthResult> =>
    k.authenticator.authenticate({ headers } as unknown as Request);

  /** Subtrees where the actor holds audit.read; null = everything (a grant on a root tenant). */
  const roots = (auth: AuthResult): string[] | null => {
    const grants = auth.authz.grants.filter((g) => auth.authz.hasOn('audit.read', g.tenantPath));
    if (grants.some((g) => g.tenantPath.split('/').filter(Boolean).length === 1)) return null;
    return grants.map((g) => g.tenantPath);
  };

  const poll = async () => {
    if (polling) return;
    polling = true;
    try {
      const em = k.systemEm();
      if (lastSeq === null) {
        const top = await em.execute<Array<{ seq: string | null }>>('select max(seq) as seq from audit_entry');
        lastSeq = Number(top[0]?.seq ?? 0);
        return;
      }
      const rows = await em.execute<Parameters<typeof rowToEntry>[0][]>('select * from audit_entry where seq > ? order by seq asc limit 500', [lastSeq]);
      if (rows.length === 0) return;
      const entries = rows.map(rowToEntry);
      lastSeq = entries[entries.length - 1]!.seq;
      for (const c of clients.values()) {
        let auth: AuthResult;
        try {
          auth = await authenticate(c.headers);
        } catch {
          c.disconnect();
          continue;
        }
        if (auth.actor.type === 'anonymous' || !auth.authz.has('audit.read')) {
          c.disconnect();
          continue;
        }
        const r = roots(auth);
        const visible = r === null ? entries : entries.filter((e) => e.tenantPath && r.some((p) => e.tenantPath!.startsWith(p)));
        if (visible.length) c.emit(visible);
      }
    } catch (err) {
      k.log.warn({ err }, 'audit tail poll failed');
    } finally {
      polling = false;
    }
  };

  const ensureTimer = () => {
    if (clients.size > 0 && !timer) {
      lastSeq = null;
      void poll();
      timer = setInterval(() => void poll(), 1000);
      timer.unref();
    } else if (clients.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
  };

  k.realtime.register('core', 'audit', {
    authenticate: async (handshake) => {
      const headers = { ...handshake.headers } as Record<string, string | undefined>;
      const token = handshake.auth?.token;
      if (typeof token === 'string') headers.authorization = `Bearer ${token}`;
      const auth = await authenticate(headers);
      if (auth.actor.type === 'anonymous' || !auth.authz.has('audit.read')) return null;
      // A cookie rides along with any page's WebSocket: only the panel's own origin may use it.
      if (auth.csrfToken && headers.origin !== undefined) {
        let originHost = '';
        try {
          originHost = new URL(headers.origin).host;
        } catch {
          return null;
        }
        const allowed = [headers.host];
        try {
          allowed.push(new URL(k.config.publicUrl).host);
        } catch {
          // no usable public URL
        }
        if (!allowed.includes(originHost)) return null;
      }
      return { headers };
    },
    onConnection: (socket) => {
      const id = socket.id;
      clients.set(id, {
        headers: (socket.identity as { headers: Record<string, string | undefined> }).headers,
        emit: (entries) => socket.emit('entries', entries),
        disconnect: () => socket.disconnect(),
      });
      socket.onDisconnect(() => {
        clients.delete(id);
        ensureTimer();
      });
      ensureTimer();
    },
  });
}
