/**
 * @mpanel/core — the kernel. Plugins never import this package; they use
 * @mpanel/sdk. These exports are for the CLI, the SDK's test harness and
 * embedding the panel in tests.
 */
export { Panel, type PanelOptions } from './panel.js';
export { loadConfig, CONFIG_VARIABLES, type PanelConfig } from './config/load.js';
export type { Kernel } from './kernel.js';
export { ProblemError, isProblem, type ProblemDocument, type ProblemFieldError } from './errors/problem.js';
export { defineProblem, listProblems, problemTypeUri } from './errors/catalogue.js';
export type { RouteDefinition, RouteContext, RouteSchemas, HttpMethod } from './http/route-registry.js';
export { HookRegistry, type Untap } from './hooks/registry.js';
export { LOGIN_HOOKS, type LoginState, type LoginSubject, type FactorAttempt, type FactorVerdict, type FactorRequirement } from './auth/login-hooks.js';
export { ALL_PERMISSIONS, CORE_PERMISSIONS, type PermissionDefinition } from './rbac/permissions.js';
export { BUILTIN_ROLES, type BuiltinRole } from './rbac/builtin-roles.js';
export { Authorization } from './rbac/authorization.js';
export type { Actor } from './di/actor.js';
export { Tokens } from './di/tokens.js';
export type { DomainEvent, PublishOptions } from './events/outbox.js';
export { verifyAudit, queryAudit, type AuditEntry } from './audit/store.js';
export { CORE_VERSION } from './version.js';
