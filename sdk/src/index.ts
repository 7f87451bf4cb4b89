/**
 * @mpanel/sdk — the public API for mpanel plugins. A plugin imports only
 * this package. Breaking any export here needs a major version.
 */
export { definePlugin, isPluginDefinition, PLUGIN_BRAND, type PluginDefinition, type BrandedPlugin, type TeardownInfo } from './plugin.js';
export type {
  PluginContext, PluginRoute, PluginRequest, PluginActor, PluginEntityManager, PluginLogger, PluginEvent, PluginMigration,
  MigrationDb, EventOptions, JobHandle, Disposer, JsonSchema, PluginHook, TenantInfo, UserInfo, UserAccess,
  RealtimeHandshake, RealtimeSocket, RealtimeNamespaceSpec, ClusterChannel,
} from './context.js';
export { manifestSchema, KNOWN_CAPABILITIES, type PluginManifest, type PluginContributions } from './manifest.js';
export { ProblemError, isProblemError, PROBLEM_BRAND, type ProblemOptions } from './problem.js';
export { CORE_HOOKS, type LoginSubject, type LoginState, type FactorAttempt, type FactorVerdict, type FactorRequirement } from './core-hooks.js';
export { defineEntity, p, tenantScoped } from './entities.js';
export type { PluginShell, PluginUiModule, ShellApi, ShellApiError } from './ui.js';
export { SDK_VERSION } from './version.js';
