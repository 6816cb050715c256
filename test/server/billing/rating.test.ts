import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBillingError } from '../../../server/billing/billing-error.js';
import { rateSession, type SessionSegment } from '../../../server/billing/rating.js';
import { divideRoundHalfUp } from '../../../server/billing/safe-integer.js';
import { parseTariff, type Tariff, type TariffInput } from '../../../server/billing/tariff.js';

const tariff = (t: Partial<TariffInput>): Tariff =>
  parseTariff({ id: 't', currency: 'EUR', pricePerMinute: 120, ...t });

/** One segment from 0 to `ms`. */
const lasting = (ms: number): SessionSegment[] => [{ service: 'lesson', startMs: 0, endMs: ms }];

const costOf = (t: Tariff, ms: number) => rateSession(t, lasting(ms)).total.amount;

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isBillingError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('rating a session', () => {
  describe('with 1.20 EUR/min in 60/60 increments', () => {
    const perMinute = tariff({ increments: { first: 60, next: 60 } });

    it('a 61 s session costs 2.40 EUR (two started minutes)', () => {
      const r = rateSession(perMinute, lasting(61_000));
      expect(r.total).toEqual({ amount: 240, currency: 'EUR' });
      expect(r.billableSeconds).toBe(120);
    });

    it('a session of exactly 60 s costs 1.20 EUR: reaching an increment boundary does not start the next', () => {
      expect(costOf(perMinute, 60_000)).toBe(120);
    });

    it('one millisecond past the minute starts the next increment', () => {
      expect(costOf(perMinute, 60_001)).toBe(240);
    });

    it('a session of 1 ms costs the first increment', () => {
      expect(costOf(perMinute, 1)).toBe(120);
    });

    it('an established session of 0 ms costs nothing when there is no setup fee and no minimum', () => {
      const r = rateSession(perMinute, lasting(0));
      expect(r.total).toEqual({ amount: 0, currency: 'EUR' });
      expect(r.billableSeconds).toBe(0);
    });
  });

  describe('setup fee and minimum billable time', () => {
    it('an established session of 0 ms is charged the setup fee and the minimum', () => {
      const t = tariff({ setupFee: 50, minimumBillableSeconds: 60, increments: { first: 60, next: 60 } });
      const r = rateSession(t, lasting(0));
      expect(r.setupFee.amount).toBe(50);
      expect(r.timeCharge.amount).toBe(120);
      expect(r.total.amount).toBe(170);
      expect(r.minimumApplied).toBe(true);
    });

    it('the minimum is itself rounded up to the increments (45 s minimum, 60/60 → 60 s)', () => {
      const t = tariff({ minimumBillableSeconds: 45, increments: { first: 60, next: 60 } });
      expect(rateSession(t, lasting(10_000)).billableSeconds).toBe(60);
    });

    it('a session longer than the minimum is billed for its own time', () => {
      const t = tariff({ minimumBillableSeconds: 60, increments: { first: 1, next: 1 } });
      const r = rateSession(t, lasting(90_000));
      expect(r.billableSeconds).toBe(90);
      expect(r.minimumApplied).toBe(false);
    });
  });

  describe('increments', () => {
    it('30/6: a 61 s session bills 30 s + 6 × 6 s = 66 s, 1.32 EUR at 1.20 EUR/min', () => {
      const t = tariff({ increments: { first: 30, next: 6 } });
      const r = rateSession(t, lasting(61_000));
      expect(r.billableSeconds).toBe(66);
      expect(r.total.amount).toBe(132);
    });

    it('30/6: a 29 s session bills the first 30 s, 0.60 EUR', () => {
      const t = tariff({ increments: { first: 30, next: 6 } });
      expect(rateSession(t, lasting(29_000)).billableSeconds).toBe(30);
      expect(costOf(t, 29_000)).toBe(60);
    });

    it('1/1: a 61.2 s session bills 62 s', () => {
      const t = tariff({ increments: { first: 1, next: 1 } });
      expect(rateSession(t, lasting(61_200)).billableSeconds).toBe(62);
    });

    it('the default increments are per second (1/1)', () => {
      const t = parseTariff({ id: 'd', currency: 'EUR', pricePerMinute: 60 });
      expect(t.increments).toEqual({ first: 1, next: 1 });
      expect(costOf(t, 2_500)).toBe(3);
    });
  });

  describe('rounding of the amount (half-up, once per session)', () => {
    it('1/1 at 1.00 EUR/min: 61 s is 101.67 cents, billed 1.02 EUR', () => {
      expect(costOf(tariff({ pricePerMinute: 100 }), 61_000)).toBe(102);
    });

    it('at 0.01 EUR/min, 30 s is exactly half a cent and rounds up to 0.01 EUR', () => {
      expect(costOf(tariff({ pricePerMinute: 1 }), 30_000)).toBe(1);
    });

    it('at 0.01 EUR/min, 29 s is 0.48 of a cent and rounds down to 0', () => {
      expect(costOf(tariff({ pricePerMinute: 1 }), 29_000)).toBe(0);
    });

    it('in JPY (no minor unit): 45 s at ¥10/min is ¥7.5, billed ¥8', () => {
      const t = parseTariff({ id: 'jp', currency: 'JPY', pricePerMinute: 10 });
      expect(rateSession(t, lasting(45_000)).total).toEqual({ amount: 8, currency: 'JPY' });
    });

    it('in KWD (three decimals): 20 s at 0.150 KWD/min is 0.050 KWD', () => {
      const t = parseTariff({ id: 'kw', currency: 'KWD', pricePerMinute: 150 });
      expect(rateSession(t, lasting(20_000)).total).toEqual({ amount: 50, currency: 'KWD' });
    });
  });

  describe('free time', () => {
    const t = tariff({ freeSeconds: 30, increments: { first: 60, next: 60 } });

    it('a session within the free time costs nothing', () => {
      expect(costOf(t, 30_000)).toBe(0);
    });

    it('increments start where the free time ends: 31 s bills one minute', () => {
      const r = rateSession(t, lasting(31_000));
      expect(r.freeMs).toBe(30_000);
      expect(r.billableSeconds).toBe(60);
      expect(r.total.amount).toBe(120);
    });

    it('90 s bills one minute, 91 s two', () => {
      expect(costOf(t, 90_000)).toBe(120);
      expect(costOf(t, 91_000)).toBe(240);
    });

    it('does not waive the setup fee', () => {
      const withFee = tariff({ freeSeconds: 30, setupFee: 25 });
      expect(costOf(withFee, 10_000)).toBe(25);
    });

    it('does not waive the minimum: the minimum counts after the free time', () => {
      const m = tariff({ freeSeconds: 30, minimumBillableSeconds: 60, pricePerMinute: 60 });
      expect(rateSession(m, lasting(10_000)).billableSeconds).toBe(60);
      expect(rateSession(m, lasting(100_000)).billableSeconds).toBe(70);
    });
  });

  describe('a session of several segments (change of service by re-INVITE or UPDATE)', () => {
    const tariffs: Record<string, Tariff> = {
      wine: parseTariff({ id: 'wine', currency: 'EUR', pricePerMinute: 60, increments: { first: 60, next: 60 }, setupFee: 10, freeSeconds: 0 }),
      beer: parseTariff({ id: 'beer', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 }, setupFee: 99 }),
      dollars: parseTariff({ id: 'usd', currency: 'USD', pricePerMinute: 100 }),
    };
    const lookup = (s: string) => tariffs[s];

    it('prices each increment at the tariff of the segment it starts in', () => {
      // Increments [0,60) and [60,120) start in wine, [120,180) and [180,240) in beer.
      const r = rateSession(lookup, [
        { service: 'wine', startMs: 0, endMs: 90_000 },
        { service: 'beer', startMs: 90_000, endMs: 200_000 },
      ]);
      expect(r.segments.map((s) => [s.tariffId, s.billableSeconds, s.amount.amount])).toEqual([
        ['wine', 120, 120],
        ['beer', 120, 240],
      ]);
      expect(r.timeCharge.amount).toBe(360);
    });

    it('a change inside an increment does not start a new increment', () => {
      const r = rateSession(lookup, [
        { service: 'wine', startMs: 0, endMs: 10_000 },
        { service: 'beer', startMs: 10_000, endMs: 70_000 },
      ]);
      expect(r.billableSeconds).toBe(120);
      expect(r.segments.map((s) => s.billableSeconds)).toEqual([60, 60]);
    });

    it('takes the setup fee, free time and minimum once, from the first segment', () => {
      const r = rateSession(lookup, [
        { service: 'wine', startMs: 0, endMs: 60_000 },
        { service: 'beer', startMs: 60_000, endMs: 120_000 },
      ]);
      expect(r.tariffId).toBe('wine');
      expect(r.setupFee.amount).toBe(10);
      expect(r.total.amount).toBe(10 + 60 + 120);
    });

    it('uses the free time first, across segments', () => {
      const free: Record<string, Tariff> = {
        a: parseTariff({ id: 'a', currency: 'EUR', pricePerMinute: 60, freeSeconds: 120, increments: { first: 60, next: 60 } }),
        b: parseTariff({ id: 'b', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } }),
      };
      const r = rateSession((s) => free[s], [
        { service: 'a', startMs: 0, endMs: 90_000 },
        { service: 'b', startMs: 90_000, endMs: 200_000 },
      ]);
      expect(r.segments.map((s) => s.freeMs)).toEqual([90_000, 30_000]);
      expect(r.segments.map((s) => s.billableSeconds)).toEqual([0, 120]);
      expect(r.total.amount).toBe(240);
    });

    it('bills the minimum shortfall at the tariff of the last segment', () => {
      const min: Record<string, Tariff> = {
        a: parseTariff({ id: 'a', currency: 'EUR', pricePerMinute: 60, minimumBillableSeconds: 60 }),
        b: parseTariff({ id: 'b', currency: 'EUR', pricePerMinute: 120 }),
      };
      const r = rateSession((s) => min[s], [
        { service: 'a', startMs: 0, endMs: 10_000 },
        { service: 'b', startMs: 10_000, endMs: 15_000 },
      ]);
      expect(r.segments.map((s) => s.billableSeconds)).toEqual([10, 50]);
      expect(r.total.amount).toBe(10 + 100);
    });

    it('does not charge gaps between segments', () => {
      const r = rateSession(tariffs.beer, [
        { service: 'x', startMs: 0, endMs: 30_000 },
        { service: 'x', startMs: 90_000, endMs: 120_000 },
      ]);
      expect(r.durationMs).toBe(60_000);
      expect(r.billableSeconds).toBe(60);
    });

    it('apportions the rounding so that the lines add up to the time charge', () => {
      // 30 s + 30 s at 0.01 EUR/min: each line is half a cent, the session one cent.
      const cent = parseTariff({ id: 'c', currency: 'EUR', pricePerMinute: 1 });
      const r = rateSession(cent, [
        { service: 'x', startMs: 0, endMs: 30_000 },
        { service: 'x', startMs: 30_000, endMs: 60_000 },
      ]);
      expect(r.timeCharge.amount).toBe(1);
      expect(r.segments.map((s) => s.amount.amount)).toEqual([1, 0]);
    });

    it('refuses segments priced in another currency than the session', () => {
      expect(
        codeOf(() =>
          rateSession(lookup, [
            { service: 'wine', startMs: 0, endMs: 1000 },
            { service: 'dollars', startMs: 1000, endMs: 2000 },
          ]),
        ),
      ).toBe('BILLING_ERR_CURRENCY_MISMATCH');
    });
  });

  describe('refuses unusable input', () => {
    const t = tariff({});
    it.each([
      ['no segments', [] as SessionSegment[]],
      ['a segment that ends before it starts', [{ service: 'x', startMs: 10, endMs: 5 }]],
      ['times that are not integers', [{ service: 'x', startMs: 0, endMs: 1.5 }]],
      ['NaN', [{ service: 'x', startMs: 0, endMs: Number.NaN }]],
      [
        'overlapping segments',
        [
          { service: 'x', startMs: 0, endMs: 10 },
          { service: 'x', startMs: 5, endMs: 20 },
        ],
      ],
    ])('%s: BILLING_ERR_SEGMENT', (_, segments) => {
      expect(codeOf(() => rateSession(t, segments))).toBe('BILLING_ERR_SEGMENT');
    });

    it('a service the lookup has no tariff for: BILLING_ERR_TARIFF', () => {
      const none = (() => undefined) as unknown as (s: string) => Tariff;
      expect(codeOf(() => rateSession(none, lasting(1000)))).toBe('BILLING_ERR_TARIFF');
    });

    it('a hand-made tariff with a fractional price: BILLING_ERR_TARIFF', () => {
      expect(codeOf(() => rateSession({ ...t, pricePerMinute: 1.5 }, lasting(1000)))).toBe('BILLING_ERR_TARIFF');
    });

    it('a hand-made tariff with a zero increment: BILLING_ERR_TARIFF', () => {
      expect(codeOf(() => rateSession({ ...t, increments: { first: 0, next: 1 } }, lasting(1000)))).toBe('BILLING_ERR_TARIFF');
    });

    it('a price so large the amount leaves the safe range: BILLING_ERR_OVERFLOW', () => {
      expect(codeOf(() => rateSession({ ...t, pricePerMinute: 2 ** 50 }, lasting(3_600_000)))).toBe('BILLING_ERR_OVERFLOW');
    });
  });
});

