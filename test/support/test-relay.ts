import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { syncConfigServices } from '../../server/cli/sync-config-services.js';
import { relayConfigSchema, type RelayConfig } from '../../server/config/relay-config-schema.js';
import { startRelay, type RunningRelay } from '../../server/relay.js';
import { openStore, type OpenedStore } from '../../server/store/open-store.js';

/** What a test may set on the relay it starts; everything else is the default. */
export interface TestRelayOptions {
  /** Raw configuration merged over the test defaults (listeners on port 0, temp SQLite). */
  config?: Record<string, unknown>;
  /** Users to create: `[username, password]`. Default alice / alice-secret and bob / bob-secret. */
  users?: Array<[string, string]>;
  /** Application-server accounts: name, password and the services each may provide. */
  appServers?: Array<{ name: string; password: string; services: string[] }>;
  /** Database URL; default a SQLite file in a temp directory. */
  databaseUrl?: string;
  /** Log to stderr at this level (debugging a test). Default silent; `SIPRELAY_TEST_LOG=debug` also works. */
  logLevel?: string;
  recordRouteSecret?: string;
  nodeId?: string;
  /** A built portal to serve at `/` (default none). */
  portalDir?: string;
}

/** A relay started by a test, on free ports, with its store. */
export interface TestRelay {
  relay: RunningRelay;
  store: OpenedStore;
  config: RelayConfig;
  /** `127.0.0.1:<port>` of the UDP and TCP listeners. */
  udp: { host: string; port: number };
  tcp: { host: string; port: number };
  /** `ws://127.0.0.1:<port>/sip`. */
  wsUrl: string;
  httpUrl: string;
  domain: string;
  dataDir: string;
  /** Stops the relay, closes the store and removes the temp directory. */
  stop(): Promise<void>;
}

/**
 * Starts a whole relay in the test process: UDP and TCP on 127.0.0.1 port
 * 0, WebSocket on the HTTP server (port 0), SQLite in a temp directory,
 * short SIP timers unless the test sets others, and the given users and
 * application servers.
 */
export async function startTestRelay(options: TestRelayOptions = {}): Promise<TestRelay> {
  const dataDir = mkdtempSync(join(tmpdir(), 'siprelay-test-'));
  const raw: Record<string, unknown> = {
    domains: ['portal.test'],
    listeners: [
      { transport: 'udp', host: '127.0.0.1', port: 0 },
      { transport: 'tcp', host: '127.0.0.1', port: 0 },
      { transport: 'ws', path: '/sip' },
    ],
    http: { host: '127.0.0.1', port: 0 },
    database: { url: options.databaseUrl ?? `sqlite:${join(dataDir, 'relay.sqlite')}` },
    admin: { token: 'test-admin-token-0123456789' },
    log: { level: 'silent' },
    ...options.config,
  };
  const config = relayConfigSchema.parse(raw);
  const store = await openStore(config.database.url);
  await syncConfigServices(config, store);
  await store.signingKeys.ensureActive({ algorithm: config.tokens.algorithm });
  const domain = config.domains[0];
  for (const [username, password] of options.users ?? [
    ['alice', 'alice-secret'],
    ['bob', 'bob-secret'],
  ]) {
    await store.subscribers.add({ username, domain, password, displayName: username[0].toUpperCase() + username.slice(1) });
  }
  for (const a of options.appServers ?? []) {
    await store.appServers.add({ name: a.name, domain, password: a.password });
    for (const s of a.services) await store.appServers.attachService(a.name, s);
  }
  const level = options.logLevel ?? process.env.SIPRELAY_TEST_LOG ?? 'silent';
  const logger = pino({ level, base: { relay: 'test' } }, pino.destination(2));
  const relay = await startRelay(config, store, {
    logger,
    recordRouteSecret: options.recordRouteSecret,
    nodeId: options.nodeId ?? 'test-node',
    portalDir: options.portalDir,
  });
  const bound = relay.transport.boundAddresses();
  const find = (p: string) => {
    const b = bound.find((x) => x.protocol === p);
    if (!b) throw new Error(`test relay has no ${p} listener`);
    return { host: b.host, port: b.port };
  };
  return {
    relay,
    store,
    config,
    udp: find('UDP'),
    tcp: find('TCP'),
    wsUrl: relay.httpUrl.replace(/^http/, 'ws') + '/sip',
    httpUrl: relay.httpUrl,
    domain,
    dataDir,
    async stop() {
      await relay.stop();
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
