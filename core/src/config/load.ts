import path from 'node:path';
import { ProblemError } from '../errors/problem.js';

/**
 * Every setting mpanel reads from the environment. This is the one config
 * loader: nothing else in core reads `process.env`. The README's configuration
 * table is generated from the same list (keep `CONFIG_VARIABLES` in step).
 */
export interface PanelConfig {
  /** HTTP listen port. */
  port: number;
  /** HTTP listen address. */
  host: string;
  /** Where the embedded database, setup token and other state live. */
  dataDir: string;
  /** `postgres://…` of an external PostgreSQL; unset → embedded PGlite under dataDir. */
  databaseUrl?: string;
  /** Public URL used in e-mails (password reset links). */
  publicUrl: string;
  /** pino log level. */
  logLevel: string;
  /** Largest accepted JSON body, in bytes. */
  bodyLimitBytes: number;
  /** Session lifetime in seconds (sliding). */
  sessionTtlSeconds: number;
  /** Mark cookies `Secure` (set when served over HTTPS). */
  cookieSecure: boolean;
  /** SMTP URL for outgoing mail (`smtp://host:port`); unset → mail is logged, not sent. */
  smtpUrl?: string;
  /** Sender address of outgoing mail. */
  mailFrom: string;
  /** Failed logins per account inside the window before the account is throttled. */
  loginMaxFailuresPerAccount: number;
  /** Failed logins per IP inside the window before the IP is throttled. */
  loginMaxFailuresPerIp: number;
  /** Throttle window and base lock time, seconds; locks double per repeat, capped at 16× (never permanent). */
  loginLockSeconds: number;
  /** Seconds to wait for in-flight requests on SIGTERM before closing anyway. */
  shutdownGraceSeconds: number;
  /** npm registry plugins are installed from. */
  registryUrl: string;
  /** Local plugin package directories loaded at start (a distribution's built-in plugins). */
  pluginPaths: string[];
  /** Master key for secrets at rest (base64, 32 bytes); unset → `<dataDir>/secret.key`. */
  secretKey?: string;
  /** Directory of the built web shell; unset → the installed @mpanel/ui package's dist (if any). */
  uiDir?: string;
  /** Which proxies' X-Forwarded-For to believe (express `trust proxy`): false, a hop count, or addresses/subnets. */
  trustProxy: boolean | number | string;
}

interface VariableSpec {
  name: string;
  description: string;
  default: string;
}

/** Documented list of environment variables (README table). */
export const CONFIG_VARIABLES: readonly VariableSpec[] = [
  { name: 'PORT', description: 'HTTP port', default: '8080' },
  { name: 'HOST', description: 'HTTP listen address', default: '127.0.0.1' },
  { name: 'MPANEL_DATA_DIR', description: 'state directory (embedded database, setup token)', default: './.mpanel' },
  { name: 'DATABASE_URL', description: 'external PostgreSQL `postgres://user@host:port/db`; unset → embedded PGlite in the data dir', default: '(unset)' },
  { name: 'MPANEL_PUBLIC_URL', description: 'URL users reach the panel at (used in e-mailed links)', default: 'http://HOST:PORT' },
  { name: 'LOG_LEVEL', description: 'pino log level (`trace`…`fatal`, `silent`)', default: 'info' },
  { name: 'MPANEL_BODY_LIMIT', description: 'largest accepted request body in bytes', default: '1048576' },
  { name: 'MPANEL_SESSION_TTL', description: 'session lifetime in seconds (sliding)', default: '86400' },
  { name: 'MPANEL_COOKIE_SECURE', description: '`true` to mark cookies Secure (behind HTTPS)', default: 'false' },
  { name: 'MPANEL_SMTP_URL', description: 'SMTP server for outgoing mail, e.g. `smtp://127.0.0.1:2525`; unset → mail is only logged', default: '(unset)' },
  { name: 'MPANEL_MAIL_FROM', description: 'sender address of outgoing mail', default: 'mpanel@localhost' },
  { name: 'MPANEL_LOGIN_MAX_FAILURES', description: 'failed logins per account in the window before throttling', default: '5' },
  { name: 'MPANEL_LOGIN_MAX_FAILURES_IP', description: 'failed logins per IP in the window before throttling', default: '20' },
  { name: 'MPANEL_LOGIN_LOCK_SECONDS', description: 'throttle window and first lock duration (doubles on repeat, capped at 16×)', default: '60' },
  { name: 'MPANEL_SHUTDOWN_GRACE', description: 'seconds to finish in-flight requests on SIGTERM', default: '10' },
  { name: 'MPANEL_REGISTRY', description: 'npm registry URL plugins are installed from (e.g. your Verdaccio)', default: 'http://127.0.0.1:4873' },
  { name: 'MPANEL_UI_DIR', description: 'directory of a built web shell to serve at `/` (a reseller’s branded build); unset → the bundled @mpanel/ui', default: '(bundled shell)' },
  { name: 'MPANEL_TRUST_PROXY', description: 'behind a reverse proxy: which proxies to believe for the client IP (`loopback`, a hop count like `1`, or addresses/subnets); per-IP throttling and audit IPs depend on it', default: '(unset: use the socket address)' },
  { name: 'MPANEL_SECRET_KEY', description: 'master key for secrets at rest, 32 bytes base64 (`openssl rand -base64 32`); set the same on every node; unset → generated into `<data dir>/secret.key`', default: '(unset)' },
  { name: 'MPANEL_PLUGIN_PATHS', description: 'comma-separated directories of local plugin packages loaded at start (built-in plugins of a distribution)', default: '(none)' },
];

