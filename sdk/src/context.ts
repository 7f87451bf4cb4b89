import type { PluginManifest } from './manifest.js';

/** JSON Schema as accepted by route and settings declarations. */
export type JsonSchema = Record<string, unknown>;

/** Structured logger scoped to the plugin (pino-compatible subset). */
export interface PluginLogger {
  trace(obj: object | string, msg?: string): void;
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}

/** Who is calling a route. */
export interface PluginActor {
  type: 'user' | 'token' | 'anonymous' | 'system';
  userId?: string;
  email?: string;
  tenantId?: string;
  tenantPath?: string;
  label: string;
}

/** The subset of MikroORM's EntityManager a plugin gets; tenant-filtered in requests. */
export interface PluginEntityManager {
  find<T extends object>(entity: unknown, where: Record<string, unknown>, options?: Record<string, unknown>): Promise<T[]>;
  findOne<T extends object>(entity: unknown, where: Record<string, unknown>, options?: Record<string, unknown>): Promise<T | null>;
  count(entity: unknown, where?: Record<string, unknown>): Promise<number>;
  create<T extends object>(entity: unknown, data: Record<string, unknown>): T;
  persist(entity: object | object[]): unknown;
  remove(entity: object | object[]): unknown;
  flush(): Promise<void>;
  /** Raw SQL with `?` placeholders. Qualify the plugin's tables with its schema (`ctx.db.schema`). */
  execute<T = Array<Record<string, unknown>>>(sql: string, params?: unknown[]): Promise<T>;
}

/** What a route handler receives. */
export interface PluginRequest<P = Record<string, string>, Q = Record<string, unknown>, B = unknown> {
  params: P;
  query: Q;
  body: B;
  actor: PluginActor;
  /** Whether the actor holds a permission (on a tenant, by its path, if given). */
  can(permission: string, tenantPath?: string): boolean;
  /** Tenant ids the actor may see. */
  visibleTenantIds: readonly string[];
  /** Request-scoped EntityManager: in the route's transaction for state changes, tenant-filtered. */
  em: PluginEntityManager;
  log: PluginLogger;
  requestId: string;
  ip: string;
  /** Request headers, lower-case names (e.g. `req.headers['idempotency-key']`). */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Details for this route's audit entry. */
  audit: { target?: string; tenantId?: string | null; tenantPath?: string | null; details?: Record<string, unknown> };
  /** Publishes an event in the route's transaction (delivered after commit). Type must start with `<plugin id>.`. */
  publish(type: string, payload: Record<string, unknown>, options?: EventOptions): Promise<void>;
  /** Runs `fn` once the route's transaction has committed (right away for GET routes). */
  afterCommit(fn: () => void): void;
  /** The raw Node/express request and response, for headers and streaming. */
  raw: { req: unknown; res: unknown };
}

/** A route a plugin adds; mounted under `/api/v1/p/<plugin id>`. */
export interface PluginRoute<P = any, Q = any, B = any, R = any> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the plugin prefix, starting with `/`, e.g. `/greetings/:id`. */
  path: string;
  summary: string;
  /**
   * JSON Schemas checked before the handler runs (ajv, strict mode). Objects
   * refuse unknown properties unless they set `additionalProperties`; params and
   * query strings are coerced to the declared types; bodies are not.
   */
  schema?: { params?: JsonSchema; query?: JsonSchema; body?: JsonSchema; response?: JsonSchema };
  /** A permission (core's or one from the manifest) — or `public: true`. Exactly one. */
  permission?: string;
  public?: true;
  /**
   * Audit action, required for POST/PUT/PATCH/DELETE (registration fails
   * without it); must start with `<plugin id>.`, e.g. `hello.greeting.create`.
   */
  audit?: string;
  /** The route addresses a tenant-owned object by `:id`. */
  tenantScoped?: boolean;
  /**
   * State-changing routes run in a transaction (req.em) by default. `false`
   * runs the handler without one — for work that commits in steps of its own
   * (e.g. a saga), so the route does not hold a connection meanwhile.
   */
  transaction?: false;
  status?: number;
  /** The handler writes the response itself (`req.raw.res`). */
  raw?: boolean;
  handler(req: PluginRequest<P, Q, B>): Promise<R> | R;
}

export interface EventOptions {
  tenantId?: string | null;
  tenantPath?: string | null;
  /** Permission a socket client must hold to receive it. */
  permission?: string | null;
}

/** A delivered domain event. */
export interface PluginEvent<P = Record<string, unknown>> {
  id: number;
  type: string;
  tenantId: string | null;
  tenantPath: string | null;
  permission: string | null;
  payload: P;
  createdAt: string;
}

/** A migration of the plugin's own schema (`plugin_<id>`). Keep one SQL statement per `execute`. */
export interface PluginMigration {
  /** Unique, sortable name, e.g. `0001-greetings`. Never rename or edit a released migration. */
  name: string;
  up(db: MigrationDb): Promise<void>;
  down(db: MigrationDb): Promise<void>;
}

