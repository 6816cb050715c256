import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Redis connection: one server, or a cluster (every script here touches keys of one slot, see the key tags). */
export type RedisClient = Redis | Cluster;

/**
 * A Lua script run with EVALSHA, falling back to EVAL (which also loads it)
 * when the server does not know it yet, after a restart or a failover.
 * Redis runs a script atomically: nothing else executes in between, which
 * is what the compare-and-set operations here rely on.
 */
export class RedisScript {
  private readonly sha1: string;

  constructor(
    private readonly redis: RedisClient,
    private readonly lua: string,
    private readonly numberOfKeys: number,
  ) {
    this.sha1 = createHash('sha1').update(lua).digest('hex');
  }

  /** Runs the script with `keys` (exactly `numberOfKeys` of them) and `args`. */
  async run(keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    if (keys.length !== this.numberOfKeys) throw new TypeError(`script takes ${this.numberOfKeys} keys, got ${keys.length}`);
    try {
      return await this.redis.evalsha(this.sha1, this.numberOfKeys, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.includes('NOSCRIPT')) throw e;
      return await this.redis.eval(this.lua, this.numberOfKeys, ...keys, ...args);
    }
  }
}
