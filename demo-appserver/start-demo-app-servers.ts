import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { AppServer, AppServerOptions } from '../appserver/app-server.js';
import { createAppServer } from '../appserver/create-app-server.js';
import { type SipLogger, noopLogger } from '../sip/util/logger.js';
import { mountBookstoreApp, BOOKSTORE_A, BOOKSTORE_B } from './bookstore-app.js';
import type { DemoAppContext } from './demo-app-context.js';
import { DEMO_APP_SERVER_ACCOUNTS, type DemoAppName } from './demo-accounts.js';
import { mountLessonApp } from './lesson-app.js';
import { mountShopApp, BEER_SHOP, WINE_SHOP } from './shop-app.js';

/**
 * Options of {@link startDemoAppServers}.
 *
 * @example
 * ```ts
 * await startDemoAppServers({ apps: ['wineshop', 'lesson'], ports: { wineshop: 0, lesson: 0 } });
 * ```
 */
export interface DemoAppServersOptions {
  /** The relay, as the SDK takes it: `sip:127.0.0.1:5060;transport=tcp` (the default) or `ws://localhost:8080/sip`. */
  relay?: string;
  /** The SIP domain. Default `portal.test`. */
  domain?: string;
  /** The relay's JWKS. Default `<relayHttpUrl>/.well-known/jwks.json`. */
  jwksUrl?: string;
  /** The relay's HTTP address, for the JWKS and the service catalogue. Default `http://127.0.0.1:8080`. */
  relayHttpUrl?: string;
  /** The portal, linked from refusal pages. Default `http://localhost:8080/`. */
  portalUrl?: string;
  /** Credentials per app; default the demo accounts (`<name>` / `<name>-secret`). */
  credentials?: Partial<Record<DemoAppName, { username: string; password: string }>>;
  /** HTTP port per app; default 8081–8085; 0 picks a free one. */
  ports?: Partial<Record<DemoAppName, number>>;
  /** Address the web apps bind to. Default `127.0.0.1`. */
  host?: string;
  /** Host name in the service URLs the browser opens. Default `localhost`. */
  publicHost?: string;
  /** Which apps to start. Default all five. */
  apps?: readonly DemoAppName[];
  /** Further SDK options for every app server (timers, keep-alive, reconnect…). */
  appServerOptions?: Partial<AppServerOptions>;
  logger?: SipLogger;
}

/**
 * One running demo app.
 *
 * @example
 * ```ts
 * const { url, appServer } = demo.apps.lesson!;
 * ```
 */
export interface RunningDemoApp {
  readonly name: DemoAppName;
  /** The public base URL of its pages: `http://localhost:8081`. */
  readonly url: string;
  readonly port: number;
  readonly appServer: AppServer;
}

/**
 * The running demo apps.
 *
 * @example
 * ```ts
 * const demo = await startDemoAppServers();
 * await demo.close();
 * ```
 */
export interface RunningDemoAppServers {
  readonly apps: Readonly<Partial<Record<DemoAppName, RunningDemoApp>>>;
  /** Ends their sessions, unregisters them and stops their web servers. */
  close(): Promise<void>;
}

type Mount = (ctx: DemoAppContext) => void;

const MOUNTS: Record<DemoAppName, Mount> = {
  wineshop: (ctx) => mountShopApp(ctx, WINE_SHOP),
  beershop: (ctx) => mountShopApp(ctx, BEER_SHOP),
  'bookstore-a': (ctx) => mountBookstoreApp(ctx, BOOKSTORE_A),
  'bookstore-b': (ctx) => mountBookstoreApp(ctx, BOOKSTORE_B),
  lesson: (ctx) => mountLessonApp(ctx),
};

/**
 * Starts the demo application servers — wine shop, beer shop, bookstores A
 * and B, video lesson — each a web app on its own HTTP port, built only on
 * the SDK, logged in to the relay with its demo account. `npm start` calls
 * it once the relay is up (the accounts of {@link DEMO_APP_SERVER_ACCOUNTS}
 * must exist in the relay's store). Resolves when every app is registered;
 * rejects (after stopping what started) if one cannot log in.
 *
 * @example
 * ```ts
 * const demo = await startDemoAppServers({ relay: 'sip:127.0.0.1:5060;transport=tcp', domain: 'portal.test',
 *   relayHttpUrl: 'http://127.0.0.1:8080', logger });
 * console.log(demo.apps.wineshop?.url); // http://localhost:8081
 * await demo.close();
 * ```
 */
export async function startDemoAppServers(options: DemoAppServersOptions = {}): Promise<RunningDemoAppServers> {
  const logger = options.logger ?? noopLogger;
  const relayHttpUrl = (options.relayHttpUrl ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const host = options.host ?? '127.0.0.1';
  const publicHost = options.publicHost ?? 'localhost';
  const names = options.apps ?? DEMO_APP_SERVER_ACCOUNTS.map((a) => a.name);
  const apps: Partial<Record<DemoAppName, RunningDemoApp>> = {};
  const servers: Server[] = [];
  const appServers: AppServer[] = [];

  const close = async (): Promise<void> => {
    await Promise.allSettled(appServers.map((a) => a.close()));
    await Promise.allSettled(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.closeAllConnections();
            s.close(() => resolve());
          }),
      ),
    );
  };

  try {
    await Promise.all(
      names.map(async (name) => {
        const account = DEMO_APP_SERVER_ACCOUNTS.find((a) => a.name === name);
        if (!account) throw new TypeError(`unknown demo app ${String(name)}`);
        const credentials = options.credentials?.[name] ?? { username: account.name, password: account.password };
        const appServer = createAppServer({
          relay: options.relay ?? 'sip:127.0.0.1:5060;transport=tcp',
          domain: options.domain ?? 'portal.test',
          credentials,
          jwksUrl: options.jwksUrl ?? `${relayHttpUrl}/.well-known/jwks.json`,
          defaultCurrency: 'EUR',
          logger,
          ...options.appServerOptions,
        });
        appServers.push(appServer);
        const web = express();
        web.disable('x-powered-by');
        let base = '';
        MOUNTS[name]({ appServer, web, publicUrl: () => base, portalUrl: options.portalUrl ?? 'http://localhost:8080/', relayHttpUrl, logger });
        // The web side first: INVITEs may come as soon as the services are registered, and their URLs must work.
        const server = await listen(web, host, options.ports?.[name] ?? account.port);
        servers.push(server);
        const port = (server.address() as AddressInfo).port;
        base = `http://${publicHost}:${port}`;
        await appServer.listen();
        apps[name] = { name, url: base, port, appServer };
        logger.info({ app: name, url: base, services: account.services }, 'demo application server up');
      }),
    );
  } catch (e) {
    await close();
    throw e;
  }
  return { apps, close };
}

function listen(web: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = web.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', reject);
  });
}