// ---- properties --------------------------------------------------------

const tariffArb = fc
  .record({
    currency: fc.constantFrom('EUR', 'JPY', 'KWD'),
    setupFee: fc.integer({ min: 0, max: 10_000 }),
    pricePerMinute: fc.integer({ min: 0, max: 100_000 }),
    first: fc.integer({ min: 1, max: 600 }),
    next: fc.integer({ min: 1, max: 600 }),
    minimumBillableSeconds: fc.integer({ min: 0, max: 600 }),
    freeSeconds: fc.integer({ min: 0, max: 600 }),
  })
  .map(({ first, next, ...t }) => parseTariff({ id: 'p', ...t, increments: { first, next } }));

const durationArb = fc.integer({ min: 0, max: 4 * 3_600_000 });

describe('rating properties', () => {
  it('the amount never decreases as the session gets longer', () => {
    fc.assert(
      fc.property(tariffArb, durationArb, durationArb, (t, a, b) => {
        const [short, long] = a <= b ? [a, b] : [b, a];
        expect(costOf(t, short)).toBeLessThanOrEqual(costOf(t, long));
      }),
      { numRuns: 500 },
    );
  });

  it('no amount is ever negative, and the total is in the tariff currency', () => {
    fc.assert(
      fc.property(tariffArb, durationArb, (t, d) => {
        const r = rateSession(t, lasting(d));
        expect(r.total.amount).toBeGreaterThanOrEqual(0);
        expect(r.timeCharge.amount).toBeGreaterThanOrEqual(0);
        for (const s of r.segments) expect(s.amount.amount).toBeGreaterThanOrEqual(0);
        expect(r.total.currency).toBe(t.currency);
        expect(r.timeCharge.currency).toBe(t.currency);
      }),
      { numRuns: 500 },
    );
  });

  it('billable time covers the chargeable time by less than one increment, on the increment grid', () => {
    fc.assert(
      fc.property(tariffArb, durationArb, (t, d) => {
        const billableMs = rateSession(t, lasting(d)).billableSeconds * 1000;
        // Chargeable: after the free time, at least the minimum.
        const chargeable = Math.max(d - t.freeSeconds * 1000, t.minimumBillableSeconds * 1000, 0);
        const { first, next } = t.increments;
        if (chargeable === 0) {
          expect(billableMs).toBe(0);
        } else if (chargeable <= first * 1000) {
          expect(billableMs).toBe(first * 1000);
        } else {
          expect(billableMs).toBeGreaterThanOrEqual(chargeable);
          expect(billableMs - chargeable).toBeLessThan(next * 1000);
          expect((billableMs / 1000 - first) % next).toBe(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('the time charge is the exact price of the billable time, rounded half-up once', () => {
    fc.assert(
      fc.property(tariffArb, durationArb, (t, d) => {
        const r = rateSession(t, lasting(d));
        expect(r.timeCharge.amount).toBe(divideRoundHalfUp(r.billableSeconds * t.pricePerMinute, 60));
        expect(r.total.amount).toBe(t.setupFee + r.timeCharge.amount);
      }),
      { numRuns: 300 },
    );
  });

  it('whole minutes (60/60) cost at least 30/6, which costs at least per-second (1/1), and at most one minute more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), durationArb, (price, d) => {
        const at = (first: number, next: number) => costOf(parseTariff({ id: 'x', currency: 'EUR', pricePerMinute: price, increments: { first, next } }), d);
        const minutes = at(60, 60);
        const sixes = at(30, 6);
        const seconds = at(1, 1);
        expect(minutes).toBeGreaterThanOrEqual(sixes);
        expect(sixes).toBeGreaterThanOrEqual(seconds);
        expect(minutes - seconds).toBeLessThanOrEqual(price);
      }),
      { numRuns: 500 },
    );
  });

  it('splitting a session into segments with the same tariff changes nothing', () => {
    fc.assert(
      fc.property(tariffArb, durationArb, fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 6 }), (t, d, cuts) => {
        const points = [...new Set(cuts.map((c) => Math.floor(c * d)))].sort((a, b) => a - b);
        const bounds = [0, ...points, d];
        const split: SessionSegment[] = [];
        for (let i = 0; i + 1 < bounds.length; i++) split.push({ service: 's', startMs: bounds[i], endMs: bounds[i + 1] });
        const whole = rateSession(t, lasting(d));
        const parts = rateSession(t, split);
        expect(parts.total).toEqual(whole.total);
        expect(parts.billableSeconds).toBe(whole.billableSeconds);
        expect(parts.segments.reduce((s, l) => s + l.amount.amount, 0)).toBe(parts.timeCharge.amount);
      }),
      { numRuns: 500 },
    );
  });

  it('free time is a shift: without a minimum, T ms with F s free costs what T − F ms costs with none (plus the same setup fee)', () => {
    fc.assert(
      fc.property(tariffArb, durationArb, (t0, d) => {
        const t = { ...t0, minimumBillableSeconds: 0 };
        const none = { ...t, freeSeconds: 0 };
        expect(costOf(t, d)).toBe(costOf(none, Math.max(0, d - t.freeSeconds * 1000)));
      }),
      { numRuns: 300 },
    );
  });

  it('a session never costs less than an established session of 0 ms (setup fee + minimum)', () => {
    fc.assert(
      fc.property(tariffArb, durationArb, (t, d) => {
        expect(costOf(t, d)).toBeGreaterThanOrEqual(costOf(t, 0));
      }),
      { numRuns: 300 },
    );
  });

  it('with several tariffs on one increment grid, the cost lies between the cheapest and the dearest tariff for the whole session', () => {
    const segmentsArb = fc.array(
      fc.record({ price: fc.integer({ min: 0, max: 10_000 }), ms: fc.integer({ min: 0, max: 600_000 }) }),
      { minLength: 1, maxLength: 5 },
    );
    fc.assert(
      fc.property(tariffArb, segmentsArb, (base, segs) => {
        const bySvc: Record<string, Tariff> = {};
        const segments: SessionSegment[] = [];
        let t = 0;
        segs.forEach((s, i) => {
          bySvc['s' + i] = { ...base, id: 's' + i, pricePerMinute: s.price };
          segments.push({ service: 's' + i, startMs: t, endMs: t + s.ms });
          t += s.ms;
        });
        // The session terms (setup fee, free time, minimum) come from the first segment.
        const prices = segs.map((s) => s.price);
        const r = rateSession((svc) => bySvc[svc], segments);
        const cheap = rateSession({ ...base, pricePerMinute: Math.min(...prices) }, lasting(t));
        const dear = rateSession({ ...base, pricePerMinute: Math.max(...prices) }, lasting(t));
        expect(r.billableSeconds).toBe(cheap.billableSeconds);
        expect(r.total.amount).toBeGreaterThanOrEqual(cheap.total.amount);
        expect(r.total.amount).toBeLessThanOrEqual(dear.total.amount);
        expect(r.segments.reduce((s, l) => s + l.amount.amount, 0)).toBe(r.timeCharge.amount);
      }),
      { numRuns: 300 },
    );
  });
});
