import fs from 'node:fs';
import path from 'node:path';
import type { Kernel } from '../kernel.js';
import { ProblemError } from '../errors/problem.js';
import type { RouteContext } from '../http/route-registry.js';
import { KNOWN_CAPABILITIES } from '@mpanel/sdk';
import type { PluginHost, PluginRecord, Approval } from './host.js';

const pluginId = { type: 'string', pattern: '^[a-z][a-z0-9-]{1,49}$' };
const idParams = { type: 'object', required: ['id'], properties: { id: pluginId } };
const version = { type: 'string', minLength: 1, maxLength: 100 };
const approveSchema = {
  type: 'object',
  required: ['capabilities'],
  properties: {
    capabilities: { type: 'array', maxItems: 50, uniqueItems: true, items: { type: 'string', maxLength: 100 } },
    integrity: { type: 'string', maxLength: 200 },
  },
};

const pluginView = {
  type: 'object',
  required: ['id', 'package', 'version', 'source', 'state', 'manifest', 'grantedCapabilities', 'lastError', 'errorCount', 'running', 'installedAt', 'updatedAt'],
  properties: {
    id: { type: 'string' }, package: { type: 'string' }, version: { type: 'string' }, source: { enum: ['registry', 'local'] },
    state: { enum: ['enabled', 'disabled', 'failed'] }, integrity: { type: ['string', 'null'] },
    manifest: { type: 'object', additionalProperties: true }, grantedCapabilities: { type: 'array', items: { type: 'string' } },
    lastError: { type: ['string', 'null'] }, errorCount: { type: 'integer' }, running: { type: 'boolean' },
    registrations: { type: 'array', items: { type: 'string' } },
    installedAt: { type: 'string' }, updatedAt: { type: 'string' },
  },
};

/** The consent screen's content, from the manifest alone (no plugin code runs). */
function consentView(manifest: PluginRecord['manifest']) {
  return {
    capabilities: (manifest.capabilities ?? []).map((c) => ({ name: c, description: KNOWN_CAPABILITIES[c] ?? 'Not a capability this panel knows; ask the plugin’s author' })),
    permissions: manifest.permissions ?? [],
    requires: manifest.requires ?? {},
    contributes: manifest.contributes ?? {},
  };
}

