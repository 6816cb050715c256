import { NodeTransport } from '../sip/node/node-transport.js';
import type { ListenerOptions, NodeTransportOptions, PemSource } from '../sip/node/node-transport-options.js';
import type { TimerOptions } from '../sip/transaction/timer-config.js';
import type { Endpoint, Flow, InboundError, InboundMessage, Transport, TransportListener, TransportProtocol } from '../sip/transport/transport.js';
import type { IncomingInvite } from '../sip/ua/incoming-invite.js';
import type { IncomingRequest } from '../sip/ua/incoming-request.js';
import type { Registration } from '../sip/ua/registration.js';
import { UserAgentCore } from '../sip/ua/user-agent-core.js';
import { isUserAgentError } from '../sip/ua/user-agent-error.js';
import { type Clock, type TimerHandle, systemClock } from '../sip/util/clock.js';
import { type SipLogger, noopLogger } from '../sip/util/logger.js';
import { TypedEmitter } from '../sip/util/typed-emitter.js';
import { AppServerError, appServerError } from './app-server-error.js';
import type { RelayAddress } from './relay-address.js';

/**
 * Where the SDK's own SIP listener is, and how its connections behave.
 *
 * @example
 * ```ts
 * createAppServer({ ...options, sip: { host: '0.0.0.0', port: 5070, advertisedHost: 'shop.internal' } });
 * ```
 */
export interface SipListenOptions {
  /** Address to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind; 0 picks a free one. Default 0. */
  port?: number;
  /** Host written in Contact and Via when `host` is a wildcard or behind NAT. Default `127.0.0.1`. */
  advertisedHost?: string;
  /** TLS and WSS to the relay: this side's certificate and key (the transport needs them to listen), and how to check the relay's. */
  tls?: { cert: PemSource; key: PemSource; ca?: PemSource; rejectUnauthorized?: boolean };
  /** Limits of the Node transport (`maxMessageSize`, `idleTimeoutMs`, `connectTimeoutMs`…); see docs/transports.md. */
  limits?: Omit<NodeTransportOptions, 'listeners' | 'advertisedHost' | 'tlsClient' | 'clock' | 'logger' | 'wsPath'>;
}

/**
 * How the SDK comes back after losing the relay: exponential backoff with jitter.
 *
 * @example
 * ```ts
 * createAppServer({ ...options, reconnect: { initialDelayMs: 200, maxDelayMs: 10_000 } });
 * ```
 */
export interface ReconnectOptions {
  /** First delay, ms. Default 500. */
  initialDelayMs?: number;
  /** Longest delay, ms. Default 30 000. */
  maxDelayMs?: number;
  /** Growth of the delay per failed attempt. Default 2. */
  factor?: number;
  /** Random spread of each delay, as a fraction (0.2 = ±20 %), so that many app servers do not come back in step. Default 0.2. */
  jitter?: number;
}

/**
 * Options of {@link RelayConnection}.
 *
 * @example
 * ```ts
 * new RelayConnection({ relay: parseRelayAddress(url), domain: 'portal.test', credentials, onInvite: (i) => i.reject(486) });
 * ```
 */
export interface RelayConnectionOptions {
  relay: RelayAddress;
  domain: string;
  credentials: { username: string; password: string };
  listen?: SipListenOptions;
  /** Expiry asked for each service registration, seconds (the relay may grant less; 423 is handled). Default 300. */
  registerExpiresSeconds?: number;
  /**
   * Interval of the OPTIONS the SDK sends the relay to find out that it is
   * gone or back (over UDP the only way to notice a restart; over TCP and WS
   * it also finds half-open connections), ms; 0 turns it off. Default 30 000
   * over TCP, TLS, WS and WSS, 10 000 over UDP.
   */
  keepAliveIntervalMs?: number;
  /** An OPTIONS or REGISTER without a final response after this long counts as a failure, ms. Default 5 000. */
  keepAliveTimeoutMs?: number;
  reconnect?: ReconnectOptions;
  /** How long `start()` keeps trying to reach the relay before it gives up, ms. Default 30 000. */
  startTimeoutMs?: number;
  /** SIP timers (T1, T2, T4…); shorter ones make UDP tests quick. */
  timers?: TimerOptions;
  userAgent?: string;
  clock?: Clock;
  logger?: SipLogger;
  onInvite: (invite: IncomingInvite) => void;
  /** Other requests outside a dialog; default OPTIONS 200, others 405. */
  onRequest?: (request: IncomingRequest) => void;
}

