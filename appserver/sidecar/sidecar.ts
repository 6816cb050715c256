import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { type SipLogger, noopLogger } from '../../sip/util/logger.js';
import type { AppServer, AppServerOptions } from '../app-server.js';
import { AppServerError, isAppServerError } from '../app-server-error.js';
import type { AppSession } from '../app-session.js';
import type { ChargeInput } from '../charge.js';
import { createAppServer } from '../create-app-server.js';
import { isPlainObject } from '../siprelay-media-types.js';
import type { SidecarConfig } from './sidecar-config.js';

/**
 * How the sidecar reaches the application (the global `fetch` by default).
 *
 * @example
 * ```ts
 * await startSidecar(config, { fetch: (url, init) => fetch(url, init) });
 * ```
 */
export type SidecarFetch = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/**
 * Options of {@link startSidecar} besides the configuration.
 *
 * @example
 * ```ts
 * await startSidecar(config, { logger: pino(), appServerOptions: { keepAliveIntervalMs: 10_000 } });
 * ```
 */
export interface SidecarOptions {
  logger?: SipLogger;
  fetch?: SidecarFetch;
  /** Further SDK options (timers, keep-alive, fixed keys in tests…). */
  appServerOptions?: Partial<AppServerOptions>;
}

/**
 * A running sidecar.
 *
 * @example
 * ```ts
 * const sidecar = await startSidecar(config);
 * process.once('SIGTERM', () => void sidecar.close());
 * ```
 */
export interface RunningSidecar {
  readonly appServer: AppServer;
  /** The local API's base URL: `http://127.0.0.1:7070`. */
  readonly apiUrl: string;
  /** Ends the sessions, unregisters, stops the API. */
  close(): Promise<void>;
}

/** What the application answers `/siprelay/admit` with. */
type AdmitAnswer = { accept: Record<string, unknown> } | { reject: { status: number; reason?: string; retryAfter?: number } };

/**
 * The SDK as its own process, for applications in any language (issue 5,
 * sidecar mode). It registers the configured services with the relay and,
 * for each decision, calls the application over HTTP:
 *
 * - `POST <app>/siprelay/admit` `{ sessionId, service, user, details, facts, token, forkGroup }`
 *   → `{ "accept": { "url": …, "title": … } }` or `{ "reject": { "status": 486, "reason": "…", "retryAfter": 30 } }`;
 *   no usable answer in `app.timeoutMs` → 503.
 * - `POST <app>/siprelay/change` `{ sessionId, service, user, method, details, previous }`
 *   → `{ "accept": { …descriptor } }` (or `{ "accept": true }` to keep it) or `{ "reject": { "status": 488 } }`;
 *   a 404 from the application means it does not take changes (488).
 * - `POST <app>/siprelay/end` `{ sessionId, service, user, by, reason }` once per
 *   session; when the user (or the relay) hung up, the answer may carry
 *   `{ "charges": { "items": [...] } }`, which go in the 2xx to the BYE.
 *
 * It serves a local API for what the application does on its own:
 * `POST /sessions/:id/charges` (a charge; `Idempotency-Key` header or body
 * `id`), `POST /sessions/:id/end` (`{ charges?, reason? }`),
 * `POST /sessions/:id/transfer` (`{ service, details?, endOnSuccess? }`),
 * `GET /sessions`, `GET /sessions/:id`, `POST /tokens/verify` (`{ token }`,
 * for the application's web pages) and `GET /health`.
 *
 * @example
 * ```ts
 * const sidecar = await startSidecar(loadSidecarConfig('sidecar.yaml', process.env), { logger });
 * console.log('local API at', sidecar.apiUrl);
 * ```
 */
