import express, { type Express, type RequestHandler, type Router } from 'express';
import { type SipLogger, noopLogger } from '../../sip/util/logger.js';
import type { RelayConfig } from '../config/relay-config-schema.js';
import type { SigningAlgorithm, SigningKey } from '../store/signing-key-repository.js';
import type { Store } from '../store/store.js';
import { adminAuth } from './admin-auth.js';
import { type AdminChange, adminRouter } from './admin-router.js';
import { httpApiError } from './http-api-error.js';
import { jsonErrors, notFound } from './json-errors.js';
import { type ReadinessCheck, opsRouter } from './ops-router.js';
import { publicRouter } from './public-router.js';
import { RelayMetrics } from './relay-metrics.js';
import { requestLog } from './request-log.js';

/** Options of {@link createHttpApp}. */
export interface HttpAppOptions {
  store: Store;
  config: Pick<RelayConfig, 'domains' | 'services' | 'tokens' | 'admin'>;
  /** Requests and admin changes are logged here (pino or any {@link SipLogger}). Default: nowhere. */
  logger?: SipLogger;
  /** The registry served at /metrics. Default: a new one. */
  metrics?: RelayMetrics;
  /** The authenticator's cache, invalidated by admin changes so they apply to SIP at once. */
  credentialCache?: { invalidate(username: string, realm: string): void };
  /** The identity asserter's key ring: a rotation through the admin API then takes effect at once. */
  keyRing?: { rotate(algorithm?: SigningAlgorithm): Promise<SigningKey> };
  /** Told about every admin change (e.g. so that the directory reloads an application server's services). */
  onAdminChange?: (change: AdminChange) => void;
  /** More /readyz checks besides the store, by name. */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** Default 2000 ms. */
  readinessTimeoutMs?: number;
  /** `Cache-Control: max-age` of /.well-known/jwks.json. Default 300 s. */
  jwksMaxAgeSeconds?: number;
  /** Largest JSON body the admin API takes. Default 64 KiB. */
  bodyLimitBytes?: number;
  /**
   * Express `trust proxy`: set it when a reverse proxy sits in front, so
   * that logs show the client's address (`X-Forwarded-For`). Default false.
   */
  trustProxy?: boolean | number | string;
}

/** The relay's HTTP application, before it listens. */
export interface HttpApp {
  /** The request handler: pass it to {@link startHttpServer} (or `http.createServer`). */
  readonly app: Express;
  readonly metrics: RelayMetrics;
  /**
   * Mounts more routes (the charges API, the portal's static files) ahead
   * of the final 404, at any time, even after the server started: they are
   * consulted in the order mounted, after the relay's own routes.
   */
  mount(path: string, ...handlers: Array<RequestHandler | Router>): void;
}

/**
 * The relay's HTTP server as an Express 5 application (docs/api.md):
 * `/healthz`, `/readyz`, `/metrics`, `/.well-known/jwks.json`,
 * `/api/v1/services`, the admin API under `/admin/v1`, then whatever is
 * mounted. Every error is JSON `{ "error": { code, message, field? } }`.
 * The SIP WebSocket endpoint (`/sip`) is not an Express route: the
 * WebSocket listener takes the upgrade requests of the same `http.Server`
 * (docs/transports.md), which Express never sees.
 *
 * @example
 *   const http = createHttpApp({ store, config, logger, credentialCache, keyRing });
 *   http.mount('/api/v1/charges', chargesRouter);
 *   const running = await startHttpServer({ app: http.app, host: config.http.host, port: config.http.port });
 *   const transport = new NodeTransport({ listeners: [{ protocol: 'WS', server: running.server, path: '/sip' }], … });
 */
export function createHttpApp(options: HttpAppOptions): HttpApp {
  if (options === null || typeof options !== 'object') throw new TypeError('createHttpApp: options are required');
  if (!options.store) throw new TypeError('createHttpApp: `store` is required');
  if (!options.config || !Array.isArray(options.config.domains) || options.config.domains.length === 0) {
    throw new TypeError('createHttpApp: `config` with at least one domain is required');
  }
  const bodyLimit = options.bodyLimitBytes ?? 64 * 1024;
  if (!Number.isInteger(bodyLimit) || bodyLimit < 1) throw new TypeError(`createHttpApp: bodyLimitBytes must be a positive integer, got ${String(bodyLimit)}`);
  const logger = options.logger ?? noopLogger;
  const metrics = options.metrics ?? new RelayMetrics();
  const { store, config } = options;

  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? false);
  // ETags on JSON let clients revalidate the JWKS and the catalogue cheaply.
  app.set('etag', 'strong');
  app.use(requestLog(logger, metrics));
  app.use(opsRouter({ store, metrics, readinessChecks: options.readinessChecks, readinessTimeoutMs: options.readinessTimeoutMs }));
  app.use(publicRouter({ store, config, jwksMaxAgeSeconds: options.jwksMaxAgeSeconds }));
  app.use(
    '/admin/v1',
    adminAuth({ token: config.admin.token, apiKeys: store.apiKeys }),
    requireJsonBody,
    express.json({ limit: bodyLimit, type: ['application/json', 'application/*+json'] }),
    adminRouter({
      store,
      config,
      credentialCache: options.credentialCache,
      keyRing: options.keyRing,
      onChange: options.onAdminChange,
      logger,
    }),
  );
  const extensions = express.Router();
  app.use(extensions);
  app.use(notFound);
  app.use(jsonErrors(logger));

  return {
    app,
    metrics,
    mount(path, ...handlers) {
      extensions.use(path, ...handlers);
    },
  };
}

/** A request with a body must say it is JSON (`415` otherwise), so a form post is not read as nothing. */
const requireJsonBody: RequestHandler = function requireJsonBody(req, _res, next) {
  // `req.is` is null without a body, false for a body of another type; an empty body needs no type.
  if (req.get('content-length') !== '0' && req.is(['application/json', 'application/*+json']) === false) {
    return next(httpApiError('HTTP_ERR_MEDIA_TYPE', `the body must be application/json, not ${req.get('content-type') ?? 'untyped'}`));
  }
  next();
};
