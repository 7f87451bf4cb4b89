import type { PluginContext, PluginMigration } from './context.js';

/** Marks objects created by definePlugin (works across copies of the SDK). */
export const PLUGIN_BRAND: unique symbol = Symbol.for('mpanel.plugin') as never;

/** Why a plugin is being stopped (passed to `teardown`). */
export interface TeardownInfo {
  reason: 'disable' | 'uninstall' | 'upgrade' | 'shutdown';
}

/** What a plugin module exports as its default export. */
export interface PluginDefinition<Settings = Record<string, unknown>> {
  /** Registers routes, hooks, subscriptions, jobs and services. May be async; throwing marks the plugin failed. */
  setup(ctx: PluginContext<Settings>): void | Promise<void>;
  /**
   * Optional extra clean-up when the plugin stops, after everything registered
   * through ctx was undone. `reason` says why: an admin disabled or uninstalled
   * it, a new version replaces it, or the panel shuts down.
   */
  teardown?(info: TeardownInfo): void | Promise<void>;
  /** Migrations of the plugin's schema, in order. */
  migrations?: PluginMigration[];
  /**
   * MikroORM entities (made with `defineEntity` from this SDK). Their tables
   * live in the plugin's schema; core sets the schema when it loads them.
   */
  entities?: unknown[];
}

export type BrandedPlugin<S> = PluginDefinition<S> & { readonly [PLUGIN_BRAND]: true };

/**
 * Declares a plugin. The default export of a plugin's server entry.
 *
 * @example
 * export default definePlugin({
 *   setup(ctx) {
 *     ctx.routes.add({ method: 'GET', path: '/hello', summary: 'Say hello', permission: 'hello.read', handler: () => ({ hello: 'world' }) });
 *   },
 * });
 */
export function definePlugin<Settings = Record<string, unknown>>(definition: PluginDefinition<Settings>): BrandedPlugin<Settings> {
  if (typeof definition?.setup !== 'function') throw new TypeError('definePlugin needs an object with a setup(ctx) function');
  for (const m of definition.migrations ?? []) {
    if (!m || typeof m.name !== 'string' || typeof m.up !== 'function' || typeof m.down !== 'function') {
      throw new TypeError('every migration needs a name, up(db) and down(db)');
    }
  }
  return Object.freeze({ ...definition, [PLUGIN_BRAND]: true as const });
}

export function isPluginDefinition(value: unknown): value is PluginDefinition<any> {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] === true;
}
