import { describe, expect, it } from 'vitest';
import type { AuthThrottleLimits } from '../../../server/auth/auth-throttle.js';
import { RedisAuthThrottle } from '../../../server/auth/redis-auth-throttle.js';
import { randomAddress, useRedis } from './redis-harness.js';

const LIMITS: AuthThrottleLimits = {
  windowSeconds: 60,
  perUserAndAddress: { slowAfter: 2, slowDelayMs: 1000, blockAfter: 3, blockSeconds: 1 },
  perAddress: { slowAfter: 4, slowDelayMs: 250, blockAfter: 6, blockSeconds: 60 },
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

describe('RedisAuthThrottle (real Redis)', () => {
  const r = useRedis();
  const throttle = (limits = LIMITS) => new RedisAuthThrottle({ redis: r.redis, limits, keyPrefix: r.prefix });

  it('delays after slowAfter failures and blocks the pair at blockAfter, until blockSeconds pass', async () => {
    const t = throttle();
    const address = randomAddress();
    expect(await t.check(address, 'alice')).toEqual({ blockedForMs: 0, blockedScope: undefined, delayMs: 0 });
    await t.recordFailure(address, 'alice');
    await t.recordFailure(address, 'alice');
    expect(await t.check(address, 'alice')).toEqual({ blockedForMs: 0, blockedScope: undefined, delayMs: 1000 });
    const third = await t.recordFailure(address, 'alice');
    expect(third).toMatchObject({ blockStarted: 'user-address', blockedScope: 'user-address' });
    expect(third.blockedForMs).toBe(1000);
    const during = await t.check(address, 'alice');
    expect(during.blockedScope).toBe('user-address');
    expect(during.blockedForMs).toBeGreaterThan(0);
    await sleep(1100);
    expect(await t.check(address, 'alice')).toEqual({ blockedForMs: 0, blockedScope: undefined, delayMs: 0 });
  });

  it('is shared by every node: failures counted at two nodes add up', async () => {
    const address = randomAddress();
    const [a, b] = [throttle(), throttle()];
    await a.recordFailure(address, 'alice');
    await b.recordFailure(address, 'alice');
    expect((await a.recordFailure(address, 'alice')).blockStarted).toBe('user-address');
    expect((await b.check(address, 'alice')).blockedScope).toBe('user-address');
  });

  it('keeps pairs apart, and a success forgets the pair only', async () => {
    const t = throttle();
    const attacker = randomAddress();
    for (let i = 0; i < 3; i++) await t.recordFailure(attacker, 'alice');
    expect((await t.check(attacker, 'alice')).blockedScope).toBe('user-address');
    expect((await t.check(randomAddress(), 'alice')).blockedForMs).toBe(0);
    expect((await t.check(attacker, 'bob')).blockedForMs).toBe(0);

    const home = randomAddress();
    await t.recordFailure(home, 'carol');
    await t.recordFailure(home, 'carol');
    await t.recordFailure(home, 'dave');
    await t.recordFailure(home, 'dave');
    await t.recordSuccess(home, 'carol');
    expect((await t.check(home, 'carol')).delayMs).toBe(250); // 4 failures of the address remain
    expect((await t.check(home, 'dave')).delayMs).toBe(1000);
  });

  it('blocks an address failing with many usernames, and then refuses it whatever the username', async () => {
    const t = throttle();
    const address = randomAddress();
    for (let i = 0; i < 5; i++) expect((await t.recordFailure(address, `u${i}`)).blockStarted).toBeUndefined();
    const sixth = await t.recordFailure(address, 'u5');
    expect(sixth).toMatchObject({ blockStarted: 'address', blockedScope: 'address', blockedForMs: 60_000 });
    expect((await t.check(address, undefined)).blockedScope).toBe('address');
    expect((await t.check(address, 'someone-else')).blockedScope).toBe('address');
    const ttl = await r.redis.pttl(`${r.prefix}{${address}}:ab`);
    expect(ttl).toBeGreaterThan(59_000);
  });

  it('forgets failures when the window ends (keys expire by themselves)', async () => {
    const t = throttle({ ...LIMITS, windowSeconds: 1 });
    const address = randomAddress();
    await t.recordFailure(address, 'alice');
    await t.recordFailure(address, 'alice');
    expect(await r.redis.pttl(`${r.prefix}{${address}}:u:alice`)).toBeLessThanOrEqual(1000);
    await sleep(1100);
    expect((await t.check(address, 'alice')).delayMs).toBe(0);
    expect(await r.redis.exists(`${r.prefix}{${address}}:u:alice`, `${r.prefix}{${address}}:a`)).toBe(0);
  });

  it('a username cannot reach another pair\'s block key', async () => {
    const t = throttle({ ...LIMITS, perAddress: { ...LIMITS.perAddress, slowAfter: 50, blockAfter: 100 } });
    const address = randomAddress();
    for (let i = 0; i < 3; i++) await t.recordFailure(address, 'alice:block');
    for (let i = 0; i < 3; i++) await t.recordFailure(address, 'b:alice');
    expect((await t.check(address, 'alice')).blockedForMs).toBe(0);
  });

  it('throws TypeError for bad options', () => {
    expect(() => new RedisAuthThrottle({ redis: r.redis, limits: LIMITS, keyPrefix: 'x{' })).toThrow(TypeError);
    expect(() => new RedisAuthThrottle({ redis: r.redis, limits: { ...LIMITS, windowSeconds: 0 } })).toThrow(TypeError);
  });
});