/**
 * `idle` → `connecting` (start) → `ready` (every service registered) →
 * `reconnecting` (relay lost) → `ready` … → `closing` → `closed`.
 *
 * @example
 * ```ts
 * if (app.connection.state === 'reconnecting') res.status(503).send('relay unreachable, retrying');
 * ```
 */
export type RelayConnectionState = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closing' | 'closed';

/**
 * Events of a {@link RelayConnection}.
 *
 * @example
 * ```ts
 * link.on('refused', ({ service, status }) => log.error({ service, status }, 'the relay refused a service'));
 * ```
 */
export interface RelayConnectionEvents {
  /** Every service is registered (after `start()` and after each recovery). */
  ready: { services: readonly string[] };
  /** One service was registered or refreshed; `expires` is what the relay granted. */
  registered: { service: string; expires: number };
  /** The relay was lost: the connection dropped, a keep-alive or a refresh failed. The SDK is trying to come back. */
  disconnected: { reason: string };
  /** The relay refused a registration (e.g. 403: not a service of this account). The SDK does not retry it. */
  refused: { service: string; status: number; reason: string };
}

/** A transport that reports closed flows to the SDK as well as to the transaction layer. */
class FlowWatchingTransport implements Transport {
  constructor(
    private readonly inner: NodeTransport,
    private readonly onClosed: (flow: Flow) => void,
  ) {}

  get protocols(): readonly TransportProtocol[] {
    return this.inner.protocols;
  }

  listen(listener: TransportListener): void {
    this.inner.listen({
      onMessage: (m: InboundMessage) => listener.onMessage(m),
      onParseError: (e: InboundError) => listener.onParseError?.(e),
      onFlowClosed: (flow: Flow) => {
        listener.onFlowClosed?.(flow);
        this.onClosed(flow);
      },
    });
  }

  flowTo(dest: Endpoint): Flow {
    return this.inner.flowTo(dest);
  }

  flowById(id: string): Flow | undefined {
    return this.inner.flowById(id);
  }

