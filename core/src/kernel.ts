import type { DependencyContainer } from 'tsyringe';
import type { Logger } from 'pino';
import type { PanelConfig } from './config/load.js';
import type { Orm, Em } from './db/orm.js';
import type { RouteRegistry } from './http/route-registry.js';
import type { PermissionRegistry } from './rbac/permissions.js';
import type { HookRegistry } from './hooks/registry.js';
import type { EventBus } from './events/bus.js';
import type { CredentialAuthenticator } from './auth/authenticator.js';
import type { LoginThrottle } from './auth/throttle.js';
import type { Mailer } from './mail/mailer.js';
import type { PanelMetrics } from './http/metrics.js';
import type { SystemState } from './system/state.js';
import type { RealtimeHub } from './events/realtime.js';
import type { ClusterBus } from './cluster/cluster-bus.js';
import type { PluginChannels } from './cluster/plugin-channels.js';

/**
 * The kernel's singletons, handed to each core module's `register…` function.
 * Also registered in the root DI container under the same names.
 */
export interface Kernel {
  config: PanelConfig;
  orm: Orm;
  dbKind: 'postgresql' | 'pglite';
  log: Logger;
  container: DependencyContainer;
  routes: RouteRegistry;
  permissions: PermissionRegistry;
  hooks: HookRegistry;
  events: EventBus;
  authenticator: CredentialAuthenticator;
  throttle: LoginThrottle;
  mailer: Mailer;
  metrics: PanelMetrics;
  state: SystemState;
  /** LISTEN/NOTIFY between panel processes sharing one PostgreSQL (inactive on the embedded database). */
  cluster: ClusterBus;
  /** Plugin messages over `cluster` (`ctx.cluster`). */
  pluginChannels: PluginChannels;
  /** Plugin-owned socket.io namespaces. */
  realtime: RealtimeHub;
  /** Master key for secrets at rest (see system/secret-key.ts); derive sub-keys, never use it directly. */
  masterKey: Buffer;
  /** An EntityManager that sees every tenant: for system work only (CLI, start-up, login). */
  systemEm(): Em;
  now(): number;
}
