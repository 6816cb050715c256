/**
 * The five demo application servers.
 *
 * @example
 * ```ts
 * const name: DemoAppName = 'bookstore-a';
 * ```
 */
export type DemoAppName = 'wineshop' | 'beershop' | 'bookstore-a' | 'bookstore-b' | 'lesson';

/**
 * One demo application-server account: what the demo start-up creates in
 * the relay's store (`siprelay appserver add <name>` and `siprelay
 * appserver service add <name> <service>`) before the demo apps log in.
 *
 * @example
 * ```ts
 * const wine: DemoAppServerAccount = DEMO_APP_SERVER_ACCOUNTS[0]; // wineshop, services ['wine']
 * ```
 */
export interface DemoAppServerAccount {
  /** Account name: the SIP username the app logs in with, and its tokens' audience. */
  readonly name: DemoAppName;
  /** Demo password: `<name>-secret`. */
  readonly password: string;
  readonly displayName: string;
  /** Services the account provides (each registered as `sip:<service>@<domain>`). */
  readonly services: readonly string[];
  /** Share in `balance` mode. */
  readonly weight: number;
  /** Default HTTP port of its web app. */
  readonly port: number;
}

/**
 * The demo's application-server accounts, one per app. The relay's demo
 * start-up creates them; {@link startDemoAppServers} logs in with them.
 *
 * @example
 * ```ts
 * for (const a of DEMO_APP_SERVER_ACCOUNTS) {
 *   await store.appServers.add({ name: a.name, domain: 'portal.test', password: a.password, displayName: a.displayName });
 *   for (const s of a.services) await store.appServers.attachService(a.name, s, { weight: a.weight });
 * }
 * ```
 */
export const DEMO_APP_SERVER_ACCOUNTS: readonly DemoAppServerAccount[] = Object.freeze([
  { name: 'wineshop', password: 'wineshop-secret', displayName: 'The Wine Cellar', services: ['wine'], weight: 1, port: 8081 },
  { name: 'beershop', password: 'beershop-secret', displayName: 'The Tap Room', services: ['beer'], weight: 1, port: 8082 },
  { name: 'bookstore-a', password: 'bookstore-a-secret', displayName: 'Alder Books', services: ['bookstore'], weight: 1, port: 8083 },
  { name: 'bookstore-b', password: 'bookstore-b-secret', displayName: 'Birch & Quill', services: ['bookstore'], weight: 1, port: 8084 },
  { name: 'lesson', password: 'lesson-secret', displayName: 'Tasting School', services: ['lesson'], weight: 1, port: 8085 },
] as const);
