import { describe, expect, it } from 'vitest';
import { TimerConfig } from '../../../sip/transaction/timer-config.js';

describe('TimerConfig', () => {
  describe('with the RFC 3261 defaults', () => {
    const t = new TimerConfig();

    it('has T1 500 ms, T2 4 s, T4 5 s', () => {
      expect([t.t1, t.t2, t.t4]).toEqual([500, 4000, 5000]);
    });

    it('starts timer A at T1 and doubles it without a cap', () => {
      expect([0, 1, 2, 3, 4, 5, 6].map((n) => t.timerA(n))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 32000]);
    });

    it('sets B, F, H, L and M to 64*T1', () => {
      expect([t.timerB, t.timerF, t.timerH, t.timerL, t.timerM]).toEqual([32000, 32000, 32000, 32000, 32000]);
    });

    it('sets D to 32 s over unreliable transports and 0 over reliable ones', () => {
      expect(t.timerD(false)).toBe(32000);
      expect(t.timerD(true)).toBe(0);
    });

    it('doubles E and G from T1 and caps them at T2', () => {
      expect([0, 1, 2, 3, 4, 5].map((n) => t.timerE(n))).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
      expect([0, 1, 2, 3, 4, 5].map((n) => t.timerG(n))).toEqual([500, 1000, 2000, 4000, 4000, 4000]);
    });

    it('sets I and K to T4 over unreliable transports and 0 over reliable ones', () => {
      expect([t.timerI(false), t.timerK(false)]).toEqual([5000, 5000]);
      expect([t.timerI(true), t.timerK(true)]).toEqual([0, 0]);
    });

    it('sets J to 64*T1 over unreliable transports and 0 over reliable ones', () => {
      expect(t.timerJ(false)).toBe(32000);
      expect(t.timerJ(true)).toBe(0);
    });

    it('documents timer C above three minutes (§16.6)', () => {
      expect(t.timerC).toBeGreaterThan(180_000);
    });

    it('sends the automatic 100 Trying after 200 ms (§17.2.1)', () => {
      expect(t.autoTrying).toBe(200);
    });
  });

  describe('with a different T1', () => {
    it('derives every 64*T1 timer from it', () => {
      const t = new TimerConfig({ t1: 100, t2: 400 });
      expect([t.timerB, t.timerF, t.timerH, t.timerJ(false), t.timerL, t.timerM]).toEqual([6400, 6400, 6400, 6400, 6400, 6400]);
      expect(t.timerE(5)).toBe(400);
    });

    it('keeps timer D at least 32 s for a small T1 and at least 64*T1 for a large one', () => {
      expect(new TimerConfig({ t1: 10 }).timerD(false)).toBe(32000);
      expect(new TimerConfig({ t1: 1000, t2: 4000 }).timerD(false)).toBe(64000);
    });

    it('takes timer D and the automatic 100 Trying from options, and turns the 100 off', () => {
      expect(new TimerConfig({ timerD: 40000 }).timerD(false)).toBe(40000);
      expect(new TimerConfig({ autoTrying: false }).autoTrying).toBe(false);
      expect(new TimerConfig({ autoTrying: 0 }).autoTrying).toBe(0);
    });
  });

  describe('validation', () => {
    it.each([
      [{ t1: 0 }],
      [{ t1: -1 }],
      [{ t1: Number.NaN }],
      [{ t2: Number.POSITIVE_INFINITY }],
      [{ t4: '5000' as unknown as number }],
      [{ timerC: 0 }],
      [{ timerD: -5 }],
      [{ autoTrying: -1 }],
      [{ autoTrying: true as unknown as number }],
    ])('throws TypeError for %j', (options) => {
      expect(() => new TimerConfig(options)).toThrow(TypeError);
    });

    it('throws TypeError when T2 is below T1', () => {
      expect(() => new TimerConfig({ t1: 5000, t2: 4000 })).toThrow(/t2/);
    });
  });
});
