import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { billMatchesLedger, billToCsv, billToJson, buildBill, type BillableCharge, type BillableSession } from '../../../server/billing/bill.js';
import { parseBillPeriod } from '../../../server/billing/bill-period.js';
import type { Charge } from '../../../server/billing/charge.js';
import { postCharge, postSession, type LedgerEntry } from '../../../server/billing/ledger.js';
import { money } from '../../../server/billing/money.js';
import { rateSession } from '../../../server/billing/rating.js';
import { parseTariff } from '../../../server/billing/tariff.js';

const january = parseBillPeriod('2026-01');
const lesson = parseTariff({ id: 'lesson', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } });

function session(id: string, userId: string, endedAt: number, ms: number): BillableSession {
  return { sessionId: id, userId, service: 'lesson', startedAt: endedAt - ms, endedAt, rated: rateSession(lesson, [{ service: 'lesson', startMs: 0, endMs: ms }]) };
}

const wine = { sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice: 2450, quantity: 2, currency: 'EUR' as const };
const order: Charge = { id: 'order-7731', items: [wine] };
const refund: Charge = { id: 'order-7731-r1', refundOf: 'order-7731', items: [{ ...wine, unitPrice: -2450, quantity: 1 }] };
const books: Charge = { id: 'b-1', items: [{ sku: 'ISBN-1', description: 'Moby-Dick, "unabridged"', unitPrice: 1999, quantity: 1, currency: 'USD' }] };

const charge = (chargeRef: string, userId: string, acceptedAt: number, c: Charge, service = 'wine'): BillableCharge => ({
  chargeRef,
  userId,
  sessionId: 's-' + chargeRef,
  service,
  acceptedAt,
  charge: c,
});

