import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBillingError } from '../../../server/billing/billing-error.js';
import { billPeriod, isInBillPeriod, nextBillPeriod, parseBillPeriod, type BillPeriodKind } from '../../../server/billing/bill-period.js';

describe('billing periods (UTC)', () => {
  describe('monthly (the default)', () => {
    it('runs from the first of the month 00:00 UTC to the first of the next', () => {
      expect(billPeriod(Date.UTC(2026, 0, 15, 12))).toEqual({
        kind: 'monthly',
        label: '2026-01',
        start: Date.UTC(2026, 0, 1),
        end: Date.UTC(2026, 1, 1),
      });
    });

    it('puts the last millisecond of January in January and midnight in February', () => {
      expect(billPeriod(Date.UTC(2026, 1, 1) - 1).label).toBe('2026-01');
      expect(billPeriod(Date.UTC(2026, 1, 1)).label).toBe('2026-02');
    });

    it('knows leap years', () => {
      const feb = billPeriod(Date.UTC(2028, 1, 29, 23));
      expect(feb.label).toBe('2028-02');
      expect(feb.end - feb.start).toBe(29 * 86_400_000);
    });

    it('rolls December over into the next year', () => {
      expect(nextBillPeriod(parseBillPeriod('2026-12')).label).toBe('2027-01');
    });
  });

  describe('weekly (ISO 8601 weeks, from Monday)', () => {
    it('puts 1 January 2026 (a Thursday) in week 1 of 2026, which starts on 29 December 2025', () => {
      const w = billPeriod(Date.UTC(2026, 0, 1), 'weekly');
      expect(w.label).toBe('2026-W01');
      expect(w.start).toBe(Date.UTC(2025, 11, 29));
      expect(w.end).toBe(Date.UTC(2026, 0, 5));
    });

    it('puts 1 January 2027 (a Friday) in week 53 of 2026', () => {
      expect(billPeriod(Date.UTC(2027, 0, 1), 'weekly').label).toBe('2026-W53');
    });

    it('starts each week on Monday 00:00 UTC', () => {
      const w = billPeriod(Date.UTC(2026, 2, 15, 18), 'weekly'); // a Sunday
      expect(new Date(w.start).getUTCDay()).toBe(1);
      expect(w.end - w.start).toBe(7 * 86_400_000);
    });
  });

  it('daily runs midnight to midnight UTC', () => {
    expect(billPeriod(Date.UTC(2026, 4, 7, 23, 59), 'daily')).toEqual({
      kind: 'daily',
      label: '2026-05-07',
      start: Date.UTC(2026, 4, 7),
      end: Date.UTC(2026, 4, 8),
    });
  });

  describe('parseBillPeriod', () => {
    it.each(['2026-01', '2026-12', '2026-W01', '2026-W53', '2026-02-28', '2028-02-29'])('reads %s back', (label) => {
      expect(parseBillPeriod(label).label).toBe(label);
    });

    it.each(['2026-13', '2026-00', '2026-1', '2027-W53', '2026-W00', '2026-02-29', '2026-02-30', 'January', '', '1969-12', '0026-01', '2026-01 '])(
      'refuses %j with BILLING_ERR_PERIOD',
      (label) => {
        try {
          parseBillPeriod(label);
          expect.unreachable();
        } catch (e) {
          expect(isBillingError(e) && e.code).toBe('BILLING_ERR_PERIOD');
        }
      },
    );
  });

  it('refuses instants that are not integers from 1970 on', () => {
    for (const bad of [1.5, -1, Number.NaN, 8.64e15]) {
      try {
        billPeriod(bad);
        expect.unreachable();
      } catch (e) {
        expect(isBillingError(e) && e.code).toBe('BILLING_ERR_PERIOD');
      }
    }
  });

  it('property: every instant is in exactly its period, and periods tile time without gaps', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(9000, 0, 1) }),
        fc.constantFrom<BillPeriodKind>('monthly', 'weekly', 'daily'),
        (t, kind) => {
          const p = billPeriod(t, kind);
          expect(isInBillPeriod(p, t)).toBe(true);
          expect(p.start).toBeLessThan(p.end);
          expect(nextBillPeriod(p).start).toBe(p.end);
          expect(billPeriod(p.end - 1, kind)).toEqual(p);
          expect(billPeriod(p.start, kind)).toEqual(p);
          expect(parseBillPeriod(p.label)).toEqual(p);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
