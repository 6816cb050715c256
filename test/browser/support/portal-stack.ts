import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { seedDemoAccounts } from '../../../server/accounting/demo-accounts.js';
import { DEMO_APP_SERVER_ACCOUNTS } from '../../../demo-appserver/demo-accounts.js';
import { startDemoAppServers, type RunningDemoAppServers } from '../../../demo-appserver/start-demo-app-servers.js';
import { startTestRelay, type TestRelay } from '../../support/test-relay.js';

const root = new URL('../../../', import.meta.url).pathname;

/** Options of {@link startPortalStack}. */
export interface PortalStackOptions {
  /** A built portal to serve at `/` (default `dist/web`). */
  portalDir?: string;
  /** Raw relay configuration merged over the demo services (e.g. a shorter session timer). */
  config?: Record<string, unknown>;
  /** Seed alice (prepaid 50.00 EUR) and bob (postpaid, 100.00 EUR limit) as the demo does. Default true. */
  seedAccounts?: boolean;
  /** Users to create: `[username, password]`; default alice and bob (the demo's). Only alice and bob get credit accounts. */
  users?: Array<[string, string]>;
}

/** The whole demo on free ports: relay (with its store), the five demo application servers, the portal. */
export interface PortalStack {
  readonly relay: TestRelay;
  readonly demo: RunningDemoAppServers;
  /** The portal as a browser opens it: `http://localhost:<port>/`. */
  readonly portalUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts what `npm start` runs, on free ports and a temp SQLite store: the
 * relay with the demo configuration's services (config/demo.yaml), the demo
 * application-server accounts, the demo users and their credit accounts,
 * and the five demo application servers logged in over TCP.
 */
export async function startPortalStack(options: PortalStackOptions = {}): Promise<PortalStack> {
  const demoConfig = parseYaml(readFileSync(join(root, 'config/demo.yaml'), 'utf8')) as { services: unknown; routing: unknown };
  const relay = await startTestRelay({
    config: { services: demoConfig.services, routing: demoConfig.routing, ...options.config },
    appServers: DEMO_APP_SERVER_ACCOUNTS.map((a) => ({ name: a.name, password: a.password, services: [...a.services] })),
    portalDir: options.portalDir ?? join(root, 'dist/web'),
    ...(options.users ? { users: options.users } : {}),
  });
  let demo: RunningDemoAppServers;
  try {
    if (options.seedAccounts !== false) await seedDemoAccounts(relay.store, { domain: relay.domain });
    const portalUrl = relay.httpUrl.replace('127.0.0.1', 'localhost') + '/';
    demo = await startDemoAppServers({
      relay: `sip:${relay.tcp.host}:${relay.tcp.port};transport=tcp`,
      domain: relay.domain,
      relayHttpUrl: relay.httpUrl,
      portalUrl,
      ports: { wineshop: 0, beershop: 0, 'bookstore-a': 0, 'bookstore-b': 0, lesson: 0 },
    });
    return {
      relay,
      demo,
      portalUrl,
      async stop() {
        await demo.close();
        await relay.stop();
      },
    };
  } catch (e) {
    await relay.stop();
    throw e;
  }
}
