import { describe, expect, it } from 'vitest';
import { NONCE_COUNT_CONSUMED } from '../../../sip/auth/nonce-count-store.js';
import { RedisNonceCountStore } from '../../../server/auth/redis-nonce-count-store.js';
import { useRedis } from './redis-harness.js';

describe('RedisNonceCountStore (real Redis)', () => {
  const r = useRedis();
  const store = (retentionMs = 305_000) => new RedisNonceCountStore({ redis: r.redis, keyPrefix: r.prefix, retentionMs });
  let n = 0;
  const nonce = () => `nonce-${++n}-${Math.random().toString(36).slice(2)}`;

  it('accepts a new nonce, then only counts above every accepted one', async () => {
    const s = store();
    const x = nonce();
    expect(await s.checkAndRecord(x, 1)).toBe(true);
    expect(await s.checkAndRecord(x, 1)).toBe(false);
    expect(await s.checkAndRecord(x, 3)).toBe(true);
    expect(await s.checkAndRecord(x, 2)).toBe(false);
    expect(await s.checkAndRecord(x, NONCE_COUNT_CONSUMED)).toBe(true);
    expect(await s.checkAndRecord(x, 0xffffffff)).toBe(false);
  });

  it('is shared: a count accepted through one node is a replay at another', async () => {
    const x = nonce();
    expect(await store().checkAndRecord(x, 1)).toBe(true);
    expect(await store().checkAndRecord(x, 1)).toBe(false);
  });

  it('lets exactly one of many concurrent requests with the same count through', async () => {
    const x = nonce();
    const stores = [store(), store(), store()];
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => stores[i % 3].checkAndRecord(x, 7)));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('remembers a nonce for retentionMs from its first use, not from its last', async () => {
    const s = store(5_000);
    const x = nonce();
    await s.checkAndRecord(x, 1);
    const first = await r.redis.pttl(r.prefix + x);
    expect(first).toBeGreaterThan(4_000);
    expect(first).toBeLessThanOrEqual(5_000);
    await new Promise((done) => setTimeout(done, 50));
    await s.checkAndRecord(x, 2);
    expect(await r.redis.pttl(r.prefix + x)).toBeLessThan(first);
    expect(await r.redis.get(r.prefix + x)).toBe('2');
  });

  it('forgets a nonce after retentionMs', async () => {
    const s = store(100);
    const x = nonce();
    await s.checkAndRecord(x, 5);
    await new Promise((done) => setTimeout(done, 200));
    expect(await s.checkAndRecord(x, 1)).toBe(true);
  });

  it('loads its script again after the server forgot it (SCRIPT FLUSH, restart)', async () => {
    const s = store();
    const x = nonce();
    await s.checkAndRecord(x, 1);
    await r.redis.script('FLUSH');
    expect(await s.checkAndRecord(x, 2)).toBe(true);
    expect(await s.checkAndRecord(x, 2)).toBe(false);
  });

  it('throws TypeError for a count out of range and for bad options', async () => {
    await expect(store().checkAndRecord(nonce(), -1)).rejects.toThrow(TypeError);
    expect(() => new RedisNonceCountStore({ redis: {} as never })).toThrow(TypeError);
    expect(() => new RedisNonceCountStore({ redis: r.redis, retentionMs: 0 })).toThrow(TypeError);
  });
});
