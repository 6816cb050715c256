import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { NodeTransport } from '../sip/node/node-transport.js';
import type { ListenerOptions } from '../sip/node/node-transport-options.js';
import type { TransportProtocol } from '../sip/transport/transport.js';
import { systemClock, type Clock } from '../sip/util/clock.js';
import type { SipLogger } from '../sip/util/logger.js';
import { Accounting } from './accounting/accounting.js';
import { createAccountingAdminRouter } from './accounting/http/accounting-admin-router.js';
import { createAccountingApiRouter } from './accounting/http/accounting-api-router.js';
import { createAuthenticator, type RelayAuthentication } from './auth/create-authenticator.js';
import type { ListenerConfig } from './config/listener-config.js';
import type { RelayConfig } from './config/relay-config-schema.js';
import { AppServerDirectory } from './directory/app-server-directory.js';
import { createDirectoryAdminRouter } from './directory/directory-admin-router.js';
import { staticTargetsFromConfig, staticTargetsFromStore } from './directory/static-target.js';
import { adminBearerVerifier } from './http/admin-auth.js';
import { createHttpApp, type HttpApp } from './http/create-http-app.js';
import { RelayMetrics } from './http/relay-metrics.js';
import { startHttpServer, type RunningHttpServer } from './http/start-http-server.js';
import { createIdentityAsserter, type RelayIdentity } from './identity/create-identity-asserter.js';
import { relayIssuer } from './identity/relay-issuer.js';
import { PortalTokenIssuer, PortalTokenVerifier } from './portal/portal-token.js';
import { UserTokenRegistrar } from './portal/user-token-registrar.js';
import { MemoryLocationService } from './registrar/memory-location-service.js';
import { RelayRegistrar } from './registrar/relay-registrar.js';
import type { AdmissionVerdict, SessionAdmission } from './core/session-admission.js';
import { RelayCore } from './relay-core.js';
import { RuleRoutingEngine } from './routing/rule-routing-engine.js';
import { DialogJournal } from './sessions/dialog-journal.js';
import { createSessionAdminRouter } from './sessions/http/session-admin-router.js';
import { newSecret, RELAY_SETTING, RelaySettings } from './sessions/relay-settings.js';
import { SessionSupervisor } from './sessions/session-supervisor.js';
import type { Store } from './store/store.js';

/** What {@link startRelay} needs besides configuration and store. */
export interface StartRelayOptions {
  /** The process logger (pino), at the configured level. */
  readonly logger: Logger | SipLogger;
  /** Time source; default the system clock. */
  readonly clock?: Clock;
  /**
   * This node's id: sessions are stored with it and recovered by it after a
   * restart, so it must stay the same across restarts. Default the host name
   * (environment `SIPRELAY_NODE_ID` overrides).
   */
  readonly nodeId?: string;
  /**
   * Secret of the Record-Route tokens. Default `proxy.recordRouteSecret`,
   * else one made at first start and kept in the store, so that dialogs
   * carry on over a restart.
   */
  readonly recordRouteSecret?: string;
  /**
   * A built portal (Vite output, `dist/web`) to serve at `/` — the demo and
   * any deployment that serves the portal from the relay itself.
   */
  readonly portalDir?: string;
}

/** A running relay. */
export interface RunningRelay {
  readonly config: RelayConfig;
  readonly store: Store;
  readonly core: RelayCore;
  readonly transport: NodeTransport;
  readonly http: HttpApp;
  readonly httpServer: RunningHttpServer;
  readonly accounting: Accounting;
  readonly directory: AppServerDirectory;
  readonly location: MemoryLocationService;
  readonly auth: RelayAuthentication;
  readonly identity: RelayIdentity;
  /** Session timers, maximum durations, operator ends, restart recovery (docs/sessions.md). */
  readonly supervisor: SessionSupervisor;
  readonly nodeId: string;
  /** `http://host:port` of the HTTP server (the portal, the API, `/sip` for WebSocket). */
  readonly httpUrl: string;
  /** Where SIP is taken on `protocol`, as bound (the real port when 0 was configured). */
  sipAddress(protocol: TransportProtocol): { host: string; port: number } | undefined;
  /**
   * Clean shutdown (issue 3, item 1; docs/sessions.md): stop accepting new
   * requests (503 with Retry-After), let requests in flight finish (at
   * most `sessions.shutdownGraceSeconds`), end the sessions still live
   * with BYE to both sides (recorded as ended by the `operator`, reason
   * "relay shutdown"; waiting at most `sessions.shutdownByeWaitSeconds`
   * for the BYEs' answers), close transports and HTTP, and close
   * accounting (every pending write is flushed). The store stays open: its
   * owner closes it. Idempotent.
   */
  stop(): Promise<void>;
  /** Settles when the relay has stopped. */
  readonly done: Promise<void>;
}

