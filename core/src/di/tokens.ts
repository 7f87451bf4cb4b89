import type { InjectionToken } from 'tsyringe';
import type { Logger } from 'pino';
import type { PanelConfig } from '../config/load.js';
import type { Em, Orm } from '../db/orm.js';
import type { Authorization } from '../rbac/authorization.js';
import type { Actor } from './actor.js';

/** Request-scoped view of the tenant tree. */
export interface TenantScope {
  tenantId: string | null;
  tenantPath: string | null;
  visibleTenantIds: readonly string[];
}

/**
 * Injection tokens. The root container holds singletons (config, ORM, the
 * registries and services); each request gets a child container with the
 * request-scoped values below registered as values.
 */
export const Tokens = {
  Config: Symbol('Config') as InjectionToken<PanelConfig>,
  Orm: Symbol('Orm') as InjectionToken<Orm>,
  Logger: Symbol('Logger') as InjectionToken<Logger>,
  // request scope
  Actor: Symbol('Actor') as InjectionToken<Actor>,
  Authorization: Symbol('Authorization') as InjectionToken<Authorization>,
  /** The actor's tenant and the ids of every tenant it may see. */
  TenantScope: Symbol('TenantScope') as InjectionToken<TenantScope>,
  Em: Symbol('Em') as InjectionToken<Em>,
  RequestLogger: Symbol('RequestLogger') as InjectionToken<Logger>,
  RequestId: Symbol('RequestId') as InjectionToken<string>,
} as const;
