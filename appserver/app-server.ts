import type { RequestHandler } from 'express';
import type { JSONWebKeySet } from 'jose';
import type { TimerOptions } from '../sip/transaction/timer-config.js';
import type { IncomingInvite } from '../sip/ua/incoming-invite.js';
import { type Clock, systemClock } from '../sip/util/clock.js';
import { type SipLogger, noopLogger } from '../sip/util/logger.js';
import { TypedEmitter } from '../sip/util/typed-emitter.js';
import { AdmissionGate, type AdmissionSlot } from './admission-gate.js';
import { AppServerError, appServerError } from './app-server-error.js';
import { AppSession, type AppSessionContext } from './app-session.js';
import { JwksKeySource } from './jwks-key-source.js';
import { parseRelayAddress } from './relay-address.js';
import { RelayConnection, type ReconnectOptions, type SipListenOptions } from './relay-connection.js';
import { relayTokenMiddleware, type RelayTokenMiddlewareOptions } from './relay-token-middleware.js';
import { RelayTokenVerifier, type VerifiedRelayToken } from './relay-token-verifier.js';
import { buildServiceAnswer, checkServiceDescriptor, type SdpAnswerMode } from './service-answer.js';
import { ServiceRequest } from './service-request.js';
import { ServiceResponse } from './service-response.js';
import { readSiprelayBody, SiprelayMediaTypes, TOKEN_HEADER, isPlainObject, type ServiceDetails } from './siprelay-media-types.js';

/**
 * Options of {@link createAppServer}. Invalid options throw TypeError at
 * construction, naming the option.
 *
 * @example
 * ```ts
 * const options: AppServerOptions = {
 *   relay: 'sip:127.0.0.1:5060;transport=tcp',
 *   domain: 'portal.test',
 *   credentials: { username: 'wineshop', password: 'wineshop-secret' },
 *   jwksUrl: 'http://127.0.0.1:8080/.well-known/jwks.json',
 * };
 * ```
 */
export interface AppServerOptions {
  /** The relay: `sip:host:port;transport=tcp|udp|tls`, or `ws://host:port/sip` / `wss://…`. */
  relay: string;
  /** The application-server account on the relay (digest credentials). The username is also the token audience. */
  credentials: { username: string; password: string };
  /** The SIP domain of the services: they are registered as `sip:<service>@<domain>`. */
  domain: string;
  /**
   * The relay's `/.well-known/jwks.json`. Default: derived from a `ws://`/`wss://`
   * relay (same HTTP server); required otherwise, unless `jwks` is given.
   */
  jwksUrl?: string;
  /** Fixed verification keys instead of fetching them (tests, air-gapped setups). */
  jwks?: JSONWebKeySet;
  /** When set, tokens must carry this `iss` (the relay's public URL). */
  tokenIssuer?: string;
  /** This side's SIP listener: host, port, advertised host, TLS material, transport limits. */
  sip?: SipListenOptions;
  /** Expiry asked for each service registration, seconds. Default 300. */
  registerExpiresSeconds?: number;
  /** OPTIONS keep-alive to the relay, ms; 0 off. Default 30 000 (10 000 over UDP). */
  keepAliveIntervalMs?: number;
  /** A keep-alive or registration without answer after this long fails, ms. Default 5 000. */
  keepAliveTimeoutMs?: number;
  /** Backoff of reconnection after the relay is lost. */
  reconnect?: ReconnectOptions;
  /** How long `listen()` keeps trying to reach the relay, ms. Default 30 000. */
  startTimeoutMs?: number;
  /** How to answer clients that send SDP (JsSIP). Default `auto`; see {@link SdpAnswerMode}. */
  sdpAnswer?: SdpAnswerMode;
  /** Currency of charge items that name none (ISO 4217). Default none: every item must name one. */
  defaultCurrency?: string;
  /** A charge without answer after this long is sent again with the same key, ms. Default 8 000. */
  chargeTimeoutMs?: number;
  /** Further attempts of a charge after a timeout or transient refusal. Default 2. */
  chargeRetries?: number;
  /** How long the answer to a user's BYE waits for `ending` listeners, ms. Default 3 000. */
  endingTimeoutMs?: number;
  /** A change request unanswered after this long is refused with 500, ms. Default 10 000. */
  changeTimeoutMs?: number;
  /** How long `transfer()` waits for the outcome, ms. Default 30 000. */
  transferTimeoutMs?: number;
  /** SIP timers (T1, T2, T4…). Default RFC 3261. */
  timers?: TimerOptions;
  /** A pino logger or anything with debug/info/warn/error(obj, msg). Default silent. */
  logger?: SipLogger;
  clock?: Clock;
}

