import { AppServer, type AppServerOptions } from './app-server.js';

/**
 * Creates an application server; call `invite()` for each service, then
 * `listen()`.
 *
 * @example
 * ```ts
 * import { createAppServer } from './appserver/index.js';
 *
 * const app = createAppServer({
 *   relay: 'ws://localhost:8080/sip',
 *   domain: 'portal.test',
 *   credentials: { username: 'wineshop', password: 'wineshop-secret' },
 *   defaultCurrency: 'EUR',
 * });
 * app.invite('wine', async (req, res) => {
 *   const session = res.accept({ url: `http://localhost:8081/?token=${req.token}`, title: 'The Wine Cellar' });
 *   session.on('ended', ({ by, reason }) => console.log('ended by', by, reason));
 * });
 * await app.listen();
 * ```
 */
export function createAppServer(options: AppServerOptions): AppServer {
  return new AppServer(options);
}