describe('bills', () => {
  const sessions = [
    session('s1', 'alice', Date.UTC(2026, 0, 5, 10, 1, 1), 61_000),
    session('s2', 'bob', Date.UTC(2026, 0, 6), 61_000),
    session('s3', 'alice', Date.UTC(2026, 1, 1, 0, 0, 30), 90_000), // started in January, ended in February
    session('s4', 'alice', Date.UTC(2026, 0, 20), 0),
  ];
  const charges = [
    charge('c1', 'alice', Date.UTC(2026, 0, 7), order),
    charge('c2', 'alice', Date.UTC(2026, 0, 8), refund),
    charge('c3', 'alice', Date.UTC(2026, 0, 9), books, 'bookstore'),
    charge('c4', 'bob', Date.UTC(2026, 0, 9), order),
  ];

  describe('buildBill', () => {
    const bill = buildBill('alice', january, sessions, charges);

    it('has one line per session that ended in the period and per charge accepted in it, in time order', () => {
      expect(bill.lines.map((l) => (l.kind === 'session' ? l.sessionId : l.chargeRef))).toEqual(['s1', 'c1', 'c2', 'c3', 's4']);
    });

    it('leaves out other users and sessions that ended after the period', () => {
      const ids = bill.lines.map((l) => (l.kind === 'session' ? l.sessionId : l.chargeRef));
      expect(ids).not.toContain('s2');
      expect(ids).not.toContain('s3');
      expect(ids).not.toContain('c4');
    });

    it('totals each currency on its own', () => {
      // EUR: 2.40 (s1) + 49.00 (c1) − 24.50 (refund c2) + 0 (s4); USD: 19.99.
      expect(bill.totals).toEqual([money(2690, 'EUR'), money(1999, 'USD')]);
    });

    it('describes a session by its service and times, a charge by its items', () => {
      const s1 = bill.lines[0];
      expect(s1).toMatchObject({ kind: 'session', service: 'lesson', durationMs: 61_000, billableSeconds: 120, tariffId: 'lesson', amount: money(240, 'EUR') });
      const c2 = bill.lines[2];
      expect(c2).toMatchObject({ kind: 'charge', chargeId: 'order-7731-r1', refundOf: 'order-7731', description: 'Refund of order-7731: 1 × Bordeaux 2015, 75 cl' });
    });

    it('is empty with no totals for a user with nothing in the period', () => {
      expect(buildBill('carol', january, sessions, charges)).toMatchObject({ lines: [], totals: [] });
    });
  });

  describe('billToCsv', () => {
    it('writes a header, one record per line and a total per currency, escaped per RFC 4180', () => {
      const bill = buildBill('alice', january, [sessions[0]], [charges[2]]);
      expect(billToCsv(bill).split('\r\n')).toEqual([
        'period,user,kind,instant,session_id,charge_id,refund_of,service,description,duration_ms,billable_seconds,currency,amount,amount_minor',
        '2026-01,alice,session,2026-01-05T10:01:01.000Z,s1,,,lesson,lesson,61000,120,EUR,2.40,240',
        '2026-01,alice,charge,2026-01-09T00:00:00.000Z,s-c3,b-1,,bookstore,"1 × Moby-Dick, ""unabridged""",,,USD,19.99,1999',
        '2026-01,alice,total,,,,,,,,,EUR,2.40,240',
        '2026-01,alice,total,,,,,,,,,USD,19.99,1999',
        '',
      ]);
    });

    it('guards text from application servers against formula injection', () => {
      const evil: Charge = { id: '=cmd|calc', items: [{ ...wine, quantity: 1 }] };
      const bill = buildBill('alice', january, [], [charge('c9', 'alice', Date.UTC(2026, 0, 2), evil, '@service')]);
      expect(billToCsv(bill).split('\r\n')[1]).toBe(
        `2026-01,alice,charge,2026-01-02T00:00:00.000Z,s-c9,'=cmd|calc,,'@service,"1 × Bordeaux 2015, 75 cl",,,EUR,24.50,2450`,
      );
    });
  });

  it('billToJson writes instants as ISO strings and money as integer minor units with a decimal', () => {
    const doc = JSON.parse(billToJson(buildBill('alice', january, [sessions[0]], [])));
    expect(doc.period).toEqual({ kind: 'monthly', label: '2026-01', start: '2026-01-01T00:00:00.000Z', end: '2026-02-01T00:00:00.000Z' });
    expect(doc.lines[0]).toMatchObject({ kind: 'session', at: '2026-01-05T10:01:01.000Z', startedAt: '2026-01-05T10:00:00.000Z', amount: { amount: 240, currency: 'EUR', decimal: '2.40' } });
    expect(doc.totals).toEqual([{ amount: 240, currency: 'EUR', decimal: '2.40' }]);
  });

  describe('agree with the ledger', () => {
    const post = (s: BillableSession[], c: BillableCharge[]): LedgerEntry[] => [
      ...s.flatMap((x) => postSession({ sessionId: x.sessionId, rated: x.rated, userId: x.userId, operatorId: 'acme', fee: { basisPoints: 1000, fixedPerSession: money(5, 'EUR') }, at: x.endedAt })),
      ...c.flatMap((x) => postCharge({ chargeRef: x.chargeRef, charge: x.charge, userId: x.userId, operatorId: 'acme', fee: { basisPoints: 250 }, at: x.acceptedAt })),
    ];

    it('when sessions are posted at their end and charges at their acceptance', () => {
      const entries = post(sessions, charges);
      expect(billMatchesLedger(buildBill('alice', january, sessions, charges), entries)).toBe(true);
      expect(billMatchesLedger(buildBill('bob', january, sessions, charges), entries)).toBe(true);
    });

    it('and notice a missing entry', () => {
      const entries = post(sessions, charges).filter((e) => !(e.reference.id === 'c1' && e.account === 'user:alice'));
      expect(billMatchesLedger(buildBill('alice', january, sessions, charges), entries)).toBe(false);
    });

    it('property: for random sessions and charges of several users, every bill equals its ledger entries', () => {
      const start = january.start - 86_400_000;
      const span = january.end - january.start + 2 * 86_400_000;
      const recordArb = fc.record({
        user: fc.constantFrom('alice', 'bob', 'carol'),
        at: fc.integer({ min: start, max: start + span }),
        ms: fc.integer({ min: 0, max: 3_600_000 }),
        price: fc.integer({ min: 0, max: 100_000 }),
        qty: fc.integer({ min: 1, max: 5 }),
        currency: fc.constantFrom('EUR' as const, 'USD' as const),
        isCharge: fc.boolean(),
      });
      fc.assert(
        fc.property(fc.array(recordArb, { maxLength: 30 }), (records) => {
          const ss: BillableSession[] = [];
          const cs: BillableCharge[] = [];
          records.forEach((r, i) => {
            if (r.isCharge) {
              cs.push(charge('c' + i, r.user, r.at, { id: 'o' + i, items: [{ sku: 's', description: 'd', unitPrice: r.price, quantity: r.qty, currency: r.currency }] }));
            } else {
              ss.push(session('s' + i, r.user, r.at, r.ms));
            }
          });
          const entries = post(ss, cs);
          for (const user of ['alice', 'bob', 'carol']) {
            expect(billMatchesLedger(buildBill(user, january, ss, cs), entries)).toBe(true);
          }
        }),
        { numRuns: 200 },
      );
    });
  });
});
