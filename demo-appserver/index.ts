/**
 * The demo application servers (docs/demo.md): wine shop, beer shop,
 * bookstores A and B, and a time-billed video lesson — each a web app
 * built only on the SDK.
 *
 * @example
 * ```ts
 * import { DEMO_APP_SERVER_ACCOUNTS, startDemoAppServers } from './demo-appserver/index.js';
 * const demo = await startDemoAppServers({ relay: 'sip:127.0.0.1:5060;transport=tcp', relayHttpUrl: 'http://127.0.0.1:8080' });
 * ```
 */
export { startDemoAppServers, type DemoAppServersOptions, type RunningDemoApp, type RunningDemoAppServers } from './start-demo-app-servers.js';
export { DEMO_APP_SERVER_ACCOUNTS, type DemoAppName, type DemoAppServerAccount } from './demo-accounts.js';