/** The portal's HTML must never be cached, so a new build is picked up at once; hashed assets may be. */
function noCacheForHtml(res: ServerResponse, path: string): void {
  if (path.endsWith('.html')) res.setHeader('Cache-Control', 'no-cache');
}

/** Admits a new session without asking anyone. */
const ADMITTED: AdmissionVerdict = { admitted: true };

/** Resolves after `ms` on the clock (never keeps the process alive). */
function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

function listenerOptions(l: ListenerConfig, server: RunningHttpServer['server']): ListenerOptions {
  switch (l.transport) {
    case 'udp':
      return { protocol: 'UDP', host: l.host, port: l.port };
    case 'tcp':
      return { protocol: 'TCP', host: l.host, port: l.port };
    case 'tls':
      return { protocol: 'TLS', host: l.host, port: l.port, cert: l.cert, key: l.key };
    case 'ws':
      return { protocol: 'WS', server, path: l.path };
    case 'wss':
      return { protocol: 'WSS', host: l.host, port: l.port, path: l.path, cert: l.cert, key: l.key };
  }
}

/**
 * Assembles and starts the relay (docs/architecture.md): authentication,
 * identity tokens, accounting, the HTTP server with the WebSocket endpoint
 * `/sip`, the SIP transports, the registrar and location service, the
 * application-server directory with its OPTIONS probes, the routing rules,
 * and the relay core that drives them.
 *
 * @example
 * ```ts
 * const store = await openStore(config.database.url);
 * const relay = await startRelay(config, store, { logger: pino() });
 * console.log('portal at', relay.httpUrl);
 * await relay.stop();
 * ```
 */