/** What a migration can do: run SQL inside the plugin's schema, in a transaction. */
export interface MigrationDb {
  /** The schema the plugin's tables live in, e.g. `plugin_hello`. */
  schema: string;
  execute(sql: string, params?: unknown[]): Promise<unknown>;
}

export interface JobHandle {
  /** Stops the job (also done automatically on disable). */
  stop(): void;
}

/** A tenant as plugins see it. */
export interface TenantInfo {
  id: string;
  parentId: string | null;
  /** Materialised path `/<root>/…/<id>/`: a tenant is inside another's subtree when its path starts with the other's. */
  path: string;
  kind: 'platform' | 'reseller' | 'customer';
  name: string;
  quotas: Record<string, number>;
}

/** A user as plugins see it (never the password hash). */
export interface UserInfo {
  id: string;
  email: string;
  name: string;
  tenantId: string;
  tenantPath: string;
  disabled: boolean;
  /** Keys of the roles the user holds (as in `LoginSubject.roles`), e.g. for per-role policies. */
  roles: string[];
}

/** What one user may do, resolved from its role bindings (for work outside a request). */
export interface UserAccess {
  /** Whether the user holds `permission` on the tenant with `tenantPath` (or anywhere, without a path). */
  can(permission: string, tenantPath?: string): boolean;
  /** Ids of every tenant the user can see. */
  visibleTenantIds: readonly string[];
}

/** What a realtime namespace's authenticate() sees of a connecting client. */
export interface RealtimeHandshake {
  /** The client's `auth` payload (socket.io `io(url, { auth })`). */
  auth: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  address: string;
}

/** One connected client of a plugin's realtime namespace. */
export interface RealtimeSocket<Identity = unknown> {
  readonly id: string;
  /** What authenticate() returned for this client. */
  readonly identity: Identity;
  readonly address: string;
  /** Listens for a client event; `ack` is set when the client asked for an acknowledgement. */
  on(event: string, handler: (data: unknown, ack?: (response: unknown) => void) => void | Promise<void>): void;
  emit(event: string, data?: unknown): void;
  /** Sends and waits for the client's acknowledgement (rejects after `timeoutMs`). */
  request(event: string, data: unknown, timeoutMs: number): Promise<unknown>;
  onDisconnect(handler: (reason: string) => void): void;
  disconnect(): void;
}

export interface RealtimeNamespaceSpec<Identity> {
  /** Decides who may connect; return null to refuse. Browsers' sessions are not used here: the plugin decides. */
  authenticate(handshake: RealtimeHandshake): Promise<Identity | null> | Identity | null;
  onConnection(socket: RealtimeSocket<Identity>): void | Promise<void>;
}

/** `ctx.cluster`: see {@link PluginContext.cluster}. */
export interface ClusterChannel {
  /** This process's id (new on every start); handlers get the sender's. */
  readonly nodeId: string;
  /** Whether other panel processes can exist (PostgreSQL). False on the embedded database. */
  readonly shared: boolean;
  /**
   * Sends `payload` to this plugin's `on(topic)` handlers in every other
   * process. `topic`: lowercase letters, digits, dots and dashes. `payload`:
   * JSON, at most 1 MiB serialised (throws otherwise); large ones travel in
   * fragments, so keep frequent messages small. Returns at once.
   */
  send(topic: string, payload: unknown): void;
  /** Handles `topic` messages from the other processes. Errors are logged. Undone on disable. */
  on(topic: string, handler: (payload: unknown, from: string) => void | Promise<void>): Disposer;
}

/** Removes a registration again (all are also undone on disable). */
export type Disposer = () => void;

/**
 * Everything a plugin can do, handed to `setup(ctx)`. Whatever is registered
 * through it is tracked and undone when the plugin is disabled.
 */
export interface PluginContext<Settings = Record<string, unknown>> {
  /** The plugin's id and version, from the manifest and package.json. */
  readonly id: string;
  readonly version: string;
  readonly manifest: Readonly<PluginManifest>;
  /** Capabilities the admin granted. */
  readonly capabilities: readonly string[];
  /** Aborted when the plugin is disabled: hand it to long-running work. */
  readonly signal: AbortSignal;

  routes: {
    add<P = any, Q = any, B = any, R = any>(route: PluginRoute<P, Q, B, R>): Disposer;
  };

  permissions: {
    /** Whether a permission exists (core, this plugin or another enabled plugin). */
    has(name: string): boolean;
  };

  /** EntityManager outside requests (jobs, subscribers): sees every tenant. */
  db: {
    em(): PluginEntityManager;
    /** Runs `fn` in a transaction with its own EntityManager. */
    transaction<T>(fn: (em: PluginEntityManager) => Promise<T>): Promise<T>;
    /** The plugin's schema name. */
    schema: string;
  };

  hooks: {
    /** Taps a hook by name (core's — see CORE_HOOKS — or another plugin's). Async hooks take async functions. */
    tap(hookName: string, fn: (...args: any[]) => unknown): Disposer;
    /**
     * Declares a hook other plugins can tap; name must start with `<plugin id>.`.
     * `kind` picks the tapable class. Returns the hook to call.
     */
    define<T = unknown, R = unknown>(hookName: string, kind: 'series' | 'parallel' | 'waterfall' | 'bail', args?: string[]): PluginHook<T, R>;
  };