export async function startSidecar(config: SidecarConfig & { credentials: { password: string } }, options: SidecarOptions = {}): Promise<RunningSidecar> {
  const logger = options.logger ?? noopLogger;
  const fetchImpl = options.fetch ?? (globalThis.fetch as unknown as SidecarFetch);
  const appServer = createAppServer({
    relay: config.relay,
    domain: config.domain,
    credentials: { username: config.credentials.username, password: config.credentials.password },
    jwksUrl: config.jwksUrl,
    tokenIssuer: config.tokenIssuer,
    sip: config.sip,
    sdpAnswer: config.sdpAnswer,
    defaultCurrency: config.defaultCurrency,
    logger,
    ...options.appServerOptions,
  });
  const appBase = config.app.url.replace(/\/+$/, '');

  /** POSTs JSON to the application; resolves with its status and parsed JSON (undefined when not JSON). */
  const callApp = async (path: string, body: unknown): Promise<{ status: number; json: unknown }> => {
    const response = await fetchImpl(`${appBase}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...config.app.headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(config.app.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json };
  };

  const sessionInfo = (s: AppSession) => ({ sessionId: s.id, service: s.service, user: s.user });

  for (const service of config.services) {
    appServer.invite(service.name, { maxSessions: service.maxSessions, whenFull: service.whenFull, retryAfter: service.retryAfter }, async (req, res) => {
      let answer: AdmitAnswer | undefined;
      try {
        const r = await callApp('/siprelay/admit', {
          sessionId: req.sessionId,
          service: req.service,
          user: req.user,
          details: req.details,
          facts: req.facts,
          token: req.token,
          forkGroup: req.forkGroup,
        });
        if (r.status >= 200 && r.status < 300 && isAdmitAnswer(r.json)) answer = r.json;
        else logger.warn({ status: r.status, service: req.service }, 'sidecar: the application gave no usable answer to admit');
      } catch (e) {
        logger.warn({ err: e, service: req.service }, 'sidecar: the application did not answer admit');
      }
      if (req.signal.aborted) return;
      if (!answer) return res.reject(503, 'Application Unavailable', { retryAfter: 5 });
      if ('reject' in answer) {
        const { status, reason, retryAfter } = answer.reject;
        return res.reject(status, reason, retryAfter === undefined ? {} : { retryAfter });
      }
      let session: AppSession;
      try {
        session = res.accept(answer.accept as { url: string });
      } catch (e) {
        if (e instanceof TypeError) {
          logger.warn({ err: e, service: req.service }, 'sidecar: the application accepted with an unusable descriptor');
          return res.reject(500, 'Application Answer Invalid');
        }
        throw e;
      }
      watchSession(session);
    });
  }

  function watchSession(session: AppSession): void {
    let endNotified = false;
    session.on('changed', (change) => {
      callApp('/siprelay/change', { ...sessionInfo(session), method: change.method, details: change.details, previous: change.previous }).then(
        (r) => {
          if (change.answered) return;
          const json = r.json as { accept?: unknown; reject?: { status?: unknown; reason?: unknown } } | undefined;
          if (r.status === 404) return change.refuse(488, 'Changes Not Supported');
          if (r.status >= 200 && r.status < 300 && json && json.accept !== undefined) {
            try {
              return change.accept(isPlainObject(json.accept) && typeof json.accept.url === 'string' ? (json.accept as { url: string }) : undefined);
            } catch (e) {
              logger.warn({ err: e }, 'sidecar: the application accepted a change with an unusable descriptor');
              return change.refuse(500, 'Application Answer Invalid');
            }
          }
          if (r.status >= 200 && r.status < 300 && json?.reject && isStatus(json.reject.status)) {
            return change.refuse(json.reject.status, typeof json.reject.reason === 'string' ? json.reject.reason : undefined);
          }
          change.refuse(500, 'Application Answer Invalid');
        },
        (e: unknown) => {
          logger.warn({ err: e }, 'sidecar: the application did not answer change');
          if (!change.answered) change.refuse(500, 'Application Unavailable');
        },
      );
    });
    session.on('ending', (ending) => {
      endNotified = true;
      ending.waitUntil(
        callApp('/siprelay/end', { ...sessionInfo(session), by: ending.by, reason: ending.reason }).then(
          (r) => {
            const charges = (r.json as { charges?: unknown } | undefined)?.charges;
            if (r.status >= 200 && r.status < 300 && charges !== undefined && charges !== null) ending.charge(charges as ChargeInput);
          },
          (e: unknown) => logger.warn({ err: e }, 'sidecar: the application did not answer end'),
        ),
      );
    });
    session.on('ended', (end) => {
      if (endNotified) return;
      endNotified = true;
      callApp('/siprelay/end', { ...sessionInfo(session), by: end.by, reason: end.reason }).catch((e: unknown) =>
        logger.warn({ err: e }, 'sidecar: the application did not take the end notice'),
      );
    });
  }

  // ---- the local API -------------------------------------------------------------------

  const api = express();
  api.disable('x-powered-by');
  api.use(express.json({ limit: '64kb' }));
  if (config.api.token) {
    const expected = `Bearer ${config.api.token}`;
    api.use((req, res, next) => {
      if (req.headers.authorization === expected) return next();
      res.status(401).json({ error: { code: 'SIDECAR_ERR_UNAUTHORIZED', message: 'this API needs Authorization: Bearer <api.token>' } });
    });
  }
  const describe = (s: AppSession) => ({
    id: s.id,
    service: s.service,
    user: s.user,
    state: s.state,
    details: s.details,
    descriptor: s.descriptor,
    acceptedAt: s.acceptedAt,
    startedAt: s.startedAt ?? null,
    receipts: s.receipts,
  });
  const sessionOr404 = (req: Request, res: Response): AppSession | undefined => {
    const s = appServer.session(String(req.params.id));
    if (!s) res.status(404).json({ error: { code: 'SIDECAR_ERR_NO_SESSION', message: `no live session ${String(req.params.id)}` } });
    return s;
  };

  api.get('/health', (_req, res) => {
    res.json({ state: appServer.state, relay: appServer.connection.state, services: appServer.connection.registeredServices, sessions: appServer.sessions.length });
  });
  api.get('/sessions', (_req, res) => {
    res.json({ sessions: appServer.sessions.map(describe) });
  });
  api.get('/sessions/:id', (req, res) => {
    const s = sessionOr404(req, res);
    if (s) res.json(describe(s));
  });
  api.post('/sessions/:id/charges', async (req, res, next) => {
    const s = sessionOr404(req, res);
    if (!s) return;
    try {
      const body: unknown = req.body ?? {};
      const key = req.get('idempotency-key');
      const input: ChargeInput = Array.isArray(body) ? { items: body as ChargeInput['items'] } : { ...(body as ChargeInput) };
      if (key !== undefined) {
        if (input.id !== undefined && input.id !== key) return void res.status(400).json({ error: { code: 'SIDECAR_ERR_IDEMPOTENCY_KEY', message: 'Idempotency-Key and the body id differ' } });
        input.id = key;
      }
      res.json({ receipt: await s.charge(input) });
    } catch (e) {
      next(e);
    }
  });
  api.post('/sessions/:id/end', async (req, res, next) => {
    const s = sessionOr404(req, res);
    if (!s) return;
    try {
      const body = (req.body ?? {}) as { charges?: ChargeInput; reason?: unknown };
      await s.end({ charges: body.charges, reason: typeof body.reason === 'string' ? body.reason : undefined });
      res.json({ ended: true, outcome: s.outcome ?? null, receipts: s.receipts });
    } catch (e) {
      next(e);
    }
  });
  api.post('/sessions/:id/transfer', async (req, res, next) => {
    const s = sessionOr404(req, res);
    if (!s) return;
    try {
      const body = (req.body ?? {}) as { service?: unknown; details?: unknown; endOnSuccess?: unknown };
      if (typeof body.service !== 'string') throw new TypeError('transfer needs { service }');
      const result = await s.transfer(body.service, body.details as Record<string, unknown> | undefined, { endOnSuccess: body.endOnSuccess === true });
      res.json({ transferred: true, status: result.status ?? null });
    } catch (e) {
      next(e);
    }
  });
  api.post('/tokens/verify', async (req, res, next) => {
    try {
      const token = (req.body as { token?: unknown } | undefined)?.token;
      const v = await appServer.verifyToken(typeof token === 'string' ? token : undefined);
      res.json({ user: v.user, service: v.claims.svc, sessionId: v.claims.sid, facts: v.claims.facts, claims: v.claims, live: appServer.session(v.claims.sid) !== undefined });
    } catch (e) {
      next(e);
    }
  });
  api.use((_req: Request, res: Response) => {
    res.status(404).json({ error: { code: 'SIDECAR_ERR_NOT_FOUND', message: 'no such endpoint' } });
  });
  api.use((e: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (e instanceof TypeError || (e as { type?: string }).type === 'entity.parse.failed') {
      res.status(400).json({ error: { code: 'SIDECAR_ERR_BAD_REQUEST', message: (e as Error).message } });
      return;
    }
    if (isAppServerError(e)) {
      res.status(httpStatusOf(e)).json({ error: { code: e.code, message: e.message, status: e.status, reason: e.reason ?? null } });
      return;
    }
    logger.error({ err: e }, 'sidecar API error');
    res.status(500).json({ error: { code: 'SIDECAR_ERR_INTERNAL', message: 'internal error' } });
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = api.listen(config.api.port, config.api.host);
    s.once('listening', () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const apiUrl = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  const closeApi = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  try {
    await appServer.listen();
  } catch (e) {
    await closeApi();
    throw e;
  }
  logger.info({ api: apiUrl, services: config.services.map((s) => s.name) }, 'sidecar up');
  return {
    appServer,
    apiUrl,
    async close() {
      await appServer.close();
      await closeApi();
    },
  };
}

function isStatus(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 300 && (v as number) <= 699;
}

function isAdmitAnswer(v: unknown): v is AdmitAnswer {
  if (!isPlainObject(v)) return false;
  if (isPlainObject(v.accept)) return true;
  if (isPlainObject(v.reject)) {
    const r = v.reject;
    return isStatus(r.status) && (r.reason === undefined || typeof r.reason === 'string') && (r.retryAfter === undefined || (Number.isInteger(r.retryAfter) && (r.retryAfter as number) >= 0));
  }
  return false;
}

/** HTTP status of an SDK error in the local API: a relay refusal keeps its status where HTTP means the same; 481 becomes 409. */
function httpStatusOf(e: AppServerError): number {
  if (e.code === 'APPSERVER_ERR_CHARGE_REFUSED') return e.status === 481 ? 409 : e.status >= 400 && e.status < 500 ? e.status : 502;
  return e.httpStatus;
}