/**
 * Admission control of a service: at most `maxSessions` at once; beyond,
 * INVITEs are refused with `whenFull` (486 Busy Here or 503 Service
 * Unavailable) and Retry-After `retryAfter` seconds.
 *
 * @example
 * ```ts
 * app.invite('wine', { maxSessions: 10, whenFull: 503, retryAfter: 30 }, handler);
 * ```
 */
export interface InviteRouteOptions {
  /** Default: no limit. */
  maxSessions?: number;
  /** Default 486. */
  whenFull?: 486 | 503;
  /** Seconds; default none (no Retry-After). */
  retryAfter?: number;
}

/**
 * An INVITE handler: answer with `res.accept()` or `res.reject()`, now or
 * after awaiting something. Throwing, or returning without answering, gets
 * the client a 500.
 *
 * @example
 * ```ts
 * const handler: InviteHandler = async (req, res) => { res.accept({ url: `${base}/?token=${req.token}` }); };
 * ```
 */
export type InviteHandler<Details extends ServiceDetails = ServiceDetails> = (req: ServiceRequest<Details>, res: ServiceResponse) => unknown;

/**
 * Events of an {@link AppServer}.
 *
 * @example
 * ```ts
 * app.on('disconnected', ({ reason }) => log.warn({ reason }, 'relay lost; coming back'));
 * app.on('session', (session) => metrics.sessions.inc({ service: session.service }));
 * ```
 */
export interface AppServerEvents {
  /** Every service is registered: after `listen()`, and again after each recovery from a lost relay. */
  ready: { services: readonly string[] };
  /** The relay was lost; the app server is coming back by itself. */
  disconnected: { reason: string };
  /** A service registration was made or refreshed. */
  registered: { service: string; expires: number };
  /** The relay refused to register a service (not one this account provides, or bad credentials). */
  refused: { service: string; status: number; reason: string };
  /** A new session was accepted. */
  session: AppSession;
}

/**
 * `created` → `listening` → `closing` → `closed`.
 *
 * @example
 * ```ts
 * if (app.state === 'listening') console.log('serving', app.services);
 * ```
 */
export type AppServerState = 'created' | 'starting' | 'listening' | 'closing' | 'closed';

/** Token ids remembered against replay; beyond, the oldest are forgotten. */
const MAX_REMEMBERED_TOKENS = 100_000;

interface Route {
  service: string;
  handler: InviteHandler<ServiceDetails>;
  gate: AdmissionGate;
  whenFull: 486 | 503;
  retryAfter: number | undefined;
}

/**
 * An application server: express-like routes for INVITEs per service, its
 * link to the relay (login, registration, recovery), token checks, admission
 * control, and the live sessions. Made by `createAppServer()`.
 *
 * @example
 * ```ts
 * const app = createAppServer({ relay: 'sip:127.0.0.1:5060;transport=tcp', domain: 'portal.test',
 *   credentials: { username: 'wineshop', password: 'wineshop-secret' }, jwksUrl: 'http://127.0.0.1:8080/.well-known/jwks.json' });
 * app.invite('wine', { maxSessions: 10 }, async (req, res) => {
 *   res.accept({ url: `http://localhost:8081/?token=${req.token}`, title: 'The Wine Cellar' });
 * });
 * await app.listen();
 * ```
 */
export class AppServer extends TypedEmitter<AppServerEvents> {
  /** Checks the relay's tokens (INVITEs and the middleware). */
  readonly verifier: RelayTokenVerifier;
  /** The link to the relay. */
  readonly connection: RelayConnection;
  /** The account name: the audience of this server's tokens. */
  readonly accountName: string;
  readonly domain: string;
  private readonly routes = new Map<string, Route>();
  private readonly live = new Map<string, AppSession>();
  private readonly slots = new WeakMap<AppSession, AdmissionSlot>();
  /** `jti` of the tokens INVITEs came with → their expiry (wall ms). */
  private readonly usedTokens = new Map<string, number>();
  private readonly ctx: AppSessionContext;
  private readonly sdpMode: SdpAnswerMode;
  private readonly logger: SipLogger;
  private readonly clock: Clock;
  private _state: AppServerState = 'created';

