import type { Clock } from '../../sip/util/clock.js';
import type { SipLogger } from '../../sip/util/logger.js';
import type { RelayConfig } from '../config/relay-config-schema.js';
import type { Store } from '../store/store.js';
import { RelayIdentityAsserter } from './relay-identity-asserter.js';
import { relayIssuer } from './relay-issuer.js';
import { SigningKeyRing } from './signing-key-ring.js';

/** What {@link createIdentityAsserter} needs besides configuration and store. */
export interface CreateIdentityAsserterOptions {
  /** See {@link SigningKeyRing}; default 60 000 ms. */
  keyReloadIntervalMs?: number;
  clock?: Clock;
  logger?: SipLogger;
  onTokenSigned?: () => void;
}

/** The asserter and its key ring (the admin API rotates through the ring). */
export interface RelayIdentity {
  asserter: RelayIdentityAsserter;
  keyRing: SigningKeyRing;
}

/**
 * Builds the identity asserter from the `tokens`, `http` and `domains`
 * sections of the configuration, loads the active signing key (creating
 * one at first start) and starts the periodic key reload. Stop it with
 * `keyRing.stop()` at shutdown.
 */
export async function createIdentityAsserter(
  config: Pick<RelayConfig, 'tokens' | 'http' | 'domains'>,
  store: Pick<Store, 'signingKeys'>,
  options: CreateIdentityAsserterOptions = {},
): Promise<RelayIdentity> {
  const keyRing = new SigningKeyRing({
    keys: store.signingKeys,
    algorithm: config.tokens.algorithm,
    reloadIntervalMs: options.keyReloadIntervalMs,
    clock: options.clock,
    logger: options.logger,
  });
  await keyRing.load();
  keyRing.start();
  const asserter = new RelayIdentityAsserter({
    issuer: relayIssuer(config),
    keys: keyRing,
    tokenLifetimeSeconds: config.tokens.lifetimeSeconds,
    clock: options.clock,
    onTokenSigned: options.onTokenSigned,
  });
  return { asserter, keyRing };
}