function intVar(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    throw new ProblemError('config-invalid', `${name} must be an integer ≥ ${min}, got "${raw}"`);
  }
  return n;
}

function trustProxy(raw: string | undefined): boolean | number | string {
  if (!raw || raw === 'false') return false;
  if (/^\d+$/.test(raw)) return Number(raw);
  if (!/^[0-9A-Za-z.:/,\s-]+$/.test(raw)) throw new ProblemError('config-invalid', `MPANEL_TRUST_PROXY must be a hop count, "loopback" or addresses/subnets, got "${raw}"`);
  return raw;
}

function registryUrl(raw: string | undefined): string {
  const url = (raw || 'http://127.0.0.1:4873').replace(/\/+$/, '');
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw new ProblemError('config-invalid', `MPANEL_REGISTRY must be an http(s) URL, got "${raw}"`);
  return url;
}

/** Reads and validates configuration; `overrides` win over the environment (tests use them). */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<PanelConfig> = {}): PanelConfig {
  const port = intVar(env, 'PORT', 8080);
  if (port > 65535) throw new ProblemError('config-invalid', `PORT must be ≤ 65535, got ${port}`);
  const host = env.HOST || '127.0.0.1';
  const databaseUrl = env.DATABASE_URL || undefined;
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ProblemError('config-invalid', 'DATABASE_URL must start with postgres:// or postgresql://');
  }
  const config: PanelConfig = {
    port,
    host,
    dataDir: path.resolve(env.MPANEL_DATA_DIR || '.mpanel'),
    databaseUrl,
    publicUrl: env.MPANEL_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimitBytes: intVar(env, 'MPANEL_BODY_LIMIT', 1024 * 1024, 1024),
    sessionTtlSeconds: intVar(env, 'MPANEL_SESSION_TTL', 86_400, 60),
    cookieSecure: env.MPANEL_COOKIE_SECURE === 'true',
    smtpUrl: env.MPANEL_SMTP_URL || undefined,
    mailFrom: env.MPANEL_MAIL_FROM || 'mpanel@localhost',
    loginMaxFailuresPerAccount: intVar(env, 'MPANEL_LOGIN_MAX_FAILURES', 5, 1),
    loginMaxFailuresPerIp: intVar(env, 'MPANEL_LOGIN_MAX_FAILURES_IP', 20, 1),
    loginLockSeconds: intVar(env, 'MPANEL_LOGIN_LOCK_SECONDS', 60, 1),
    shutdownGraceSeconds: intVar(env, 'MPANEL_SHUTDOWN_GRACE', 10, 0),
    registryUrl: registryUrl(env.MPANEL_REGISTRY),
    secretKey: env.MPANEL_SECRET_KEY || undefined,
    trustProxy: trustProxy(env.MPANEL_TRUST_PROXY),
    uiDir: env.MPANEL_UI_DIR ? path.resolve(env.MPANEL_UI_DIR) : undefined,
    pluginPaths: (env.MPANEL_PLUGIN_PATHS ?? '').split(',').map((p) => p.trim()).filter(Boolean).map((p) => path.resolve(p)),
    ...overrides,
  };
  return config;
}
