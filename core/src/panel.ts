import 'reflect-metadata';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { container as rootContainer } from 'tsyringe';
import { pino, type Logger } from 'pino';
import type { PanelConfig } from './config/load.js';
import { openDatabase, migrateCore, type Em, type Orm } from './db/orm.js';
import { TENANT_FILTER } from './db/entities/index.js';
import { Tokens } from './di/tokens.js';
import { RouteRegistry } from './http/route-registry.js';
import { buildApp } from './http/app.js';
import { PanelMetrics } from './http/metrics.js';
import { PermissionRegistry, CORE_PERMISSIONS } from './rbac/permissions.js';
import { ensureBuiltinRoles } from './rbac/roles.js';
import { HookRegistry } from './hooks/registry.js';
import { EventBus } from './events/bus.js';
import { SocketGateway } from './events/socket-gateway.js';
import { RealtimeHub } from './events/realtime.js';
import { ClusterBus } from './cluster/cluster-bus.js';
import { PluginChannels } from './cluster/plugin-channels.js';
import { CredentialAuthenticator } from './auth/authenticator.js';
import { LoginThrottle } from './auth/throttle.js';
import { defineLoginHooks, type LoginHooks } from './auth/login-hooks.js';
import { registerLoginRoutes } from './auth/login-routes.js';
import { registerAccountRoutes } from './auth/account-routes.js';
import { registerRecoveryRoutes } from './auth/recovery-routes.js';
import { randomSecret } from './auth/secrets.js';
import { Mailer } from './mail/mailer.js';
import { SystemState } from './system/state.js';
import { registerSystemRoutes } from './system/routes.js';
import { registerSetupRoutes, prepareSetupToken } from './setup/setup.js';
import { registerTenantRoutes } from './tenants/routes.js';
import { registerUserRoutes } from './users/routes.js';
import { registerRoleRoutes } from './rbac/routes.js';
import { registerAuditRoutes } from './audit/routes.js';
import { scheduleMaintenance } from './system/maintenance.js';
import { loadMasterKey } from './system/secret-key.js';
import { findUiDir, serveUi } from './http/ui-static.js';
import { PluginHost } from './plugins/host.js';
import { registerPluginRoutes } from './plugins/routes.js';
import { registerShellSupport } from './ui/shell-support.js';
import type { Kernel } from './kernel.js';

export interface PanelOptions {
  logger?: Logger;
  /** Clock override for tests (throttling, expiry). */
  now?: () => number;
  /** Validate every response against its schema (default: on under vitest). */
  validateResponses?: boolean;
  /** How long a resolved credential is trusted before re-reading it (seconds). */
  credentialCacheSeconds?: number;
  /** Local plugin package directories to load at start, besides MPANEL_PLUGIN_PATHS (test harness). */
  plugins?: string[];
}

/**
 * One mpanel process: database, kernel services, HTTP server, socket.io.
 * `Panel.create` opens the database and runs pending migrations; `listen`
 * starts serving; `close` shuts down gracefully.
 */
export class Panel {
  readonly kernel: Kernel;
  readonly loginHooks: LoginHooks;
  /** The plugin host (install, enable, disable, upgrade, uninstall in the running process). */
  plugins!: PluginHost;
  /** Set on a fresh installation: print it so the admin can complete setup. */
  setupToken: string | null = null;
  private server: http.Server | null = null;
  private gateway: SocketGateway | null = null;
  private ready = false;
  private closing: Promise<void> | null = null;
  private serverSecret = '';
  private stopMaintenance: (() => void) | null = null;
  private stopReconcile: (() => void) | null = null;

  private constructor(kernel: Kernel, loginHooks: LoginHooks) {
    this.kernel = kernel;
    this.loginHooks = loginHooks;
  }