  events: {
    /** Publishes an event outside a request (in its own transaction). Type must start with `<plugin id>.`. */
    publish(type: string, payload: Record<string, unknown>, options?: EventOptions): Promise<void>;
    /** Subscribes to a type, a `prefix.*` or `*`. */
    subscribe(pattern: string, handler: (event: PluginEvent) => void | Promise<void>): Disposer;
  };

  settings: {
    /** Current settings (validated against the manifest's schema, defaults applied). */
    get(): Settings;
    /** Called after an admin changed the settings. */
    onChange(fn: (settings: Settings) => void | Promise<void>): Disposer;
  };

  jobs: {
    /** Runs `fn` every `ms` milliseconds (never overlapping itself). */
    every(name: string, ms: number, fn: () => Promise<void> | void): JobHandle;
    /** Runs `fn` on a cron schedule (5 or 6 fields, server time zone). */
    cron(name: string, expression: string, fn: () => Promise<void> | void): JobHandle;
    /** Runs `fn` once in the background; errors are logged and blamed on the plugin. */
    background(name: string, fn: (signal: AbortSignal) => Promise<void>): JobHandle;
  };

  ui: {
    /** The static UI contributions of the manifest (what the shell will show). */
    contributions(): NonNullable<PluginManifest['contributes']>;
  };

  services: {
    /** Offers a typed service to other plugins under `<plugin id>.<name>`. */
    provide<T>(name: string, implementation: T): Disposer;
    /** Gets a service another plugin provides; throws if it isn't available. */
    consume<T>(name: string): T;
  };

  log: PluginLogger;

  realtime: {
    /**
     * Opens a socket.io namespace `/p/<plugin id>/<name>` on the panel's own
     * server (e.g. for server agents). Closed, and its clients disconnected, on disable.
     */
    namespace<Identity>(name: string, spec: RealtimeNamespaceSpec<Identity>): Disposer;
  };

  /**
   * Messages between this plugin's instances in the panel processes that
   * share one PostgreSQL database (several processes behind a load
   * balancer). Each process has its own sockets, timers and caches: a route
   * served by one process that must reach a socket connected to another (a
   * server agent, a browser's live view) sends a message here. Delivered
   * through PostgreSQL LISTEN/NOTIFY: to every *other* process, in order per
   * sender, at most once, and not transactional — a process that is down or
   * reconnecting misses it. Keep state that must survive in the database and
   * use messages to nudge. On the embedded database there is one process:
   * `shared` is false and `send` delivers nothing.
   * @since 0.1.1
   */
  cluster: ClusterChannel;

  mail: {
    /** Sends an e-mail through the panel's mailer. Needs the `mail:send` capability. */
    send(message: { to: string; subject: string; text: string }): Promise<void>;
  };

  /*
   * tenants, users and access read core's tables: inside a route handler they
   * read through the route's transaction (its own writes are visible, and the
   * embedded database's single connection is not waited on), elsewhere on
   * their own.
   */
  tenants: {
    /** A tenant by id (any tenant: check visibility yourself with `req.visibleTenantIds` or `req.can`). */
    get(id: string): Promise<TenantInfo | null>;
    /** The tenant's ancestors, root first (not including itself); empty for the root or an unknown id. */
    ancestors(id: string): Promise<TenantInfo[]>;
    /** Ids of the tenant and everything below it. */
    subtreeIds(id: string): Promise<string[]>;
  };

  users: {
    /** A user by id (any tenant: check `req.can(permission, user.tenantPath)` before acting on it). */
    get(id: string): Promise<UserInfo | null>;
  };

  access: {
    /** Resolves a user's permissions (e.g. to filter events a job forwards). Null for unknown or disabled users. */
    forUser(userId: string): Promise<UserAccess | null>;
  };

  secrets: {
    /**
     * Encrypts a secret for storage (AES-256-GCM with a key derived for this
     * plugin from the panel's master key, which is not in the database).
     */
    seal(plaintext: string): string;
    /** Decrypts what `seal` produced; throws if it was tampered with or sealed by another plugin. */
    open(sealed: string): string;
    /**
     * HMAC-SHA256 of `data` (base64url) with another key derived for this
     * plugin from the master key: for signed tokens and for hashes of
     * short-lived secrets (e.g. backup codes) that a database dump alone must
     * not let anyone brute-force.
     */
    hmac(data: string): string;
  };

  audit: {
    /** Writes an audit entry tagged with the plugin id (outside requests; routes audit automatically). `action` must start with `<plugin id>.`. */
    write(entry: { action: string; outcome?: 'success' | 'failure' | 'denied'; target?: string; tenantId?: string | null; tenantPath?: string | null; details?: Record<string, unknown> }): Promise<void>;
  };
}

/** A hook a plugin declared. */
export interface PluginHook<T = unknown, R = unknown> {
  readonly name: string;
  /** Calls every tap (for `series`/`parallel`), threads a value (`waterfall`), or returns the first non-undefined (`bail`). */
  call(arg: T): Promise<R | undefined>;
}
