import { NONCE_COUNT_CONSUMED, type NonceCountStore } from '../../sip/auth/nonce-count-store.js';
import { DEFAULT_NONCE_FUTURE_SKEW_MS, DEFAULT_NONCE_LIFETIME_MS } from '../../sip/auth/nonce-service.js';
import { type RedisClient, RedisScript } from './redis-script.js';

/** Options of {@link RedisNonceCountStore}. */
export interface RedisNonceCountStoreOptions {
  redis: RedisClient;
  /**
   * How long a nonce's count is kept after its first use: the key's TTL.
   * It must cover the whole time the nonce can be valid, the NonceService's
   * `lifetimeMs` plus `maxFutureSkewMs`. Default 305 000 ms.
   */
  retentionMs?: number;
  /** Prefix of every key. Default `siprelay:nc:`. */
  keyPrefix?: string;
}

/**
 * Compare-and-set in one script, so two nodes racing with the same count
 * cannot both win (RFC 7616 §3.4, §5.5). An existing key keeps its TTL
 * (KEEPTTL, Redis 6.0 or later): a nonce is remembered from its first use.
 */
const CHECK_AND_RECORD = `
local current = redis.call('GET', KEYS[1])
if current then
  if tonumber(current) >= tonumber(ARGV[1]) then return 0 end
  redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
  return 1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * The {@link NonceCountStore} of a relay cluster: every node sees the
 * counts every other node accepted, so a request captured at one node
 * cannot be replayed at another while its nonce lives. One key per nonce
 * (`siprelay:nc:<nonce>`, about 120 bytes in Redis), expiring
 * `retentionMs` after the nonce's first use.
 *
 * Errors (Redis unreachable) reject the Promise; the verifier passes them
 * on and the authenticator answers 503 rather than accept unchecked counts.
 */
export class RedisNonceCountStore implements NonceCountStore {
  readonly retentionMs: number;
  private readonly keyPrefix: string;
  private readonly script: RedisScript;

  constructor(options: RedisNonceCountStoreOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RedisNonceCountStore: options are required');
    if (options.redis === null || typeof options.redis?.evalsha !== 'function') {
      throw new TypeError('RedisNonceCountStore: `redis` must be an ioredis client');
    }
    const retentionMs = options.retentionMs ?? DEFAULT_NONCE_LIFETIME_MS + DEFAULT_NONCE_FUTURE_SKEW_MS;
    if (!Number.isInteger(retentionMs) || retentionMs < 1) {
      throw new TypeError(`RedisNonceCountStore: retentionMs must be a positive integer, got ${String(retentionMs)}`);
    }
    const keyPrefix = options.keyPrefix ?? 'siprelay:nc:';
    if (typeof keyPrefix !== 'string') throw new TypeError('RedisNonceCountStore: keyPrefix must be a string');
    this.retentionMs = retentionMs;
    this.keyPrefix = keyPrefix;
    this.script = new RedisScript(options.redis, CHECK_AND_RECORD, 1);
  }

  async checkAndRecord(nonce: string, nc: number): Promise<boolean> {
    if (!Number.isInteger(nc) || nc < 0 || nc > NONCE_COUNT_CONSUMED) {
      throw new TypeError(`nonce count out of range: ${String(nc)}`);
    }
    const result = await this.script.run([this.keyPrefix + nonce], [nc, this.retentionMs]);
    return Number(result) === 1;
  }
}
