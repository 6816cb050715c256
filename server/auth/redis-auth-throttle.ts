import {
  type AuthThrottle,
  type AuthThrottleLimits,
  type ThrottleCounts,
  type ThrottleScope,
  type ThrottleState,
  MAX_COUNTED_USERNAME_LENGTH,
  checkThrottleLimits,
  throttleState,
} from './auth-throttle.js';
import { type RedisClient, RedisScript } from './redis-script.js';

/** Options of {@link RedisAuthThrottle}. */
export interface RedisAuthThrottleOptions {
  redis: RedisClient;
  limits: AuthThrottleLimits;
  /** Prefix of every key; must not contain `{`. Default `siprelay:authfail:`. */
  keyPrefix?: string;
}

/** Reads (failures, block PTTL) for each (count key, block key) pair of KEYS. */
const CHECK = `
local out = {}
for i = 1, #KEYS, 2 do
  local ttl = redis.call('PTTL', KEYS[i + 1])
  if ttl < 0 then ttl = 0 end
  out[#out + 1] = tonumber(redis.call('GET', KEYS[i]) or '0')
  out[#out + 1] = ttl
end
return out
`;

/**
 * Counts one failure in each (count key, block key) pair of KEYS.
 * ARGV: windowMs, then blockAfter and blockMs of each pair. A counter's
 * window starts with its first failure (PEXPIRE when INCR made it 1);
 * reaching blockAfter replaces the counter with a block key that expires
 * by itself. Returns (failures, block PTTL, started 0/1) per pair.
 */
const RECORD_FAILURE = `
local out = {}
for i = 1, #KEYS, 2 do
  local j = (i + 1) / 2
  local blockAfter = tonumber(ARGV[2 * j])
  local blockMs = tonumber(ARGV[2 * j + 1])
  local ttl = redis.call('PTTL', KEYS[i + 1])
  local n = 0
  local started = 0
  if ttl > 0 then
    n = tonumber(redis.call('GET', KEYS[i]) or '0')
  else
    ttl = 0
    n = redis.call('INCR', KEYS[i])
    if n == 1 then redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
    if n >= blockAfter then
      redis.call('SET', KEYS[i + 1], '1', 'PX', blockMs)
      redis.call('DEL', KEYS[i])
      n = 0
      ttl = blockMs
      started = 1
    end
  end
  out[#out + 1] = n
  out[#out + 1] = ttl
  out[#out + 1] = started
end
return out
`;

/**
 * {@link AuthThrottle} on Redis, so that every node of a cluster counts the
 * same failures (docs/architecture.md, "Cluster"). Each operation is one
 * script, atomic on the server. Keys carry the address as a hash tag
 * (`siprelay:authfail:{198.51.100.7}:a`, `…:u:alice`, with `ab` and `ub:` for blocks), so the keys of one
 * request fall in one Redis Cluster slot; they expire by themselves (window
 * or block), so Redis holds only live counters.
 *
 * Errors (Redis unreachable) reject; the authenticator answers 503.
 */
export class RedisAuthThrottle implements AuthThrottle {
  private readonly limits: AuthThrottleLimits;
  private readonly keyPrefix: string;
  private readonly check2: RedisScript;
  private readonly check4: RedisScript;
  private readonly record2: RedisScript;
  private readonly record4: RedisScript;
  private readonly redis: RedisClient;

  constructor(options: RedisAuthThrottleOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RedisAuthThrottle: options are required');
    if (options.redis === null || typeof options.redis?.evalsha !== 'function') {
      throw new TypeError('RedisAuthThrottle: `redis` must be an ioredis client');
    }
    checkThrottleLimits(options.limits, 'RedisAuthThrottle');
    const keyPrefix = options.keyPrefix ?? 'siprelay:authfail:';
    if (typeof keyPrefix !== 'string' || keyPrefix.includes('{')) {
      throw new TypeError('RedisAuthThrottle: keyPrefix must be a string without "{" (it would change the hash tag)');
    }
    this.redis = options.redis;
    this.limits = options.limits;
    this.keyPrefix = keyPrefix;
    this.check2 = new RedisScript(options.redis, CHECK, 2);
    this.check4 = new RedisScript(options.redis, CHECK, 4);
    this.record2 = new RedisScript(options.redis, RECORD_FAILURE, 2);
    this.record4 = new RedisScript(options.redis, RECORD_FAILURE, 4);
  }

  async check(address: string, username: string | undefined): Promise<ThrottleState> {
    const keys = this.keys(address, username);
    const r = numbers(await (username === undefined ? this.check2 : this.check4).run(keys, []), keys.length);
    const counts: ThrottleCounts = {
      address: { failures: r[0], blockedForMs: r[1] },
      pair: username === undefined ? undefined : { failures: r[2], blockedForMs: r[3] },
    };
    return throttleState(this.limits, counts);
  }

  async recordFailure(address: string, username: string | undefined): Promise<ThrottleState> {
    const keys = this.keys(address, username);
    const { perAddress: a, perUserAndAddress: u } = this.limits;
    const args: number[] = [this.limits.windowSeconds * 1000, a.blockAfter, a.blockSeconds * 1000];
    if (username !== undefined) args.push(u.blockAfter, u.blockSeconds * 1000);
    const r = numbers(await (username === undefined ? this.record2 : this.record4).run(keys, args), (keys.length / 2) * 3);
    const counts: ThrottleCounts = {
      address: { failures: r[0], blockedForMs: r[1] },
      pair: username === undefined ? undefined : { failures: r[3], blockedForMs: r[4] },
    };
    let blockStarted: ThrottleScope | undefined;
    if (r[2] === 1) blockStarted = 'address';
    else if (username !== undefined && r[5] === 1) blockStarted = 'user-address';
    const state = throttleState(this.limits, counts);
    return blockStarted ? { ...state, blockStarted } : state;
  }

  async recordSuccess(address: string, username: string): Promise<void> {
    await this.redis.del(this.pairKey(address, username));
  }

  /** Count and block keys of the address, then of the pair when a username is given. */
  private keys(address: string, username: string | undefined): string[] {
    const base = `${this.keyPrefix}{${address}}:`;
    const keys = [base + 'a', base + 'ab'];
    if (username !== undefined) keys.push(this.pairKey(address, username), this.pairKey(address, username, 'ub:'));
    return keys;
  }

  /**
   * `u:` keys count, `ub:` keys block: the marker comes before the claimed
   * username, so no username (which may hold any character) can name
   * another pair's block key.
   */
  private pairKey(address: string, username: string, kind: 'u:' | 'ub:' = 'u:'): string {
    return `${this.keyPrefix}{${address}}:${kind}${username.slice(0, MAX_COUNTED_USERNAME_LENGTH)}`;
  }
}

/** The script's array reply as numbers, checked for its length. */
function numbers(reply: unknown, length: number): number[] {
  if (!Array.isArray(reply) || reply.length !== length) throw new Error(`unexpected reply from Redis: ${JSON.stringify(reply)}`);
  return reply.map((v) => Number(v));
}