  /** @internal Use {@link createAppServer}. */
  constructor(options: AppServerOptions) {
    super((error, type) => (options?.logger ?? noopLogger).error({ err: error, event: type }, 'AppServer listener threw'));
    if (options === null || typeof options !== 'object') throw new TypeError('createAppServer needs options');
    const creds = options.credentials;
    if (!creds || typeof creds.username !== 'string' || creds.username === '' || typeof creds.password !== 'string' || creds.password === '') {
      throw new TypeError('credentials must be { username, password } of the application-server account');
    }
    if (typeof options.domain !== 'string' || !/^[A-Za-z0-9.-]+$/.test(options.domain)) throw new TypeError('domain must be the SIP domain, e.g. portal.test');
    const relay = parseRelayAddress(options.relay);
    this.logger = options.logger ?? noopLogger;
    this.clock = options.clock ?? systemClock;
    this.accountName = creds.username;
    this.domain = options.domain.toLowerCase();
    this.sdpMode = options.sdpAnswer ?? 'auto';
    if (!['auto', 'multipart', 'call-info', 'none'].includes(this.sdpMode)) throw new TypeError(`sdpAnswer must be auto, multipart, call-info or none, got ${String(this.sdpMode)}`);
    if (options.defaultCurrency !== undefined && !/^[A-Z]{3}$/.test(options.defaultCurrency)) throw new TypeError('defaultCurrency must be an ISO 4217 code such as EUR');

    let keys: JwksKeySource | JSONWebKeySet;
    if (options.jwks !== undefined) keys = options.jwks;
    else {
      const url = options.jwksUrl ?? (relay.httpOrigin ? `${relay.httpOrigin}/.well-known/jwks.json` : undefined);
      if (url === undefined) throw new TypeError('jwksUrl is required for a sip: relay (the relay\'s http://host:port/.well-known/jwks.json)');
      keys = new JwksKeySource({ url, clock: this.clock, logger: this.logger });
    }
    this.verifier = new RelayTokenVerifier({ audience: creds.username, keys, issuer: options.tokenIssuer, clock: this.clock });

    this.connection = new RelayConnection({
      relay,
      domain: this.domain,
      credentials: { username: creds.username, password: creds.password },
      listen: options.sip,
      registerExpiresSeconds: options.registerExpiresSeconds,
      keepAliveIntervalMs: options.keepAliveIntervalMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      reconnect: options.reconnect,
      startTimeoutMs: options.startTimeoutMs,
      timers: options.timers,
      clock: this.clock,
      logger: this.logger,
      onInvite: (invite) => {
        this.receiveInvite(invite).catch((e: unknown) => {
          this.logger.error({ err: e, callId: invite.request.callId }, 'INVITE handling failed');
          if (invite.state === 'pending') invite.reject(500);
        });
      },
    });
    this.connection.on('ready', (e) => this.emit('ready', e));
    this.connection.on('disconnected', (e) => this.emit('disconnected', e));
    this.connection.on('registered', (e) => this.emit('registered', e));
    this.connection.on('refused', (e) => this.emit('refused', e));

    const connection = this.connection;
    const clock = this.clock;
    this.ctx = {
      domain: this.domain,
      defaultCurrency: options.defaultCurrency,
      sdpAnswer: this.sdpMode,
      chargeTimeoutMs: positive(options.chargeTimeoutMs, 8_000, 'chargeTimeoutMs'),
      chargeRetries: nonNegative(options.chargeRetries, 2, 'chargeRetries'),
      endingTimeoutMs: positive(options.endingTimeoutMs, 3_000, 'endingTimeoutMs'),
      changeTimeoutMs: positive(options.changeTimeoutMs, 10_000, 'changeTimeoutMs'),
      transferTimeoutMs: positive(options.transferTimeoutMs, 30_000, 'transferTimeoutMs'),
      clock,
      logger: this.logger,
      relayReady(timeoutMs: number): Promise<void> {
        if (connection.state === 'ready') return Promise.resolve();
        return new Promise((resolve, reject) => {
          const off = connection.on('ready', () => {
            clock.clearTimeout(timer);
            off();
            resolve();
          });
          const timer = clock.setTimeout(() => {
            off();
            reject(appServerError('APPSERVER_ERR_RELAY_UNREACHABLE', 'the relay is still unreachable'));
          }, timeoutMs);
        });
      },
      sessionEnded: (session) => this.forget(session),
    };
  }

