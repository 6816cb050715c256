/**
 * Builds an SDK application server against a {@link FakeRelay} with test
 * keys, and tears everything down after each test.
 */
import { afterEach } from 'vitest';
import { createAppServer } from '../../../appserver/create-app-server.js';
import type { AppServer, AppServerOptions } from '../../../appserver/app-server.js';
import { FakeRelay, type FakeRelayOptions, type FakeRelayProtocol } from './fake-relay.js';
import { makeKey, signToken, type TestKey, type TokenInput } from './relay-keys.js';

const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

/** Runs `fn` after the current test. */
export function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

let keyPromise: Promise<TestKey> | undefined;
/** The test relay's signing key (one per test file). */
export function relayKey(): Promise<TestKey> {
  keyPromise ??= makeKey('relay-key-1');
  return keyPromise;
}

/** A token for `wineshop` (by default) signed with the test relay key. */
export async function token(input: TokenInput = {}): Promise<string> {
  return signToken(await relayKey(), input);
}

export async function fakeRelay(options: FakeRelayOptions = {}): Promise<FakeRelay> {
  const relay = await FakeRelay.start(options);
  onCleanup(() => relay.close());
  return relay;
}

/** An app server (not listening yet) for `relay` over `protocol`, with the test keys and quick timers. */
export async function appFor(relay: FakeRelay, protocol: FakeRelayProtocol = 'TCP', options: Partial<AppServerOptions> = {}): Promise<AppServer> {
  const app = createAppServer({
    relay: relay.address(protocol),
    domain: 'portal.test',
    credentials: { username: 'wineshop', password: 'wineshop-secret' },
    jwks: { keys: [(await relayKey()).publicJwk] },
    keepAliveIntervalMs: 0,
    timers: { t1: 100 },
    defaultCurrency: 'EUR',
    ...options,
  });
  onCleanup(() => app.close());
  return app;
}

/** Waits until `predicate` holds (polling every 10 ms). */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A Promise of the next `type` event of `emitter`. */
export function next<T>(emitter: { once(type: never, fn: (e: T) => void): unknown }, type: string): Promise<T> {
  return new Promise((resolve) => (emitter.once as (t: string, fn: (e: T) => void) => unknown)(type, resolve));
}
