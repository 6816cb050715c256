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
import { startHttpServer, type RunningHttpServer } from './http/start-http-server.js';
import { createIdentityAsserter, type RelayIdentity } from './identity/create-identity-asserter.js';
import { relayIssuer } from './identity/relay-issuer.js';
import { PortalTokenIssuer, PortalTokenVerifier } from './portal/portal-token.js';
import { UserTokenRegistrar } from './portal/user-token-registrar.js';
import { MemoryLocationService } from './registrar/memory-location-service.js';
import { RelayRegistrar } from './registrar/relay-registrar.js';
import { RelayCore } from './relay-core.js';
import { RuleRoutingEngine } from './routing/rule-routing-engine.js';
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
  /** Stable secret of the Record-Route tokens, so dialogs survive a restart. Default: random per process. */
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
  readonly nodeId: string;
  /** `http://host:port` of the HTTP server (the portal, the API, `/sip` for WebSocket). */
  readonly httpUrl: string;
  /** Where SIP is taken on `protocol`, as bound (the real port when 0 was configured). */
  sipAddress(protocol: TransportProtocol): { host: string; port: number } | undefined;
  /**
   * Clean shutdown (issue 3, item 1): stop accepting new requests (503 with
   * Retry-After), let transactions in flight finish for a moment, end the
   * sessions still live with BYE to both sides, close transports, HTTP and
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

/** How long `stop()` lets transactions in flight finish before ending sessions. */
const DRAIN_GRACE_MS = 1000;

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

  const auth = createAuthenticator(config, store, { clock, logger });
  const identity = await createIdentityAsserter(config, store, { clock, logger });
  const accounting = new Accounting(store, {
    nodeId,
    services: config.services,
    clock,
    onCreditExhausted: (session) => {
      logger.info({ sessionId: session.id }, 'credit exhausted: ending the session');
      void coreRef()
        .endDialog(session.id, { reason: 'SIP;cause=402;text="credit exhausted"' })
        .catch((e: unknown) => logger.error({ err: e, sessionId: session.id }, 'could not end a session out of credit'))
        .finally(() => void accounting.recorder.end(session.id, 'credit-exhausted'));
    },
    onError: (error, context) => logger.error({ err: error, context }, 'accounting error'),
  });

  const http = createHttpApp({
    store,
    config,
    logger,
    credentialCache: auth.credentialCache,
    keyRing: identity.keyRing,
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
    recordRouteSecret: options.recordRouteSecret,
    onError: (e) => logger.error({ err: e }, 'relay core error'),
  });

  try {
    await transport.start();
  } catch (e) {
    await httpServer.close();
    identity.keyRing.stop();
    await accounting.close();
    throw e;
  }
  core.addresses.refresh();
  directory.start();

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let stopping: Promise<void> | undefined;
  const relayCore = core;

  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      relayCore.drain();
      await new Promise((r) => setTimeout(r, DRAIN_GRACE_MS));
      const live = relayCore.liveDialogs();
      if (live.length) logger.info({ sessions: live.length }, 'ending live sessions');
      await Promise.allSettled(
        live.map(async (d) => {
          await relayCore.endDialog(d, { reason: 'SIP;cause=503;text="relay shutting down"' });
          await accounting.recorder.end(d.sessionId, 'operator');
        }),
      );
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
    nodeId,
    httpUrl: httpServer.url,
    sipAddress: (protocol) => transport.localAddress(protocol),
    stop,
    done,
  };
}
