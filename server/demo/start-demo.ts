import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SipLogger } from '../../sip/util/logger.js';
import { DEMO_APP_SERVER_ACCOUNTS, startDemoAppServers, type RunningDemoAppServers } from '../../demo-appserver/index.js';
import { seedDemoAccounts } from '../accounting/demo-accounts.js';
import type { RelayConfig } from '../config/relay-config-schema.js';
import { startRelay, type RunningRelay } from '../relay.js';
import type { Store } from '../store/store.js';

/** The demo users (design brief, "Defaults"). */
export const DEMO_USERS = [
  { username: 'alice', password: 'alice-secret', displayName: 'Alice' },
  { username: 'bob', password: 'bob-secret', displayName: 'Bob' },
] as const;

/**
 * Where the build puts the portal: `dist/web` at the repository root,
 * whether this module runs compiled (`dist/server/demo`) or from source
 * (`server/demo`, under tsx in tests).
 */
export const DEFAULT_PORTAL_DIR = (() => {
  const up2 = fileURLToPath(new URL('../../', import.meta.url));
  const root = /[\\/]dist[\\/]$/.test(up2) ? fileURLToPath(new URL('../../../', import.meta.url)) : up2;
  return join(root, 'dist', 'web');
})();

/** What {@link startDemo} needs besides configuration and store. */
export interface StartDemoOptions {
  readonly logger: Logger | SipLogger;
  /** Built portal to serve; default `dist/web`. */
  readonly portalDir?: string;
  /** Ports of the demo apps (default 8081–8085); 0 picks free ones (tests). */
  readonly appPorts?: Partial<Record<(typeof DEMO_APP_SERVER_ACCOUNTS)[number]['name'], number>>;
}

/** The running demo: the relay and the demo application servers. */
export interface RunningDemo extends RunningRelay {
  readonly apps: RunningDemoAppServers;
}

/**
 * Seeds what the demo needs when it is missing (users alice and bob, the
 * demo application-server accounts with their services, the billing
 * accounts: alice prepaid 50.00 EUR, bob postpaid with a 100.00 EUR limit),
 * starts the relay with the portal at `/`, then the demo application
 * servers, which log in over TCP and register their services. Seeding is
 * idempotent: a restart keeps what users did (balances, sessions, bills).
 */
export async function startDemo(config: RelayConfig, store: Store, options: StartDemoOptions): Promise<RunningDemo> {
  const logger = options.logger as SipLogger;
  const domain = config.domains[0];
  for (const u of DEMO_USERS) {
    if (!(await store.subscribers.find(u.username, domain))) {
      await store.subscribers.add({ username: u.username, domain, password: u.password, displayName: u.displayName });
      logger.info({ user: `${u.username}@${domain}` }, 'demo user created');
    }
  }
  const configured = new Set(config.services.map((s) => s.name));
  for (const a of DEMO_APP_SERVER_ACCOUNTS) {
    if (!(await store.appServers.find(a.name))) {
      await store.appServers.add({ name: a.name, domain, password: a.password, displayName: a.displayName });
    }
    const provided = new Set((await store.appServers.listServices({ appServer: a.name })).map((s) => s.service));
    for (const service of a.services) {
      if (configured.has(service) && !provided.has(service)) await store.appServers.attachService(a.name, service, { weight: a.weight });
    }
  }
  await seedDemoAccounts(store, { domain });

  const portalDir = options.portalDir ?? DEFAULT_PORTAL_DIR;
  if (!existsSync(portalDir)) logger.warn({ portalDir }, 'the portal is not built (npm run build); serving the API only');
  const relay = await startRelay(config, store, { logger: options.logger, portalDir });
  const tcp = relay.sipAddress('TCP');
  let apps: RunningDemoAppServers;
  try {
    if (!tcp) throw new Error('the demo needs a TCP listener for its application servers (listeners: transport tcp)');
    const publicHttp = config.http.publicUrl ?? `http://localhost:${relay.httpServer.port}`;
    apps = await startDemoAppServers({
      relay: `sip:${tcp.host}:${tcp.port};transport=tcp`,
      domain,
      relayHttpUrl: relay.httpUrl,
      portalUrl: publicHttp.endsWith('/') ? publicHttp : publicHttp + '/',
      ports: options.appPorts,
      logger,
    });
  } catch (e) {
    await relay.stop();
    throw e;
  }
  logger.info(
    { portal: `http://localhost:${relay.httpServer.port}/`, apps: Object.fromEntries(Object.entries(apps.apps).map(([k, v]) => [k, v.url])) },
    'demo running: sign in as alice / alice-secret or bob / bob-secret',
  );
  let stopping: Promise<void> | undefined;
  return {
    ...relay,
    apps,
    stop() {
      stopping ??= (async () => {
        await apps.close();
        await relay.stop();
      })();
      return stopping;
    },
  };
}