  localAddress(protocol: TransportProtocol): { host: string; port: number } | undefined {
    return this.inner.localAddress(protocol);
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * The application server's link to the relay: its own SIP transport and
 * user-agent core, logged in with the account's digest credentials, one
 * registration per service (`sip:<service>@<domain>`, Contact = this
 * server, RFC 3261 §10.2 third-party registration), refreshed by the core;
 * OPTIONS from the relay answered; and recovery when the relay goes away:
 * a dropped TCP or WebSocket connection, a keep-alive OPTIONS that gets no
 * answer, or a refresh that fails makes it try again with backoff until
 * the relay answers, then register every service again. A relay that
 * restarted has forgotten the registrations; registering again is what
 * makes it route to us.
 *
 * Used by {@link AppServer}; exported for applications that want the link
 * without the express-like layer.
 *
 * @example
 * ```ts
 * const link = new RelayConnection({ relay: parseRelayAddress('sip:127.0.0.1:5060;transport=tcp'), domain: 'portal.test',
 *   credentials: { username: 'wineshop', password: 'wineshop-secret' }, onInvite: (invite) => invite.reject(486) });
 * link.on('disconnected', ({ reason }) => log.warn(reason));
 * await link.start(['wine']);
 * ```
 */
export class RelayConnection extends TypedEmitter<RelayConnectionEvents> {
  readonly relay: RelayAddress;
  private readonly options: RelayConnectionOptions;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private readonly expires: number;
  private readonly keepAliveMs: number;
  private readonly probeTimeoutMs: number;
  private readonly backoff: Required<ReconnectOptions>;
  private readonly startTimeoutMs: number;
  private _state: RelayConnectionState = 'idle';
  private _core: UserAgentCore | undefined;
  private transport: NodeTransport | undefined;
  private relayFlow: Flow | undefined;
  private readonly registrations = new Map<string, Registration>();
  private readonly refusedServices = new Set<string>();
  private keepAliveTimer: TimerHandle | undefined;
  private retryTimer: TimerHandle | undefined;
  private attempt = 0;
  private recovering: Promise<void> | undefined;
  private readyWaiters: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
  private probesAnswered = 0;

  constructor(options: RelayConnectionOptions) {
    super((error, type) => (options.logger ?? noopLogger).error({ err: error, event: type }, 'RelayConnection listener threw'));
    this.options = options;
    this.relay = options.relay;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.expires = positiveInt(options.registerExpiresSeconds, 300, 'registerExpiresSeconds');
    const reliable = options.relay.protocol !== 'UDP';
    this.keepAliveMs = nonNegative(options.keepAliveIntervalMs, reliable ? 30_000 : 10_000, 'keepAliveIntervalMs');
    this.probeTimeoutMs = positiveInt(options.keepAliveTimeoutMs, 5_000, 'keepAliveTimeoutMs');
    const r = options.reconnect ?? {};
    this.backoff = {
      initialDelayMs: positiveInt(r.initialDelayMs, 500, 'reconnect.initialDelayMs'),
      maxDelayMs: positiveInt(r.maxDelayMs, 30_000, 'reconnect.maxDelayMs'),
      factor: r.factor ?? 2,
      jitter: r.jitter ?? 0.2,
    };
    if (!(this.backoff.factor >= 1)) throw new TypeError('reconnect.factor must be at least 1');
    if (!(this.backoff.jitter >= 0 && this.backoff.jitter < 1)) throw new TypeError('reconnect.jitter must be in [0, 1)');
    this.startTimeoutMs = positiveInt(options.startTimeoutMs, 30_000, 'startTimeoutMs');
    if ((options.relay.protocol === 'TLS' || options.relay.protocol === 'WSS') && !options.listen?.tls) {
      throw new TypeError(`a ${options.relay.protocol} relay needs listen.tls (this side's certificate and key)`);
    }
  }

  get state(): RelayConnectionState {
    return this._state;
  }

  /** The user-agent core, once started. */
  get core(): UserAgentCore {
    if (!this._core) throw appServerError('APPSERVER_ERR_CLOSED', 'the relay connection is not started');
    return this._core;
  }

  /** The services registered now. */
  get registeredServices(): string[] {
    return [...this.registrations].filter(([, r]) => r.state === 'registered').map(([s]) => s);
  }

  /** OPTIONS probes from the relay answered so far (the relay checks that we are alive). */
  get probesFromRelay(): number {
    return this.probesAnswered;
  }

  /** The address of our SIP listener for the relay's protocol (what Contact names). */
  localAddress(): { host: string; port: number } | undefined {
    return this.transport?.localAddress(this.relay.protocol);
  }

  /**
   * Opens the SIP listener and registers `services`. Resolves once every
   * service is registered. Transient failures (relay not up yet, timeouts)
   * are retried with backoff for `startTimeoutMs`; a refusal (wrong
   * password, a service the account may not provide) rejects at once with
   * `APPSERVER_ERR_REGISTRATION_REFUSED`, running out of time with
   * `APPSERVER_ERR_RELAY_UNREACHABLE`.
   */
  async start(services: readonly string[]): Promise<void> {
    if (this._state !== 'idle') throw new TypeError(`RelayConnection.start: already ${this._state}`);
    this._state = 'connecting';
    const o = this.options;
    const listen = o.listen ?? {};
    const listener = this.listenerFor(listen);
    const transport = new NodeTransport({
      ...listen.limits,
      listeners: [listener],
      advertisedHost: listen.advertisedHost ?? '127.0.0.1',
      wsPath: this.relay.path,
      tlsClient: listen.tls ? { ca: listen.tls.ca, rejectUnauthorized: listen.tls.rejectUnauthorized } : undefined,
      clock: this.clock,
      logger: this.logger,
    });
    this.transport = transport;
    const watched = new FlowWatchingTransport(transport, (flow) => this.flowClosed(flow));
    const { username, password } = o.credentials;
    this._core = new UserAgentCore({
      transport: watched,
      aor: `sip:${username}@${o.domain}`,
      credentials: { username, password },
      outboundProxy: this.relay.outboundProxy,
      userAgent: o.userAgent ?? 'siprelay-appserver',
      timers: o.timers,
      clock: this.clock,
      logger: this.logger,
      onInvite: o.onInvite,
      onRequest: (request) => this.receiveRequest(request),
    });
    await transport.start();
    for (const service of services) {
      this.registrations.set(service, this.makeRegistration(service));
    }
    const deadline = this.clock.now() + this.startTimeoutMs;
    const ready = new Promise<void>((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
    const timer = this.clock.setTimeout(() => {
      this.failStart(appServerError('APPSERVER_ERR_RELAY_UNREACHABLE', `the relay at ${this.relayText()} did not answer within ${this.startTimeoutMs} ms`));
    }, Math.max(0, deadline - this.clock.now()));
    void this.recover('start');
    try {
      await ready;
    } catch (e) {
      // Not started: leave nothing running behind.
      await this.close();
      throw e;
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  /**
   * Removes the registrations (Expires 0, each given `keepAliveTimeoutMs`),
   * then closes the core and the transport. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this._state === 'closed' || this._state === 'closing') return;
    const wasReady = this._state === 'ready';
    this._state = 'closing';
    this.stopTimers();
    this.failStart(appServerError('APPSERVER_ERR_CLOSED', 'the application server was closed'));
    if (wasReady) {
      await Promise.allSettled([...this.registrations.values()].map((r) => this.withTimeout(r.unregister(), 'unregister')));
    }
    for (const r of this.registrations.values()) r.dispose();
    this.registrations.clear();
    await this._core?.close();
    await this.transport?.close();
    this._state = 'closed';
  }

  // ---- recovery ------------------------------------------------------------------

  /** Something showed the relay is gone: report it once and start trying to come back. */
  private lost(reason: string): void {
    if (this._state !== 'ready') return;
    this._state = 'reconnecting';
    this.logger.warn({ relay: this.relayText(), reason }, 'relay lost; reconnecting');
    this.stopKeepAlive();
    this.emit('disconnected', { reason });
    this.attempt = 0;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this._state !== 'reconnecting' && this._state !== 'connecting') return;
    if (this.retryTimer !== undefined) return;
    const b = this.backoff;
    const base = Math.min(b.maxDelayMs, b.initialDelayMs * b.factor ** this.attempt);
    const delay = Math.max(0, Math.round(base * (1 + b.jitter * (2 * Math.random() - 1))));
    this.attempt++;
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      void this.recover('retry');
    }, delay);
  }

  /** One attempt: reach the relay, register every service. Never rejects. */
  private recover(why: 'start' | 'retry'): Promise<void> {
    this.recovering ??= this.tryOnce(why).finally(() => (this.recovering = undefined));
    return this.recovering;
  }

  private async tryOnce(why: 'start' | 'retry'): Promise<void> {
    if (this._state !== 'connecting' && this._state !== 'reconnecting') return;
    try {
      if (this.relay.protocol !== 'UDP' && !(this.relayFlow?.isOpen ?? false)) {
        // Open the connection ourselves, so that we know which flow is the relay's.
        this.relayFlow = this.core.transport.flowTo({ protocol: this.relay.protocol, host: this.relay.host, port: this.relay.port });
      }
      if (why === 'retry' || this.relay.protocol === 'UDP') await this.probe();
      const results = await Promise.allSettled(
        [...this.registrations].filter(([s]) => !this.refusedServices.has(s)).map(([service, reg]) => this.registerOne(service, reg)),
      );
      const refused = results.find((r) => r.status === 'rejected' && r.reason instanceof AppServerError && r.reason.code === 'APPSERVER_ERR_REGISTRATION_REFUSED');
      if (refused && this._state === 'connecting') {
        this.failStart((refused as PromiseRejectedResult).reason);
        return;
      }
      const failed = results.find((r) => r.status === 'rejected' && !(r.reason instanceof AppServerError && r.reason.code === 'APPSERVER_ERR_REGISTRATION_REFUSED'));
      if (failed) throw (failed as PromiseRejectedResult).reason;
      if (this._state !== 'connecting' && this._state !== 'reconnecting') return;
      this._state = 'ready';
      this.attempt = 0;
      this.startKeepAlive();
      const services = this.registeredServices;
      this.logger.info({ relay: this.relayText(), services }, 'registered with the relay');
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const w of waiters) w.resolve();
      this.emit('ready', { services });
    } catch (e) {
      if (this._state !== 'connecting' && this._state !== 'reconnecting') return;
      this.logger.debug({ err: e, relay: this.relayText(), attempt: this.attempt }, 'relay not reachable yet');
      this.scheduleRetry();
    }
  }

  private async registerOne(service: string, reg: Registration): Promise<void> {
    const response = await this.withTimeout(reg.register(), 'REGISTER');
    if (response.status >= 200 && response.status < 300) return;
    if (response.status === 401 || response.status === 403 || response.status === 404) {
      this.refusedServices.add(service);
      const reason = response.reason;
      this.emit('refused', { service, status: response.status, reason });
      throw appServerError('APPSERVER_ERR_REGISTRATION_REFUSED', `the relay refused to register ${service}: ${response.status} ${reason}`, {
        status: response.status,
        reason,
      });
    }
    throw appServerError('APPSERVER_ERR_RELAY_UNREACHABLE', `REGISTER for ${service} got ${response.status} ${response.reason}`, { status: response.status });
  }

  /** OPTIONS to the relay; resolves on any final response, rejects on none within the probe timeout. */
  private async probe(): Promise<void> {
    const target = this.relay.outboundProxy.replace(/;lr(?=;|$)/, '');
    await this.withTimeout(this.core.request('OPTIONS', target), 'OPTIONS');
  }

  private failStart(error: unknown): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w.reject(error);
  }

  // ---- keep-alive ------------------------------------------------------------------

  private startKeepAlive(): void {
    this.stopKeepAlive();
    if (this.keepAliveMs === 0 || this._state !== 'ready') return;
    this.keepAliveTimer = this.clock.setTimeout(() => {
      this.keepAliveTimer = undefined;
      this.probe().then(
        () => this.startKeepAlive(),
        (e: unknown) => this.lost(`keep-alive OPTIONS failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    }, this.keepAliveMs);
  }

  private stopKeepAlive(): void {
    if (this.keepAliveTimer !== undefined) this.clock.clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
  }

  private stopTimers(): void {
    this.stopKeepAlive();
    if (this.retryTimer !== undefined) this.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  // ---- events from below ------------------------------------------------------------

  private flowClosed(flow: Flow): void {
    if (flow !== this.relayFlow) return;
    this.relayFlow = undefined;
    this.lost(`connection to the relay closed (${flow.id})`);
  }

  private receiveRequest(request: IncomingRequest): void {
    if (request.method === 'OPTIONS') {
      // The relay's health probe: while closing, say so, so it stops routing here.
      if (this._state === 'closing') request.respond(503, { headers: [['Retry-After', '5']] });
      else {
        this.probesAnswered++;
        request.accept({ headers: [['Accept', 'application/vnd.siprelay.request+json, application/sdp, multipart/mixed']] });
      }
      return;
    }
    if (this.options.onRequest) return this.options.onRequest(request);
    request.respond(405);
  }

  private makeRegistration(service: string): Registration {
    const reg = this.core.register({ aor: `sip:${service}@${this.options.domain}`, registrar: `sip:${this.options.domain}`, expires: this.expires });
    reg.on('registered', ({ expires }) => this.emit('registered', { service, expires }));
    reg.on('failed', ({ response, error }) => {
      // A refresh that failed while we thought all was well: the relay restarted or went away.
      if (this._state !== 'ready') return;
      this.lost(`refreshing the registration of ${service} failed: ${response ? `${response.status} ${response.reason}` : error?.message ?? 'no answer'}`);
    });
    return reg;
  }

  private listenerFor(listen: SipListenOptions): ListenerOptions {
    const host = listen.host ?? '127.0.0.1';
    const port = listen.port ?? 0;
    switch (this.relay.protocol) {
      case 'UDP':
        return { protocol: 'UDP', host, port };
      case 'TCP':
        return { protocol: 'TCP', host, port };
      case 'TLS':
        return { protocol: 'TLS', host, port, cert: listen.tls!.cert, key: listen.tls!.key };
      case 'WS':
        return { protocol: 'WS', host, port, path: this.relay.path };
      case 'WSS':
        return { protocol: 'WSS', host, port, path: this.relay.path, cert: listen.tls!.cert, key: listen.tls!.key };
    }
  }

  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(
        () => reject(appServerError('APPSERVER_ERR_RELAY_UNREACHABLE', `no answer to ${what} within ${this.probeTimeoutMs} ms`)),
        this.probeTimeoutMs,
      );
      p.then(
        (v) => {
          this.clock.clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          this.clock.clearTimeout(timer);
          reject(isUserAgentError(e) ? appServerError('APPSERVER_ERR_RELAY_UNREACHABLE', `${what}: ${e.message}`, { cause: e }) : e);
        },
      );
    });
  }

  private relayText(): string {
    return `${this.relay.protocol} ${this.relay.host}:${this.relay.port}`;
  }
}

function positiveInt(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw new TypeError(`${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function nonNegative(v: number | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  if (!Number.isSafeInteger(v) || v < 0) throw new TypeError(`${name} must be a non-negative integer, got ${String(v)}`);
  return v;
}
