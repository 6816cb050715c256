import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../sip/util/clock.js';
import type { AuthThrottleLimits } from '../../../server/auth/auth-throttle.js';
import { MemoryAuthThrottle } from '../../../server/auth/memory-auth-throttle.js';

const LIMITS: AuthThrottleLimits = {
  windowSeconds: 60,
  perUserAndAddress: { slowAfter: 2, slowDelayMs: 1000, blockAfter: 3, blockSeconds: 30 },
  perAddress: { slowAfter: 4, slowDelayMs: 250, blockAfter: 6, blockSeconds: 90 },
};

function throttle(options: { maxEntries?: number } = {}) {
  const clock = new ManualClock();
  return { clock, throttle: new MemoryAuthThrottle({ limits: LIMITS, clock, ...options }) };
}

describe('MemoryAuthThrottle', () => {
  it('starts with nothing counted', () => {
    const { throttle: t } = throttle();
    expect(t.check('198.51.100.7', 'alice')).toEqual({ blockedForMs: 0, blockedScope: undefined, delayMs: 0 });
  });

  describe('per username and address', () => {
    it('delays after slowAfter failures and blocks at blockAfter, for blockSeconds', () => {
      const { clock, throttle: t } = throttle();
      t.recordFailure('198.51.100.7', 'alice');
      expect(t.check('198.51.100.7', 'alice').delayMs).toBe(0);
      t.recordFailure('198.51.100.7', 'alice');
      expect(t.check('198.51.100.7', 'alice')).toEqual({ blockedForMs: 0, blockedScope: undefined, delayMs: 1000 });
      const third = t.recordFailure('198.51.100.7', 'alice');
      expect(third).toMatchObject({ blockStarted: 'user-address', blockedForMs: 30_000, blockedScope: 'user-address' });
      clock.advance(29_999);
      expect(t.check('198.51.100.7', 'alice')).toMatchObject({ blockedForMs: 1, blockedScope: 'user-address' });
      clock.advance(1);
      // After the block the pair starts from nothing.
      expect(t.check('198.51.100.7', 'alice')).toEqual({ blockedForMs: 0, blockedScope: undefined, delayMs: 0 });
    });

    it('keeps pairs apart: the same user from another address, another user from the same address', () => {
      const { throttle: t } = throttle();
      for (let i = 0; i < 3; i++) t.recordFailure('203.0.113.66', 'alice');
      expect(t.check('203.0.113.66', 'alice').blockedScope).toBe('user-address');
      expect(t.check('198.51.100.7', 'alice').blockedForMs).toBe(0);
      expect(t.check('203.0.113.66', 'bob').blockedForMs).toBe(0);
    });

    it('a success forgets the pair, not the address', () => {
      const { throttle: t } = throttle();
      for (let i = 0; i < 2; i++) t.recordFailure('198.51.100.7', 'alice');
      for (let i = 0; i < 2; i++) t.recordFailure('198.51.100.7', 'bob');
      t.recordSuccess('198.51.100.7', 'alice');
      expect(t.check('198.51.100.7', 'alice').delayMs).toBe(250); // the address has 4 failures
      expect(t.check('198.51.100.7', 'bob').delayMs).toBe(1000);
    });

    it('forgets failures when the window ends', () => {
      const { clock, throttle: t } = throttle();
      for (let i = 0; i < 2; i++) t.recordFailure('198.51.100.7', 'alice');
      clock.advance(60_000);
      expect(t.check('198.51.100.7', 'alice').delayMs).toBe(0);
      expect(t.recordFailure('198.51.100.7', 'alice').blockStarted).toBeUndefined();
    });
  });

  describe('per address', () => {
    it('counts failures of every username, and a block refuses requests without a username too', () => {
      const { throttle: t } = throttle();
      for (let i = 0; i < 5; i++) expect(t.recordFailure('203.0.113.66', `user${i}`).blockStarted).toBeUndefined();
      expect(t.check('203.0.113.66', undefined).delayMs).toBe(250);
      expect(t.recordFailure('203.0.113.66', 'user5')).toMatchObject({ blockStarted: 'address', blockedForMs: 90_000 });
      expect(t.check('203.0.113.66', undefined)).toMatchObject({ blockedScope: 'address', blockedForMs: 90_000 });
      expect(t.check('203.0.113.66', 'newcomer').blockedScope).toBe('address');
      expect(t.check('198.51.100.7', undefined).blockedForMs).toBe(0);
    });

    it('counts failures without a username against the address only', () => {
      const { throttle: t } = throttle();
      for (let i = 0; i < 4; i++) t.recordFailure('203.0.113.66', undefined);
      expect(t.check('203.0.113.66', 'alice').delayMs).toBe(250);
    });
  });

  describe('memory bound', () => {
    it('holds at most maxEntries counters, dropping expired ones first, then the oldest', () => {
      const { clock, throttle: t } = throttle({ maxEntries: 4 });
      t.recordFailure('192.0.2.1', undefined);
      clock.advance(60_000);
      t.recordFailure('192.0.2.2', undefined);
      t.recordFailure('192.0.2.3', undefined);
      t.recordFailure('192.0.2.4', undefined);
      t.recordFailure('192.0.2.5', undefined); // room made by the expired 192.0.2.1
      expect(t.size).toBe(4);
      expect(t.evictions).toBe(0);
      t.recordFailure('192.0.2.6', undefined); // evicts 192.0.2.2, the oldest
      expect(t.size).toBe(4);
      expect(t.evictions).toBe(1);
    });

    it('throws TypeError for bad limits', () => {
      expect(() => new MemoryAuthThrottle({ limits: { ...LIMITS, windowSeconds: 0 } })).toThrow(TypeError);
      expect(
        () => new MemoryAuthThrottle({ limits: { ...LIMITS, perAddress: { ...LIMITS.perAddress, slowAfter: 9 } } }),
      ).toThrow(/slowAfter must not exceed blockAfter/);
      expect(() => new MemoryAuthThrottle({ limits: LIMITS, maxEntries: 1 })).toThrow(TypeError);
    });
  });
});