  static async create(config: PanelConfig, options: PanelOptions = {}): Promise<Panel> {
    const log = options.logger ?? pino({ level: config.logLevel, base: { svc: 'mpanel' } });
    const now = options.now ?? Date.now;
    const { orm, kind } = await openDatabase(config, (message) => log.debug({ orm: true }, message));
    try {
      return await Panel.assemble(config, options, log, now, orm, kind);
    } catch (error) {
      // Whatever failed after the database opened, don't leave it open (the CLI would hang).
      await orm.close(true).catch(() => undefined);
      throw error;
    }
  }

  private static async assemble(config: PanelConfig, options: PanelOptions, log: Logger, now: () => number, orm: Orm, kind: 'postgresql' | 'pglite'): Promise<Panel> {
    const ran = await migrateCore(orm);
    if (ran.length) log.info({ migrations: ran }, 'applied core migrations');
    const container = rootContainer.createChildContainer();
    const systemEm = (): Em => {
      const em = orm.em.fork() as unknown as Em;
      em.setFilterParams(TENANT_FILTER, { all: true });
      return em;
    };
    let host: PluginHost | undefined;
    const permissions = new PermissionRegistry();
    for (const p of CORE_PERMISSIONS) permissions.register({ ...p, owner: 'core' });
    const authenticator = new CredentialAuthenticator(orm, {
      sessionTtlSeconds: config.sessionTtlSeconds,
      cacheSeconds: options.credentialCacheSeconds ?? 5,
      now,
    });
    const events = new EventBus(orm, log.child({ component: 'events' }));
    const routes = new RouteRegistry({
      orm,
      rootContainer: container,
      permissions,
      authenticator,
      logger: log,
      validateResponses: options.validateResponses ?? !!process.env.VITEST,
      afterCommit: () => void events.drain(),
      onHandlerError: (owner, error) => host?.recordError(owner, 'route', error),
    });
    const cluster = new ClusterBus(kind === 'postgresql' ? config.databaseUrl : undefined, log.child({ component: 'cluster' }));
    const kernel: Kernel = {
      config,
      orm,
      dbKind: kind,
      log,
      container,
      routes,
      permissions,
      hooks: new HookRegistry(),
      events,
      authenticator,
      throttle: new LoginThrottle({
        maxPerAccount: config.loginMaxFailuresPerAccount,
        maxPerIp: config.loginMaxFailuresPerIp,
        lockSeconds: config.loginLockSeconds,
        now,
      }),
      mailer: new Mailer(config.smtpUrl, config.mailFrom, log.child({ component: 'mail' })),
      metrics: new PanelMetrics(),
      state: new SystemState(),
      masterKey: loadMasterKey(config.dataDir, config.secretKey),
      realtime: new RealtimeHub(log.child({ component: 'realtime' })),
      cluster,
      pluginChannels: new PluginChannels(cluster, log.child({ component: 'cluster' })),
      systemEm,
      now,
    };
    container.register(Tokens.Config, { useValue: config });
    container.register(Tokens.Orm, { useValue: orm });
    container.register(Tokens.Logger, { useValue: log });

    // Other processes on the same database drop revoked credentials and forward events to their sockets.
    authenticator.onInvalidate = (scope, id) => kernel.cluster.send({ kind: 'auth.invalidate', scope, id });
    events.onDelivered = (event) => kernel.cluster.send({ kind: 'event.delivered', id: event.id });
    kernel.cluster.on(async (message) => {
      if (message.kind === 'auth.invalidate') authenticator.drop(message.scope, message.id);
      else if (message.kind === 'event.delivered') await events.deliverToSinks(message.id);
    });
    await ensureBuiltinRoles(systemEm());
    const panel = new Panel(kernel, defineLoginHooks(kernel.hooks));
    panel.serverSecret = await panel.loadServerSecret();
    registerSystemRoutes(kernel, () => panel.ready);
    registerSetupRoutes(kernel);
    registerLoginRoutes(kernel, panel.loginHooks, () => panel.serverSecret);
    registerAccountRoutes(kernel);
    registerRecoveryRoutes(kernel);
    registerTenantRoutes(kernel);
    registerUserRoutes(kernel);
    registerRoleRoutes(kernel);
    registerAuditRoutes(kernel);
    host = new PluginHost(kernel);
    panel.plugins = host;
    // A plugin installed, enabled, disabled, upgraded, uninstalled or re-configured through another process.
    kernel.cluster.on((message) => (message.kind === 'plugins.changed' ? host.follow(message.id) : undefined));
    registerPluginRoutes(kernel, host);
    registerShellSupport(kernel, host);
    await host.boot([...config.pluginPaths, ...(options.plugins ?? [])]);
    return panel;
  }