/** `/api/v1/plugins…`: the plugin manager's API. */
export function registerPluginRoutes(k: Kernel, host: PluginHost): void {
  const view = (r: PluginRecord, withRegs = false) => ({
    id: r.id, package: r.packageName, version: r.version, source: r.source, state: r.state, integrity: r.integrity,
    manifest: r.manifest as unknown as Record<string, unknown>, grantedCapabilities: r.grantedCapabilities,
    lastError: r.lastError, errorCount: r.errorCount, running: host.isActive(r.id),
    ...(withRegs ? { registrations: host.registrations(r.id) } : {}),
    installedAt: r.installedAt, updatedAt: r.updatedAt,
  });
  const note = (ctx: RouteContext<any, any, any>, id: string, details: Record<string, unknown>) => {
    ctx.audit.target = `plugin:${id}`;
    ctx.audit.details = details;
  };

  k.routes.register({
    method: 'GET', path: '/api/v1/plugins', summary: 'Installed plugins with their state and last error.', tags: ['plugins'],
    permission: 'plugin.read', schema: { response: { type: 'array', items: pluginView } },
    handler: async () => (await host.list()).map((r) => view(r)),
  });

  k.routes.register({
    method: 'GET', path: '/api/v1/plugins/:id', summary: 'One installed plugin, with what it has registered.', tags: ['plugins'],
    permission: 'plugin.read', schema: { params: idParams, response: pluginView },
    handler: async (ctx) => view(await host.get(ctx.params.id), true),
  });

  k.routes.register({
    method: 'GET', path: '/api/v1/plugin-catalog', summary: 'Plugins in the configured registry (packages with the keyword mpanel-plugin).', tags: ['plugins'],
    permission: 'plugin.read',
    schema: {
      query: { type: 'object', properties: { q: { type: 'string', maxLength: 100 } } },
      response: { type: 'array', items: { type: 'object', required: ['name', 'version', 'description', 'installed'], properties: { name: { type: 'string' }, version: { type: 'string' }, description: { type: 'string' }, keywords: { type: 'array', items: { type: 'string' } }, installed: { type: ['string', 'null'] } } } },
    },
    handler: async (ctx: RouteContext<{}, { q?: string }>) => {
      const [entries, installed] = await Promise.all([host.registry.search(ctx.query.q ?? ''), host.list()]);
      const byPackage = new Map(installed.map((r) => [r.packageName, r.version]));
      return entries.map((e) => ({ ...e, installed: byPackage.get(e.name) ?? null }));
    },
  });

  k.routes.register({
    method: 'GET', path: '/api/v1/plugin-catalog/preview', summary: 'What a package is and asks for (the consent screen), read from its manifest without running it.', tags: ['plugins'],
    permission: 'plugin.read',
    schema: { query: { type: 'object', required: ['package'], properties: { package: { type: 'string', minLength: 1, maxLength: 214 }, version } } },
    handler: async (ctx: RouteContext<{}, { package: string; version?: string }>) => {
      const { release, installed } = await host.preview(ctx.query.package, ctx.query.version);
      const m = release.package.manifest;
      return {
        id: m.id, package: release.package.name, version: release.package.version, versions: release.versions, integrity: release.integrity,
        displayName: m.displayName, description: m.description ?? '', sdk: m.sdk, ...consentView(m),
        installed: installed ? { version: installed.version, state: installed.state, grantedCapabilities: installed.grantedCapabilities } : null,
      };
    },
  });

  k.routes.register({
    method: 'POST', path: '/api/v1/plugins', summary: 'Install a plugin from the registry and enable it. Needs `approve` with every capability it asks for (409 consent-required lists them).', tags: ['plugins'],
    permission: 'plugin.manage', audit: 'plugin.install', noTransaction: true, status: 201,
    schema: {
      body: { type: 'object', required: ['package'], properties: { package: { type: 'string', minLength: 1, maxLength: 214 }, version, approve: approveSchema } },
      response: pluginView,
    },
    handler: async (ctx: RouteContext<{}, {}, { package: string; version?: string; approve?: Approval }>) => {
      note(ctx, ctx.body.package, { package: ctx.body.package, version: ctx.body.version ?? 'latest', approved: ctx.body.approve?.capabilities ?? null });
      const r = await host.install(ctx.body.package, ctx.body.version, ctx.body.approve);
      note(ctx, r.id, { package: r.packageName, version: r.version, capabilities: r.grantedCapabilities, integrity: r.integrity });
      return view(r, true);
    },
  });

  for (const action of ['enable', 'disable'] as const) {
    k.routes.register({
      method: 'POST', path: `/api/v1/plugins/:id/${action}`, summary: action === 'enable' ? 'Enable (start) an installed plugin.' : 'Disable a plugin: its routes, taps, subscriptions, jobs and permissions go away at once; its data stays.', tags: ['plugins'],
      permission: 'plugin.manage', audit: `plugin.${action}`, noTransaction: true, schema: { params: idParams, response: pluginView },
      handler: async (ctx: RouteContext<{ id: string }>) => {
        note(ctx, ctx.params.id, {});
        return view(await host[action](ctx.params.id));
      },
    });
  }

  k.routes.register({
    method: 'POST', path: '/api/v1/plugins/:id/upgrade', summary: 'Upgrade to another version (default: latest). New capabilities need approval; a failed upgrade is rolled back.', tags: ['plugins'],
    permission: 'plugin.manage', audit: 'plugin.upgrade', noTransaction: true,
    schema: { params: idParams, body: { type: 'object', properties: { version, approve: approveSchema } }, response: pluginView },
    handler: async (ctx: RouteContext<{ id: string }, {}, { version?: string; approve?: Approval }>) => {
      note(ctx, ctx.params.id, { requested: ctx.body.version ?? 'latest' });
      const before = await host.get(ctx.params.id);
      const r = await host.upgrade(ctx.params.id, ctx.body.version, ctx.body.approve);
      note(ctx, r.id, { from: before.version, to: r.version, capabilities: r.grantedCapabilities });
      return view(r, true);
    },
  });

  k.routes.register({
    method: 'DELETE', path: '/api/v1/plugins/:id', summary: 'Uninstall. With ?purge=true its migrations are reverted and its schema dropped; otherwise its data is kept.', tags: ['plugins'],
    permission: 'plugin.manage', audit: 'plugin.uninstall', noTransaction: true,
    schema: { params: idParams, query: { type: 'object', properties: { purge: { type: 'boolean', default: false } } }, response: { type: 'object', required: ['id', 'purged'], properties: { id: { type: 'string' }, purged: { type: 'boolean' } } } },
    handler: async (ctx: RouteContext<{ id: string }, { purge: boolean }>) => {
      note(ctx, ctx.params.id, { purge: ctx.query.purge });
      return host.uninstall(ctx.params.id, ctx.query.purge);
    },
  });

  k.routes.register({
    method: 'GET', path: '/api/v1/plugins/:id/settings', summary: 'A plugin’s settings and their JSON Schema (for the generated form).', tags: ['plugins'],
    permission: 'plugin.read', schema: { params: idParams, response: { type: 'object', required: ['schema', 'values'], properties: { schema: { type: ['object', 'null'], additionalProperties: true }, values: { type: 'object', additionalProperties: true } } } },
    handler: async (ctx) => {
      const r = await host.get(ctx.params.id);
      return { schema: (r.manifest.settings as Record<string, unknown> | undefined) ?? null, values: r.settings };
    },
  });

  k.routes.register({
    method: 'PUT', path: '/api/v1/plugins/:id/settings', summary: 'Replace a plugin’s settings (validated against its schema); the running plugin is told.', tags: ['plugins'],
    permission: 'plugin.manage', audit: 'plugin.settings', noTransaction: true,
    schema: { params: idParams, body: { type: 'object', additionalProperties: true, maxProperties: 200 } },
    handler: async (ctx: RouteContext<{ id: string }, {}, Record<string, unknown>>) => {
      note(ctx, ctx.params.id, { keys: Object.keys(ctx.body ?? {}) });
      return { values: await host.updateSettings(ctx.params.id, ctx.body) };
    },
  });

  k.routes.register({
    method: 'GET', path: '/api/v1/ui/contributions', summary: 'Menu entries, panels and widgets of enabled plugins that you may see (for the UI shell).', tags: ['plugins'],
    permission: 'account.self',
    handler: async (ctx) => {
      const list = (await host.list()).filter((r) => host.isActive(r.id));
      const allowed = (perm?: string) => !perm || ctx.authz.has(perm);
      return list.map((r) => ({
        id: r.id, version: r.version, displayName: r.manifest.displayName,
        // Versioned URL: browsers never unload an ES module, so an upgrade must load from a new URL.
        ui: r.manifest.ui ? `/api/v1/plugin-ui/${r.id}/${r.version}/${path.basename(r.manifest.ui)}` : null,
        menu: (r.manifest.contributes?.menu ?? []).filter((m) => allowed(m.permission)),
        panels: (r.manifest.contributes?.panels ?? []).filter((m) => allowed(m.permission)),
        widgets: (r.manifest.contributes?.widgets ?? []).filter((m) => allowed(m.permission)),
      }));
    },
  });

  const UI_TYPES: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.svg': 'image/svg+xml', '.png': 'image/png', '.map': 'application/json' };

  k.routes.register({
    method: 'GET',
    path: '/api/v1/plugin-ui/:id/:version/*file',
    summary: 'Files of an enabled plugin’s prebuilt UI module (the folder of its manifest `ui` entry), under a versioned URL.',
    tags: ['plugins'],
    permission: 'account.self',
    raw: true,
    schema: { params: { type: 'object', required: ['id', 'version'], properties: { id: pluginId, version: { type: 'string', pattern: '^[0-9A-Za-z.+-]{1,100}$' }, file: { type: 'array', items: { type: 'string' } } } } },
    handler: async (ctx: RouteContext<{ id: string; version: string; file: string[] | string }>) => {
      const record = await host.get(ctx.params.id);
      if (!host.isActive(record.id) || record.version !== ctx.params.version || !record.manifest.ui) {
        throw new ProblemError('not-found', `No UI of ${ctx.params.id}@${ctx.params.version} is being served (is that version enabled?)`);
      }
      const uiDir = path.resolve(record.location, path.dirname(record.manifest.ui));
      const segments = Array.isArray(ctx.params.file) ? ctx.params.file : String(ctx.params.file).split('/');
      const file = path.resolve(uiDir, ...segments);
      const type = UI_TYPES[path.extname(file)];
      if (!file.startsWith(uiDir + path.sep) || !type || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
        throw new ProblemError('not-found', `The UI of ${record.id} has no file ${segments.join('/')}`);
      }
      ctx.res.setHeader('content-type', type);
      ctx.res.setHeader('cache-control', 'private, max-age=31536000, immutable');
      ctx.res.setHeader('x-content-type-options', 'nosniff');
      ctx.res.end(fs.readFileSync(file));
    },
  });
}