export async function startRelay(config: RelayConfig, store: Store, options: StartRelayOptions): Promise<RunningRelay> {
  const logger = options.logger as SipLogger;
  const clock = options.clock ?? systemClock;
  const nodeId = options.nodeId ?? process.env.SIPRELAY_NODE_ID ?? hostname();
  const domain = config.domains[0];
  const issuer = relayIssuer(config);

  // Late binding: the directory probes through the core's transaction
  // layer, and the core needs the directory. Both exist before any use.
  let core: RelayCore | undefined;
  const coreRef = (): RelayCore => {
    if (!core) throw new Error('relay core used before it was built');
    return core;
  };

  // Secrets that must outlive the process, so that dialogs (Record-Route tokens) and nonces carry on
  // over a restart: the configuration's, else made once and kept in the store.
  const settings = new RelaySettings(store.db, clock);
  const recordRouteSecret = options.recordRouteSecret ?? config.proxy.recordRouteSecret ?? (await settings.getOrCreate(RELAY_SETTING.recordRouteSecret, newSecret));
  const nonceSecret = config.auth.nonceSecret ?? (await settings.getOrCreate(RELAY_SETTING.nonceSecret, newSecret));

  // Served at GET /metrics; the parts below report into it.
  const metrics = new RelayMetrics();
  const auth = createAuthenticator({ ...config, auth: { ...config.auth, nonceSecret } }, store, {
    clock,
    logger,
    onOutcome: (outcome) => metrics.authOutcomes.inc({ outcome }),
  });
  const identity = await createIdentityAsserter(config, store, { clock, logger, onTokenSigned: () => metrics.tokensSigned.inc() });
  // Late binding like the core's: accounting tells the supervisor of exhausted credit, the supervisor ends records through accounting.
  let supervisorRef: SessionSupervisor | undefined;
  const accounting = new Accounting(store, {
    nodeId,
    services: config.services,
    clock,
    onCreditExhausted: (session) => {
      // BYE to both sides, and the record ended as `credit-exhausted` at this instant (docs/billing.md).
      const ending = supervisorRef?.endSession(session.id, 'credit-exhausted');
      if (ending === undefined) {
        // No live dialog (its BYE crossed the cut-off): the record still ends for the right reason.
        accounting.recorder.end(session.id, 'credit-exhausted').catch((e: unknown) => logger.error({ err: e, sessionId: session.id }, 'could not end a session out of credit'));
      }
    },
    onError: (error, context) => logger.error({ err: error, context }, 'accounting error'),
    groupCommit: { onDurable: (waitedMs) => metrics.accountingWriteSeconds.observe(waitedMs / 1000) },
  });
  const supervisor = new SessionSupervisor({
    nodeId,
    services: config.services,
    accounting: {
      end: (sessionId, by, reason) => accounting.recorder.end(sessionId, by, reason),
      openSessions: (node) => accounting.recovery.openSessions(node),
      adopt: (session) => {
        accounting.recovery.adopt(session);
        // Its credit cut-off is watched again.
        void accounting.watch?.recheck(session.record.id);
      },
      interrupt: (sessionId, lastAliveAt) => accounting.recovery.markInterrupted(sessionId, lastAliveAt),
    },
    journal: new DialogJournal({
      db: store.db,
      nodeId,
      // The snapshot commits with the answer it goes with, in the accounting's group commit; like the
      // answer, the 2xx waits for its commit, not for the WAL sync (docs/billing.md, "Durability").
      write: (work) => accounting.committer.runCommitted(work),
      clock,
      onError: (e) => logger.error({ err: e }, 'session snapshot not written'),
    }),
    recoveryGraceMs: config.sessions.recoveryGraceSeconds * 1000,
    flowLossGraceMs: config.sessions.flowLossGraceSeconds * 1000,
    clock,
    logger,
    onError: (e, context) => logger.error({ err: e, context }, 'session supervision error'),
  });
  supervisorRef = supervisor;
  // 402 before anything is forwarded for a user who cannot afford the tariff's minimum (issue 4 item 6).
  const admission: SessionAdmission = {
    async admit(party, service) {
      if (party.kind !== 'subscriber') return ADMITTED;
      const check = await accounting.credit.checkInvite(party, service.name);
      return check.ok ? ADMITTED : { admitted: false, status: check.sipStatus, reason: check.reason };
    },
  };

  const http = createHttpApp({
    store,
    config,
    logger,
    credentialCache: auth.credentialCache,
    keyRing: identity.keyRing,
    metrics,
  });
  const verifyAdmin = adminBearerVerifier({ token: config.admin.token, apiKeys: store.apiKeys });
  const portalTokens = new PortalTokenIssuer(() => identity.keyRing.current, issuer, clock);
  const portalUsers = new PortalTokenVerifier(
    async () => ({ keys: await store.signingKeys.published({ retiredForMs: config.tokens.retiredKeyPublishSeconds * 1000 }) }),
    issuer,
    clock,
  );
  http.mount(
    '/api/v1',
    createAccountingApiRouter({
      store,
      charges: accounting.charges,
      reports: accounting.reports,
      users: portalUsers,
      verifyAdmin: async (bearer) => (await verifyAdmin(bearer)) !== undefined,
      clock,
      onError: (e) => logger.error({ err: e }, 'accounting API error'),
    }),
  );
  http.mount(
    '/admin/v1',
    createAccountingAdminRouter({
      store,
      reports: accounting.reports,
      verifyAdmin: async (bearer) => (await verifyAdmin(bearer)) !== undefined,
      defaultDomain: domain,
      clock,
      onError: (e) => logger.error({ err: e }, 'accounting admin API error'),
    }),
  );
  http.mount(
    '/admin/v1',
    createSessionAdminRouter({
      supervisor,
      verifyAdmin: async (bearer) => (await verifyAdmin(bearer)) !== undefined,
      clock,
    }),
  );
  if (options.portalDir !== undefined && existsSync(join(options.portalDir, 'index.html'))) {
    http.mount('/', express.static(options.portalDir, { index: 'index.html', maxAge: '1h', setHeaders: noCacheForHtml }));
  }
  const httpServer = await startHttpServer({ app: http.app, host: config.http.host, port: config.http.port, logger });

  const transport = new NodeTransport({
    listeners: config.listeners.map((l) => listenerOptions(l, httpServer.server)),
    maxMessageSize: config.limits.maxMessageBytes,
    idleTimeoutMs: config.limits.connectionIdleSeconds * 1000,
    maxConnections: config.limits.maxConnections,
    maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
    clock,
    logger,
  });

  const location = new MemoryLocationService({ clock, nodeId });
  const directory = new AppServerDirectory({
    services: config.services,
    staticTargets: [
      ...staticTargetsFromConfig(config.staticTargets),
      ...staticTargetsFromStore(await store.appServers.listServices({})),
    ],
    transactions: {
      sendRequest: (...args) => coreRef().transactions.sendRequest(...args),
      get transport() {
        return transport;
      },
    },
    probeFrom: `sip:siprelay@${domain}`,
    probeIntervalMs: config.directory.probeIntervalSeconds * 1000,
    probeRetryIntervalMs: config.directory.probeRetryIntervalSeconds * 1000,
    probeTimeoutMs: config.directory.probeTimeoutSeconds * 1000,
    clock,
    logger,
  });
  // The operator console's view of the targets and their health (GET /admin/v1/targets).
  http.mount('/admin/v1', createDirectoryAdminRouter({ directory, verifyAdmin: async (bearer) => (await verifyAdmin(bearer)) !== undefined }));
  const registrar = new UserTokenRegistrar(
    new RelayRegistrar({
      location,
      domains: config.domains,
      isLocalHost: (host) => core !== undefined && core.addresses.isLocalHost(host),
      appServerServices: store.appServers,
      directory,
      clock,
      logger,
    }),
    portalTokens,
  );
  core = new RelayCore({
    transport,
    config,
    clock,
    logger,
    authenticator: auth.authenticator,
    registrar,
    location,
    directory,
    routing: new RuleRoutingEngine({ rules: config.routing.rules, logger }),
    identity: identity.asserter,
    observer: accounting.recorder,
    supervision: supervisor,
    admission,
    recordRouteSecret,
    drainRetryAfterSeconds: config.sessions.busyRetryAfterSeconds,
    busyRetryAfterSeconds: config.sessions.busyRetryAfterSeconds,
    onError: (e) => logger.error({ err: e }, 'relay core error'),
  });
  supervisor.attach(core);

  try {
    // This node's sessions from before a restart are rebuilt before any request can arrive for them.
    await supervisor.recover();
    await transport.start();
  } catch (e) {
    supervisor.stop();
    await httpServer.close();
    identity.keyRing.stop();
    await accounting.close();
    throw e;
  }
  core.addresses.refresh();
  directory.start();
  supervisor.startRecoveryProbes();

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  const relayCore = core;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // New out-of-dialog requests get 503 with Retry-After; in-dialog requests, ACK and CANCEL still flow.
      relayCore.drain();
      const grace = config.sessions.shutdownGraceSeconds * 1000;
      if (relayCore.inFlightRequests > 0) await Promise.race([relayCore.whenIdle(), sleep(clock, grace)]);
      if (relayCore.inFlightRequests > 0) logger.warn({ requests: relayCore.inFlightRequests }, 'requests still in flight at shutdown');
      const live = relayCore.liveDialogs();
      if (live.length) logger.info({ sessions: live.length }, 'ending live sessions');
      // Each record is ended (operator, "relay shutdown") before accounting closes; the BYEs' answers are waited for a while.
      const ending = supervisor.endAll('shutdown', 'relay shutdown');
      await ending.recorded;
      await Promise.race([ending.byes, sleep(clock, config.sessions.shutdownByeWaitSeconds * 1000)]);
      supervisor.stop();
      directory.close();
      await relayCore.close();
      await transport.close();
      await httpServer.close();
      identity.keyRing.stop();
      await accounting.close();
      resolveDone();
    })();
    return stopping;
  };

  logger.info(
    {
      nodeId,
      http: httpServer.url,
      sip: transport.boundAddresses().map((a) => `${a.protocol.toLowerCase()}:${a.host}:${a.port}`),
    },
    'relay started',
  );

  return {
    config,
    store,
    core,
    transport,
    http,
    httpServer,
    accounting,
    directory,
    location,
    auth,
    identity,
    supervisor,
    nodeId,
    httpUrl: httpServer.url,
    sipAddress: (protocol) => transport.localAddress(protocol),
    stop,
    done,
  };
}
