import { randomUUID } from 'node:crypto';
import express, { type Request, type Response, type NextFunction } from 'express';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { ProblemError, isProblem, fromForeignProblem } from '../errors/problem.js';
import type { RouteRegistry } from './route-registry.js';
import type { PanelMetrics } from './metrics.js';

export interface AppDeps {
  routes: RouteRegistry;
  logger: Logger;
  metrics: PanelMetrics;
  bodyLimitBytes: number;
  /** express `trust proxy` (MPANEL_TRUST_PROXY). */
  trustProxy?: boolean | number | string;
  /** Extra middleware mounted after the API (the web shell's files). */
  fallbacks?: express.RequestHandler[];
  /** Extra CSP script-src sources (hashes of the shell's inline import map). */
  scriptSources?: string[];
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/** Builds the express app: security headers, request ids, logging, JSON bodies, the route registry, problem+json errors. */
export function buildApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', deps.trustProxy ?? false);
  app.set('etag', false);

  app.use((req, res, next) => {
    const incoming = req.get('x-request-id');
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.locals.requestId = requestId;
    res.setHeader('x-request-id', requestId);
    const log = deps.logger.child({ reqId: requestId });
    res.locals.log = log;
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // Only route templates become labels: raw paths would let anyone create unbounded metric series.
      const route = (res.locals.routeTemplate as string | undefined) ?? 'unmatched';
      deps.metrics.httpDuration.observe({ method: req.method, route, status: String(res.statusCode) }, seconds);
      if (!QUIET_PATHS.has(req.path)) {
        log.info({ method: req.method, url: req.originalUrl, status: res.statusCode, ms: Math.round(seconds * 1000), actor: res.locals.actor?.label }, 'request');
      }
    });
    next();
  });

  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'script-src': ["'self'", ...(deps.scriptSources ?? [])],
          // Tenants' logos may live elsewhere (branding.logoUrl is http(s)).
          'img-src': ["'self'", 'data:', 'https:'],
          'connect-src': ["'self'"],
        },
      },
    }),
  );

  // A body must be JSON; anything else is refused before it reaches a handler.
  app.use((req, _res, next) => {
    const hasBody = Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;
    if (hasBody && !req.is(['application/json', 'application/*+json'])) {
      return next(new ProblemError('unsupported-media-type', `Send the body as application/json (got "${req.get('content-type') ?? 'none'}")`));
    }
    next();
  });
  app.use(express.json({ limit: deps.bodyLimitBytes, type: ['application/json', 'application/*+json'], strict: false }));

  app.use(deps.routes.middleware());
  for (const fallback of deps.fallbacks ?? []) app.use(fallback);

  app.use((req, _res, next) => {
    next(new ProblemError('route-not-found', `No route ${req.method} ${req.path}`));
  });

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const problem = toProblem(err, deps.bodyLimitBytes);
    const log: Logger = res.locals.log ?? deps.logger;
    if (problem.status >= 500) log.error({ err }, 'request failed');
    if (res.headersSent) {
      res.end();
      return;
    }
    if (problem.code === 'too-many-attempts' && typeof problem.extensions.retryAfter === 'number') {
      res.setHeader('retry-after', String(problem.extensions.retryAfter));
    }
    res.status(problem.status).type('application/problem+json').send(JSON.stringify(problem.toDocument(req.originalUrl)));
  });
  return app;
}

interface HttpError {
  type?: string;
  status?: number;
  statusCode?: number;
}

function toProblem(err: unknown, limit: number): ProblemError {
  if (isProblem(err)) return err;
  const foreign = fromForeignProblem(err);
  if (foreign) return foreign;
  const e = err as HttpError;
  switch (e?.type) {
    case 'entity.too.large':
      return new ProblemError('body-too-large', `The body is larger than ${limit} bytes`);
    case 'entity.parse.failed':
      return new ProblemError('malformed-body', 'The body could not be parsed as JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ProblemError('unsupported-media-type', 'Only UTF-8 JSON bodies are accepted');
    case 'request.aborted':
      return new ProblemError('malformed-body', 'The request was aborted');
    default:
      break;
  }
  const status = e?.status ?? e?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return new ProblemError('malformed-body', 'The request could not be read');
  }
  return new ProblemError('internal', 'Something went wrong on our side; the request id identifies it in the logs');
}
