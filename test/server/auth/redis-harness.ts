import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/** The development and CI Redis; set SIPRELAY_TEST_REDIS_URL to use another. */
export const REDIS_URL = process.env.SIPRELAY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * A connection to the real Redis for one test file, with a key prefix of
 * its own; every key under the prefix is deleted afterwards.
 */
export function useRedis(): { readonly redis: Redis; readonly prefix: string } {
  const prefix = `siprelay-test:${randomBytes(6).toString('hex')}:`;
  let redis: Redis | undefined;
  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
  });
  afterAll(async () => {
    if (!redis) return;
    await deleteKeys(redis, prefix + '*');
    await redis.quit();
  });
  return {
    get redis() {
      if (!redis) throw new Error('redis not connected yet');
      return redis;
    },
    prefix,
  };
}

/** Deletes every key matching `pattern`. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** A documentation-range IPv4 address nobody else's test uses. */
export function randomAddress(): string {
  const b = randomBytes(2);
  return `10.${b[0]}.${b[1]}.${1 + (randomBytes(1)[0] % 254)}`;
}
