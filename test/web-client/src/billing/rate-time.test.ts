import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rateSession } from '../../../../server/billing/rating.js';
import { parseTariff } from '../../../../server/billing/tariff.js';
import { rateTime } from '../../../../web-client/src/billing/rate-time.js';
import type { TimeTariff } from '../../../../web-client/src/billing/time-tariff.js';

const tariff = (t: Partial<TimeTariff> & { pricePerMinute: number }): TimeTariff => ({
  id: 't',
  currency: 'EUR',
  setupFee: 0,
  increments: { first: 1, next: 1 },
  minimumBillableSeconds: 0,
  freeSeconds: 0,
  ...t,
});

describe('the running time charge (rateTime)', () => {
  describe('the worked examples of docs/billing.md at 1.20 EUR/min', () => {
    const perMinute = tariff({ pricePerMinute: 120, increments: { first: 60, next: 60 } });
    it.each([
      [61_000, 240],
      [60_000, 120],
      [60_001, 240],
      [1, 120],
      [0, 0],
    ])('60/60 increments: %i ms costs %i cents', (ms, cents) => {
      expect(rateTime(perMinute, ms).total).toBe(cents);
    });
    it('adds the setup fee and bills the minimum for a session of 0 ms', () => {
      expect(rateTime(tariff({ pricePerMinute: 120, setupFee: 50, minimumBillableSeconds: 60, increments: { first: 60, next: 60 } }), 0).total).toBe(170);
    });
    it('rounds half-up once: 30 s at 0.01 EUR/min is one cent, 29 s is none', () => {
      expect(rateTime(tariff({ pricePerMinute: 1 }), 30_000).total).toBe(1);
      expect(rateTime(tariff({ pricePerMinute: 1 }), 29_000).total).toBe(0);
    });
    it('charges nothing during the free time and a whole increment one moment after it', () => {
      const t = tariff({ pricePerMinute: 120, freeSeconds: 30, increments: { first: 60, next: 60 } });
      expect(rateTime(t, 30_000).total).toBe(0);
      expect(rateTime(t, 30_000).freeLeftMs).toBe(0);
      expect(rateTime(t, 31_000).total).toBe(120);
      expect(rateTime(t, 91_000).total).toBe(240);
    });
    it('says when the charge next goes up: the end of the free time, then each increment boundary', () => {
      const t = tariff({ pricePerMinute: 120, freeSeconds: 30, increments: { first: 60, next: 60 } });
      expect(rateTime(t, 10_000).nextStepInMs).toBe(20_000);
      expect(rateTime(t, 31_000).nextStepInMs).toBe(59_000);
    });
  });

  it('agrees with the relay’s rating of a one-segment session, for any tariff and duration (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.record({
          currency: fc.constantFrom('EUR', 'JPY', 'KWD'),
          setupFee: fc.integer({ min: 0, max: 10_000 }),
          pricePerMinute: fc.integer({ min: 0, max: 100_000 }),
          first: fc.integer({ min: 1, max: 600 }),
          next: fc.integer({ min: 1, max: 600 }),
          minimumBillableSeconds: fc.integer({ min: 0, max: 600 }),
          freeSeconds: fc.integer({ min: 0, max: 600 }),
        }),
        fc.integer({ min: 0, max: 3 * 3600_000 }),
        (t, ms) => {
          const relay = parseTariff({ id: 'x', currency: t.currency, setupFee: t.setupFee, pricePerMinute: t.pricePerMinute, increments: { first: t.first, next: t.next }, minimumBillableSeconds: t.minimumBillableSeconds, freeSeconds: t.freeSeconds });
          const rated = rateSession(relay, [{ service: 's', startMs: 0, endMs: ms }]);
          const running = rateTime({ ...relay, increments: { ...relay.increments } }, ms);
          expect(running.total).toBe(rated.total.amount);
          expect(running.billableSeconds).toBe(rated.billableSeconds);
          expect(running.timeCharge).toBe(rated.timeCharge.amount);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