  get state(): AppServerState {
    return this._state;
  }

  /** The services routed, in the order they were declared. */
  get services(): string[] {
    return [...this.routes.keys()];
  }

  /** Live sessions (accepted, not ended). */
  get sessions(): AppSession[] {
    return [...this.live.values()];
  }

  /**
   * The live session with this relay session id (from a token's `sid`, or
   * `req.siprelay.sessionId` in a page handler).
   *
   * @example
   * ```ts
   * web.post('/buy', async (req, res) => {
   *   const session = app.session(req.siprelay!.sessionId);
   *   if (!session) return res.status(409).send('session over');
   *   await session.charge(cart.items);
   * });
   * ```
   */
  session(sessionId: string): AppSession | undefined {
    return this.live.get(sessionId);
  }

  /** Sessions of `service` now, counting INVITEs being decided. */
  activeSessions(service: string): number {
    return this.routes.get(service)?.gate.active ?? 0;
  }

  /**
   * Routes INVITEs for `service` (`sip:<service>@<domain>`) to `handler`,
   * with optional admission control. Services are registered with the relay
   * by `listen()`, so declare them before it (TypeError after).
   */
  invite<Details extends ServiceDetails = ServiceDetails>(service: string, handler: InviteHandler<Details>): this;
  invite<Details extends ServiceDetails = ServiceDetails>(service: string, options: InviteRouteOptions, handler: InviteHandler<Details>): this;
  invite<Details extends ServiceDetails = ServiceDetails>(
    service: string,
    optionsOrHandler: InviteRouteOptions | InviteHandler<Details>,
    maybeHandler?: InviteHandler<Details>,
  ): this {
    const handler = typeof optionsOrHandler === 'function' ? optionsOrHandler : maybeHandler;
    const options: InviteRouteOptions = typeof optionsOrHandler === 'function' ? {} : optionsOrHandler ?? {};
    if (typeof service !== 'string' || !/^[A-Za-z0-9._~!$&'()*+,;=-]+$/.test(service)) throw new TypeError(`invite needs a service name (the user part of sip:<service>@${this.domain}), got ${JSON.stringify(service)}`);
    if (typeof handler !== 'function') throw new TypeError(`invite('${service}') needs a handler function`);
    if (this._state !== 'created') throw new TypeError(`invite('${service}'): declare services before listen()`);
    if (this.routes.has(service)) throw new TypeError(`invite('${service}'): the service already has a handler`);
    const whenFull = options.whenFull ?? 486;
    if (whenFull !== 486 && whenFull !== 503) throw new TypeError('whenFull must be 486 or 503');
    if (options.retryAfter !== undefined && (!Number.isSafeInteger(options.retryAfter) || options.retryAfter < 0)) throw new TypeError('retryAfter must be a non-negative integer of seconds');
    this.routes.set(service, {
      service,
      handler: handler as InviteHandler<ServiceDetails>,
      gate: new AdmissionGate(options.maxSessions ?? Infinity),
      whenFull,
      retryAfter: options.retryAfter,
    });
    return this;
  }

  /**
   * Connects to the relay, logs in and registers every declared service;
   * resolves once they are all registered. Rejects with
   * `APPSERVER_ERR_REGISTRATION_REFUSED` (wrong credentials, a service this
   * account may not provide) or `APPSERVER_ERR_RELAY_UNREACHABLE` (nothing
   * answered within `startTimeoutMs`); the app server is closed then.
   */
  async listen(): Promise<void> {
    if (this._state !== 'created') throw new TypeError(`listen(): the app server is ${this._state}`);
    if (this.routes.size === 0) throw new TypeError('listen(): declare at least one service with app.invite() first');
    this._state = 'starting';
    try {
      await this.connection.start(this.services);
    } catch (e) {
      this._state = 'closed';
      throw e;
    }
    if (this._state === 'starting') this._state = 'listening';
  }

  /**
   * Ends every live session (BYE, reason `closed`), removes the
   * registrations and closes the SIP side. With `endSessions: false` the
   * sessions are dropped without BYE (the relay's session timers end them).
   */
  async close(options: { endSessions?: boolean } = {}): Promise<void> {
    if (this._state === 'closed' || this._state === 'closing') return;
    const wasStarted = this._state !== 'created';
    this._state = 'closing';
    if (options.endSessions !== false) {
      await Promise.allSettled(this.sessions.map((s) => withDeadline(s.end({ reason: 'closed' }), this.clock, 3_000)));
    }
    if (wasStarted) await this.connection.close();
    this._state = 'closed';
  }

  /**
   * Express middleware that refuses page requests without a valid relay
   * token and puts `req.siprelay` (user, service, session id, facts, and
   * the live `session`) on the others. See {@link relayTokenMiddleware}.
   *
   * @example
   * ```ts
   * const web = express();
   * web.use(app.middleware({ portalUrl: 'http://localhost:8080/' }));
   * web.get('/', (req, res) => res.send(`Hello ${req.siprelay!.user.displayName}`));
   * ```
   */
  middleware(options: Omit<RelayTokenMiddlewareOptions, 'verifier' | 'findSession'> = {}): RequestHandler {
    return relayTokenMiddleware({ ...options, verifier: this.verifier, findSession: (id) => this.live.get(id) });
  }

  /** Verifies a relay token for this app server (for code paths outside express). */
  verifyToken(token: string | undefined): Promise<VerifiedRelayToken> {
    return this.verifier.verify(token);
  }

  // ---- the INVITE pipeline -----------------------------------------------------------

  private async receiveInvite(invite: IncomingInvite): Promise<void> {
    const request = invite.request;
    if (this._state !== 'listening' && this._state !== 'starting') {
      invite.reject(503, { reason: 'Shutting Down', headers: [['Retry-After', '5']] });
      return;
    }
    // 1. Who is asking, in the relay's words.
    let verified: VerifiedRelayToken;
    try {
      verified = await this.verifier.verify(request.header(TOKEN_HEADER));
    } catch (e) {
      const error = e instanceof AppServerError ? e : appServerError('APPSERVER_ERR_TOKEN_INVALID', 'token check failed', { cause: e });
      this.logger.info({ code: error.code, callId: request.callId }, 'INVITE refused: relay token not valid');
      if (invite.state === 'pending') {
        const status = error.sipStatus || 403;
        invite.reject(status, { reason: tokenReason(error), headers: status === 503 ? [['Retry-After', '5']] : undefined });
      }
      return;
    }
    if (invite.state !== 'pending') return; // cancelled meanwhile
    const { claims, user, token } = verified;
    // The relay signs a fresh token for every INVITE it forwards; one seen before was taken from
    // somewhere (a service URL) and replayed by someone who bypassed the relay.
    if (!this.firstUseOf(claims.jti, claims.exp)) {
      this.logger.warn({ callId: request.callId, sid: claims.sid }, 'INVITE refused: relay token already used');
      invite.reject(403, { reason: 'Relay Token Already Used' });
      return;
    }
    // docs/protocol.md: the token names the session of this request's Session-ID (RFC 7989).
    const sessionIdHeader = request.header('session-id');
    if (sessionIdHeader !== undefined && sessionIdHeader.split(';')[0].trim().toLowerCase() !== claims.sid) {
      this.logger.info({ callId: request.callId, sid: claims.sid }, 'INVITE refused: token for another Session-ID');
      invite.reject(403, { reason: 'Relay Token For Another Session' });
      return;
    }
    // 2. Which route.
    const route = this.routes.get(claims.svc);
    if (!route) {
      invite.reject(404, { reason: 'Service Not Provided Here' });
      return;
    }
    // 3. What the client asks for.
    const body = readSiprelayBody(request, SiprelayMediaTypes.request);
    if (body.malformed || (body.json !== undefined && !isPlainObject(body.json))) {
      invite.reject(400, { reason: 'Bad Service Details' });
      return;
    }
    const details = (body.json ?? {}) as ServiceDetails;
    // 4. Room for one more?
    const slot = route.gate.tryEnter();
    if (!slot) {
      this.logger.info({ service: route.service, active: route.gate.active }, 'INVITE refused: service full');
      invite.reject(route.whenFull, { headers: route.retryAfter === undefined ? undefined : [['Retry-After', String(route.retryAfter)]] });
      return;
    }
    // 5. The application decides.
    let accepted: AppSession | undefined;
    const abort = new AbortController();
    invite.on('cancelled', () => {
      abort.abort();
      if (!accepted) slot.release();
    });
    const req = new ServiceRequest(user, claims.svc, claims.sid, claims.facts, details, token, claims, request, body.sdp, abort.signal);
    const res = new ServiceResponse({
      cancelled: () => invite.state === 'cancelled',
      reject: (status, reason, options) => {
        const headers: Array<readonly [string, string]> = [...(options.headers ?? [])];
        if (options.retryAfter !== undefined) headers.push(['Retry-After', String(options.retryAfter)]);
        invite.reject(status, { reason, headers });
        slot.release();
      },
      accept: (descriptor, options) => {
        checkServiceDescriptor(descriptor);
        const sip = invite.accept(buildServiceAnswer(descriptor, body, this.sdpMode, options.headers));
        const session = new AppSession(this.ctx, { sip, claims, user, token, details, descriptor });
        accepted = session;
        this.live.set(session.id, session);
        this.slots.set(session, slot);
        this.emit('session', session);
        return session;
      },
    });
    try {
      await route.handler(req, res);
    } catch (e) {
      if (e instanceof AppServerError && e.code === 'APPSERVER_ERR_CANCELLED') return;
      this.logger.error({ err: e, service: route.service, session: claims.sid }, 'INVITE handler threw');
      if (!res.answered && invite.state === 'pending') {
        invite.reject(500, { reason: 'Application Error' });
        slot.release();
      }
      return;
    }
    if (!res.answered && invite.state === 'pending') {
      this.logger.error({ service: route.service, session: claims.sid }, 'INVITE handler returned without answering; refused with 500');
      invite.reject(500, { reason: 'Application Did Not Answer' });
      slot.release();
    }
  }

  /**
   * Remembers the `jti` of a token that came in an INVITE until the token
   * expires; false when it was seen before. Tokens without `jti` pass.
   */
  private firstUseOf(jti: string | undefined, exp: number): boolean {
    if (jti === undefined) return true;
    const now = this.clock.wallNow();
    // Insertion order is close to expiry order (one lifetime for all tokens): drop the expired head.
    for (const [id, until] of this.usedTokens) {
      if (until > now && this.usedTokens.size < MAX_REMEMBERED_TOKENS) break;
      this.usedTokens.delete(id);
    }
    if (this.usedTokens.has(jti)) return false;
    this.usedTokens.set(jti, exp * 1000);
    return true;
  }

  private forget(session: AppSession): void {
    if (this.live.get(session.id) === session) this.live.delete(session.id);
    this.slots.get(session)?.release();
  }
}

/** The reason phrase of a 403/503 for a token problem: short, and telling the relay's operator what to look at. */
function tokenReason(error: AppServerError): string {
  switch (error.code) {
    case 'APPSERVER_ERR_TOKEN_MISSING':
      return 'Missing Relay Token';
    case 'APPSERVER_ERR_TOKEN_EXPIRED':
      return 'Expired Relay Token';
    case 'APPSERVER_ERR_TOKEN_AUDIENCE':
      return 'Relay Token For Another Server';
    case 'APPSERVER_ERR_JWKS_UNAVAILABLE':
      return 'Relay Keys Unavailable';
    default:
      return 'Invalid Relay Token';
  }
}

function withDeadline<T>(p: Promise<T>, clock: Clock, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(undefined), ms);
    p.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      () => {
        clock.clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

function positive(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer of ms, got ${String(v)}`);
  return v;
}

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`${name} must be a non-negative integer, got ${String(v)}`);
  return v;
}