  private async loadServerSecret(): Promise<string> {
    const em = this.kernel.systemEm();
    const existing = await this.kernel.state.get<string>(em, 'server-secret');
    if (existing) return existing;
    const secret = randomSecret(32);
    await this.kernel.state.set(em, 'server-secret', secret);
    return secret;
  }

  /** Starts HTTP + socket.io; resolves with the bound address. */
  async listen(port = this.kernel.config.port, host = this.kernel.config.host): Promise<{ port: number; host: string; url: string }> {
    this.setupToken = await prepareSetupToken(this.kernel);
    const uiDir = findUiDir(this.kernel.config.uiDir);
    const ui = uiDir ? serveUi(uiDir) : null;
    if (!ui) this.kernel.log.info('no built web shell found (npm run build builds ui/): serving the API only');
    const app = buildApp({
      routes: this.kernel.routes,
      logger: this.kernel.log,
      metrics: this.kernel.metrics,
      bodyLimitBytes: this.kernel.config.bodyLimitBytes,
      trustProxy: this.kernel.config.trustProxy,
      fallbacks: ui?.handlers,
      scriptSources: ui?.scriptHashes,
    });
    const server = http.createServer(app);
    server.keepAliveTimeout = 65_000;
    this.gateway = new SocketGateway(server, this.kernel);
    this.kernel.realtime.attach(this.gateway.io);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      await this.gateway.close().catch(() => undefined);
      this.gateway = null;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new Error(`${host}:${port} is in use by another process; set PORT or HOST`);
      throw error;
    }
    this.server = server;
    await this.kernel.cluster.start();
    this.kernel.events.start();
    this.stopMaintenance = scheduleMaintenance(this.kernel);
    this.stopReconcile = this.kernel.cluster.enabled ? scheduleReconcile(this.plugins, this.kernel) : null;
    this.ready = true;
    const addr = server.address() as AddressInfo;
    const url = `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`;
    this.kernel.log.info({ url }, 'mpanel listening');
    return { port: addr.port, host: addr.address, url };
  }

  /**
   * Graceful shutdown: stop accepting, let in-flight requests finish (up to
   * the grace period), then close sockets, the event bus and the database.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.ready = false;
      this.stopMaintenance?.();
      this.stopReconcile?.();
      const server = this.server;
      if (server) {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await this.gateway?.close();
        this.kernel.realtime.detach();
        const grace = setTimeout(() => server.closeAllConnections(), this.kernel.config.shutdownGraceSeconds * 1000);
        grace.unref();
        // Idle keep-alive sockets that become idle after their last response are closed as they go.
        const idle = setInterval(() => server.closeIdleConnections(), 100);
        await closed;
        clearTimeout(grace);
        clearInterval(idle);
      }
      await this.plugins?.close();
      await this.kernel.events.stop();
      await this.kernel.cluster.stop();
      this.kernel.mailer.close();
      await this.kernel.orm.close(true);
    })();
    return this.closing;
  }
}

/** How often a process re-reads the plugin table for changes it may have missed (several processes only). */
const RECONCILE_EVERY_MS = 60_000;

function scheduleReconcile(host: PluginHost, k: Kernel): () => void {
  const timer = setInterval(() => {
    host.reconcile().then(
      (ids) => ids.length && k.log.info({ plugins: ids }, 'applied plugin changes this process had missed'),
      (err) => k.log.warn({ err }, 'plugin reconcile pass failed'),
    );
  }, RECONCILE_EVERY_MS);
  timer.unref();
  return () => clearInterval(timer);
}
