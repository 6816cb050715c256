import { describe, expect, it } from 'vitest';
import { MemoryNonceCountStore, NONCE_COUNT_CONSUMED } from '../../../sip/auth/nonce-count-store.js';
import { ManualClock } from '../../../sip/util/clock.js';

describe('Memory nonce-count store', () => {
  describe('for one nonce', () => {
    it('accepts a first count, then only greater ones', () => {
      const store = new MemoryNonceCountStore({ clock: new ManualClock() });
      expect(store.checkAndRecord('n1', 1)).toBe(true);
      expect(store.checkAndRecord('n1', 1)).toBe(false);
      expect(store.checkAndRecord('n1', 3)).toBe(true);
      expect(store.checkAndRecord('n1', 2)).toBe(false);
      expect(store.checkAndRecord('n1', 4)).toBe(true);
    });

    it('keeps nonces apart', () => {
      const store = new MemoryNonceCountStore({ clock: new ManualClock() });
      expect(store.checkAndRecord('n1', 1)).toBe(true);
      expect(store.checkAndRecord('n2', 1)).toBe(true);
    });

    it('refuses every later use once a nonce is consumed by a response without qop', () => {
      const store = new MemoryNonceCountStore({ clock: new ManualClock() });
      expect(store.checkAndRecord('n1', NONCE_COUNT_CONSUMED)).toBe(true);
      expect(store.checkAndRecord('n1', NONCE_COUNT_CONSUMED)).toBe(false);
      expect(store.checkAndRecord('n1', 0xffffffff)).toBe(false);
    });

    it('throws TypeError for a count that is not an integer in range', () => {
      const store = new MemoryNonceCountStore();
      expect(() => store.checkAndRecord('n', -1)).toThrow(TypeError);
      expect(() => store.checkAndRecord('n', 1.5)).toThrow(TypeError);
      expect(() => store.checkAndRecord('n', NONCE_COUNT_CONSUMED + 1)).toThrow(TypeError);
    });
  });

  describe('bounds', () => {
    it('forgets a nonce retentionMs after its first use', () => {
      const clock = new ManualClock();
      const store = new MemoryNonceCountStore({ clock, retentionMs: 1_000 });
      store.checkAndRecord('n1', 5);
      clock.advance(999);
      expect(store.checkAndRecord('n1', 5)).toBe(false);
      clock.advance(1);
      expect(store.checkAndRecord('n1', 5)).toBe(true);
    });

    it('drops expired entries as it goes, so its size follows the traffic', () => {
      const clock = new ManualClock();
      const store = new MemoryNonceCountStore({ clock, retentionMs: 1_000 });
      for (let i = 0; i < 100; i++) {
        store.checkAndRecord('n' + i, 1);
        clock.advance(100);
      }
      expect(store.size).toBeLessThanOrEqual(10);
    });

    it('keeps expiring in first-use order across thousands of nonces', () => {
      const clock = new ManualClock();
      const store = new MemoryNonceCountStore({ clock, retentionMs: 1_000 });
      for (let i = 0; i < 5000; i++) {
        store.checkAndRecord('n' + i, 1);
        clock.advance(1);
      }
      // Nonces first used in the last 1000 ms are remembered; older ones are not.
      expect(store.size).toBe(1000);
      expect(store.checkAndRecord('n4999', 1)).toBe(false);
      expect(store.checkAndRecord('n4001', 1)).toBe(false);
      expect(store.checkAndRecord('n3999', 1)).toBe(true);
    });

    it('holds at most maxEntries, evicting the oldest and counting it', () => {
      const store = new MemoryNonceCountStore({ clock: new ManualClock(), maxEntries: 3 });
      for (const n of ['a', 'b', 'c', 'd']) store.checkAndRecord(n, 1);
      expect(store.size).toBe(3);
      expect(store.evictions).toBe(1);
      expect(store.checkAndRecord('a', 1)).toBe(true); // forgotten
      expect(store.checkAndRecord('d', 1)).toBe(false); // still known
    });

    it('stays at maxEntries under a steady stream of new nonces', () => {
      const store = new MemoryNonceCountStore({ clock: new ManualClock(), maxEntries: 100 });
      for (let i = 0; i < 10_000; i++) store.checkAndRecord('n' + i, 1);
      expect(store.size).toBe(100);
      expect(store.evictions).toBe(9_900);
      expect(store.checkAndRecord('n9999', 1)).toBe(false);
      expect(store.checkAndRecord('n9899', 1)).toBe(true);
    });

    it('defaults to 500 000 entries kept for 305 s (nonce lifetime plus clock skew)', () => {
      const store = new MemoryNonceCountStore();
      expect(store.maxEntries).toBe(500_000);
      expect(store.retentionMs).toBe(305_000);
    });

    it.each([
      ['maxEntries 0', { maxEntries: 0 }],
      ['maxEntries 1.5', { maxEntries: 1.5 }],
      ['retentionMs 0', { retentionMs: 0 }],
      ['retentionMs NaN', { retentionMs: NaN }],
    ])('throws TypeError for %s', (_name, options) => {
      expect(() => new MemoryNonceCountStore(options)).toThrow(TypeError);
    });
  });
});
