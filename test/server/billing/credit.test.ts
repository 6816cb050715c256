import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBillingError } from '../../../server/billing/billing-error.js';
import {
  availableCredit,
  canAcceptCharge,
  canAfford,
  minimumSessionCost,
  timeUntilExhausted,
  type CreditAccount,
} from '../../../server/billing/credit.js';
import { money } from '../../../server/billing/money.js';
import { rateSession, type SessionSegment } from '../../../server/billing/rating.js';
import { parseTariff, type Tariff } from '../../../server/billing/tariff.js';

const prepaid = (balance: number): CreditAccount => ({ kind: 'prepaid', currency: 'EUR', balance });
const postpaid = (creditLimit: number, owed: number): CreditAccount => ({ kind: 'postpaid', currency: 'EUR', creditLimit, owed });

const perMinute = parseTariff({ id: 'm', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } });

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isBillingError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('credit control', () => {
  describe('availableCredit', () => {
    it('of a prepaid account is the balance less pending amounts', () => {
      expect(availableCredit(prepaid(1000), [money(240, 'EUR'), money(10, 'EUR')])).toEqual(money(750, 'EUR'));
    });

    it('of a postpaid account is the credit limit less what is owed and pending', () => {
      expect(availableCredit(postpaid(5000, 4500))).toEqual(money(500, 'EUR'));
      expect(availableCredit(postpaid(5000, 4500), [money(600, 'EUR')])).toEqual(money(-100, 'EUR'));
    });

    it('refuses pending amounts in another currency', () => {
      expect(codeOf(() => availableCredit(prepaid(1000), [money(1, 'USD')]))).toBe('BILLING_ERR_CURRENCY_MISMATCH');
    });
  });

  describe('canAfford (402 at INVITE)', () => {
    const t = parseTariff({ id: 'x', currency: 'EUR', setupFee: 50, pricePerMinute: 120, minimumBillableSeconds: 60 });

    it('needs the setup fee plus the minimum billable time', () => {
      expect(minimumSessionCost(t)).toEqual(money(170, 'EUR'));
      expect(canAfford(prepaid(170), t).ok).toBe(true);
      const d = canAfford(prepaid(169), t);
      expect(d.ok).toBe(false);
      if (!d.ok) {
        expect(d.error.code).toBe('BILLING_ERR_INSUFFICIENT_CREDIT');
        expect(d.error.status).toBe(402);
        expect(d.required).toEqual(money(170, 'EUR'));
        expect(d.available).toEqual(money(169, 'EUR'));
      }
    });

    it('counts what other live sessions already use', () => {
      expect(canAfford(prepaid(300), t, [money(200, 'EUR')]).ok).toBe(false);
    });

    it('lets anyone start a free service', () => {
      const free = parseTariff({ id: 'f', currency: 'EUR', pricePerMinute: 0 });
      expect(canAfford(prepaid(-500), free).ok).toBe(true);
    });

    it('refuses a tariff in another currency than the account', () => {
      const usd = parseTariff({ id: 'u', currency: 'USD', pricePerMinute: 1 });
      const d = canAfford(prepaid(1000), usd);
      expect(!d.ok && d.error.code).toBe('BILLING_ERR_CURRENCY_MISMATCH');
    });
  });

  describe('canAcceptCharge', () => {
    it('accepts a charge the available credit covers', () => {
      expect(canAcceptCharge(postpaid(5000, 0), money(4900, 'EUR'), [money(100, 'EUR')]).ok).toBe(true);
    });

    it('refuses one it does not cover, with 402', () => {
      const d = canAcceptCharge(postpaid(5000, 0), money(4901, 'EUR'), [money(100, 'EUR')]);
      expect(!d.ok && d.error.status).toBe(402);
    });

    it('always accepts a refund', () => {
      expect(canAcceptCharge(prepaid(-100), money(-2450, 'EUR')).ok).toBe(true);
    });
  });

  describe('timeUntilExhausted', () => {
    it('lets a session run to the end of the last increment the credit pays for', () => {
      // 5.00 EUR at 1.20 EUR/min in whole minutes: 4 minutes (4.80) fit, the fifth does not.
      expect(timeUntilExhausted(prepaid(500), perMinute, 0)).toBe(240_000);
      // 90 s in: two minutes started; the session may go on to 240 s.
      expect(timeUntilExhausted(prepaid(500), perMinute, 90_000)).toBe(150_000);
    });

    it('counts application charges and other sessions against the credit', () => {
      expect(timeUntilExhausted(prepaid(500), perMinute, 0, [money(200, 'EUR')])).toBe(120_000);
    });

    it('is 0 when the increment running now is already more than the credit', () => {
      expect(timeUntilExhausted(prepaid(100), perMinute, 0)).toBe(0);
      expect(timeUntilExhausted(prepaid(500), perMinute, 300_001)).toBe(0);
    });

    it('stops at the boundary where the unaffordable increment would start, mid-increment too', () => {
      // 30/6 at 1.20 EUR/min: 30 s = 0.60, each 6 s = 0.12. 1.00 EUR pays 30 s + 3 × 6 s = 48 s (0.96).
      const t = parseTariff({ id: 's', currency: 'EUR', pricePerMinute: 120, increments: { first: 30, next: 6 } });
      expect(timeUntilExhausted(prepaid(100), t, 40_000)).toBe(8_000);
    });

    it('respects free time', () => {
      const t = parseTariff({ id: 'f', currency: 'EUR', pricePerMinute: 120, freeSeconds: 60, increments: { first: 60, next: 60 } });
      expect(timeUntilExhausted(prepaid(120), t, 0)).toBe(120_000);
    });

    it('is Infinity when the remaining time is free', () => {
      const free = parseTariff({ id: 'f', currency: 'EUR', pricePerMinute: 0, setupFee: 10 });
      expect(timeUntilExhausted(prepaid(10), free, 5_000)).toBe(Infinity);
    });

    it('is Infinity when the credit outlasts any session', () => {
      expect(timeUntilExhausted(postpaid(Number.MAX_SAFE_INTEGER, 0), parseTariff({ id: 'c', currency: 'EUR', pricePerMinute: 1 }), 0)).toBe(Infinity);
    });

    it('follows the tariff of the current segment after a change of service', () => {
      const tariffs: Record<string, Tariff> = {
        wine: parseTariff({ id: 'wine', currency: 'EUR', pricePerMinute: 60, increments: { first: 60, next: 60 } }),
        lesson: parseTariff({ id: 'lesson', currency: 'EUR', pricePerMinute: 240, increments: { first: 60, next: 60 } }),
      };
      const segments: SessionSegment[] = [
        { service: 'wine', startMs: 1000, endMs: 61_000 },
        { service: 'lesson', startMs: 61_000, endMs: 91_000 },
      ];
      // 90 s in: wine minute 0.60 + lesson minute 2.40 = 3.00 spent. Of 10.00, two more lesson
      // minutes fit (7.80 at 240 s), a third does not (10.20): 150 s from now.
      expect(timeUntilExhausted(prepaid(1000), (s) => tariffs[s], segments)).toBe(150_000);
    });

    it('refuses a session priced in another currency than the account', () => {
      const usd = parseTariff({ id: 'u', currency: 'USD', pricePerMinute: 1 });
      expect(codeOf(() => timeUntilExhausted(prepaid(1000), usd, 0))).toBe('BILLING_ERR_CURRENCY_MISMATCH');
    });

    it('wants a Tariff, not a lookup, with an elapsed time', () => {
      expect(() => timeUntilExhausted(prepaid(1), () => perMinute, 0)).toThrow(TypeError);
    });
  });

  describe('timeUntilExhausted properties', () => {
    const tariffArb = fc
      .record({
        setupFee: fc.integer({ min: 0, max: 500 }),
        pricePerMinute: fc.integer({ min: 1, max: 5_000 }),
        first: fc.integer({ min: 1, max: 120 }),
        next: fc.integer({ min: 1, max: 120 }),
        minimumBillableSeconds: fc.integer({ min: 0, max: 120 }),
        freeSeconds: fc.integer({ min: 0, max: 120 }),
      })
      .map(({ first, next, ...t }) => parseTariff({ id: 'p', currency: 'EUR', ...t, increments: { first, next } }));
    const cost = (t: Tariff, ms: number) => rateSession(t, [{ service: '', startMs: 0, endMs: ms }]).total.amount;

    it('never returns a time at which the cost exceeds the credit, nor one that ends the session early', () => {
      fc.assert(
        fc.property(
          tariffArb,
          fc.integer({ min: 0, max: 50_000 }),
          fc.integer({ min: 0, max: 1_800_000 }),
          fc.integer({ min: 0, max: 2_000 }),
          (t, balance, elapsed, other) => {
            const account = prepaid(balance);
            const x = timeUntilExhausted(account, t, elapsed, [money(other, 'EUR')]);
            const available = balance - other;
            if (cost(t, elapsed) > available) {
              expect(x).toBe(0);
              return;
            }
            expect(Number.isSafeInteger(x)).toBe(true);
            // Ending at now + x is paid for…
            expect(cost(t, elapsed + x)).toBeLessThanOrEqual(available);
            // …and one millisecond more would start an increment that is not.
            expect(cost(t, elapsed + x + 1)).toBeGreaterThan(available);
          },
        ),
        { numRuns: 300 },
      );
    });

    it('gives a later cut-off for more credit', () => {
      fc.assert(
        fc.property(tariffArb, fc.integer({ min: 0, max: 20_000 }), fc.integer({ min: 0, max: 20_000 }), (t, a, b) => {
          const [low, high] = a <= b ? [a, b] : [b, a];
          expect(timeUntilExhausted(prepaid(low), t, 0)).toBeLessThanOrEqual(timeUntilExhausted(prepaid(high), t, 0));
        }),
        { numRuns: 200 },
      );
    });
  });
});
