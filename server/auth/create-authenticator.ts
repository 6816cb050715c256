import { randomBytes } from 'node:crypto';
import { MemoryNonceCountStore, type NonceCountStore } from '../../sip/auth/nonce-count-store.js';
import { DEFAULT_NONCE_FUTURE_SKEW_MS, NonceService } from '../../sip/auth/nonce-service.js';
import type { Clock } from '../../sip/util/clock.js';
import type { SipLogger } from '../../sip/util/logger.js';
import type { RelayConfig } from '../config/relay-config-schema.js';
import type { Store } from '../store/store.js';
import type { AuthThrottle } from './auth-throttle.js';
import { CredentialCache } from './credential-cache.js';
import { loadPrincipal } from './load-principal.js';
import { MemoryAuthThrottle } from './memory-auth-throttle.js';
import { RedisAuthThrottle } from './redis-auth-throttle.js';
import { RedisNonceCountStore } from './redis-nonce-count-store.js';
import type { RedisClient } from './redis-script.js';
import { type AuthOutcomeLabel, RelayAuthenticator } from './relay-authenticator.js';

/** What {@link createAuthenticator} needs besides configuration and store. */
export interface CreateAuthenticatorOptions {
  /**
   * A Redis connection shared by the cluster: nonce counts and failure
   * counters then live there, seen by every node. Without it both are in
   * this process's memory (one node).
   */
  redis?: RedisClient;
  /** How long a principal read from the store is reused. Default 30 000 ms; see {@link CredentialCache}. */
  credentialCacheTtlMs?: number;
  clock?: Clock;
  logger?: SipLogger;
  onOutcome?: (outcome: AuthOutcomeLabel) => void;
}

/** The authenticator and the parts the rest of the relay talks to. */
export interface RelayAuthentication {
  authenticator: RelayAuthenticator;
  /** Invalidate a principal after an admin change (the HTTP admin API does). */
  credentialCache: CredentialCache;
  nonceService: NonceService;
  nonceCountStore: NonceCountStore;
  throttle: AuthThrottle;
}

/**
 * Builds the relay's authenticator from the `domains` and `auth` sections
 * of the configuration: the nonce secret from `auth.nonceSecret` or 32
 * random bytes (then nonces do not survive a restart and are not valid on
 * other nodes; clients just get a new challenge), the nonce lifetime, the
 * challenge algorithms and the throttle limits.
 */
export function createAuthenticator(
  config: Pick<RelayConfig, 'domains' | 'auth'>,
  store: Pick<Store, 'db'>,
  options: CreateAuthenticatorOptions = {},
): RelayAuthentication {
  const { auth } = config;
  const lifetimeMs = auth.nonceLifetimeSeconds * 1000;
  const nonceService = new NonceService({
    secret: auth.nonceSecret ?? randomBytes(32),
    lifetimeMs,
    clock: options.clock,
  });
  // A nonce must be remembered for as long as it can be valid.
  const retentionMs = lifetimeMs + DEFAULT_NONCE_FUTURE_SKEW_MS;
  const nonceCountStore: NonceCountStore = options.redis
    ? new RedisNonceCountStore({ redis: options.redis, retentionMs })
    : new MemoryNonceCountStore({ retentionMs, clock: options.clock });
  const throttle: AuthThrottle = options.redis
    ? new RedisAuthThrottle({ redis: options.redis, limits: auth.throttle })
    : new MemoryAuthThrottle({ limits: auth.throttle, clock: options.clock });
  const credentialCache = new CredentialCache({
    load: (username, realm) => loadPrincipal(store.db, username, realm),
    ttlMs: options.credentialCacheTtlMs,
    clock: options.clock,
  });
  const authenticator = new RelayAuthenticator({
    domains: config.domains,
    realm: auth.realm,
    principals: credentialCache,
    nonceService,
    nonceCountStore,
    throttle,
    algorithms: auth.algorithms,
    repeatFirstChallenge: auth.repeatFirstChallenge,
    clock: options.clock,
    logger: options.logger,
    onOutcome: options.onOutcome,
  });
  return { authenticator, credentialCache, nonceService, nonceCountStore, throttle };
}
