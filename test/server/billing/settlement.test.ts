import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseBillPeriod } from '../../../server/billing/bill-period.js';
import type { Charge } from '../../../server/billing/charge.js';
import { accountBalance, postCharge, postSession, RELAY_REVENUE_ACCOUNT, type LedgerEntry } from '../../../server/billing/ledger.js';
import { money } from '../../../server/billing/money.js';
import { rateSession } from '../../../server/billing/rating.js';
import { buildSettlement, settlementToCsv, settlementToJson } from '../../../server/billing/settlement.js';
import { parseTariff } from '../../../server/billing/tariff.js';

const january = parseBillPeriod('2026-01');
const lesson = parseTariff({ id: 'lesson', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } });
const rated = (ms: number) => rateSession(lesson, [{ service: 'lesson', startMs: 0, endMs: ms }]);
const item = { sku: 'A', description: 'Apple', unitPrice: 1000, quantity: 1, currency: 'EUR' as const };
const order: Charge = { id: 'o1', items: [item] };
const refund: Charge = { id: 'o1-r', refundOf: 'o1', items: [{ ...item, unitPrice: -400 }] };
const fee = { basisPoints: 1000, fixedPerSession: money(5, 'EUR') };

const entries: LedgerEntry[] = [
  ...postSession({ sessionId: 's1', rated: rated(61_000), userId: 'alice', operatorId: 'acme', fee, at: Date.UTC(2026, 0, 3) }),
  ...postSession({ sessionId: 's2', rated: rated(30_000), userId: 'bob', operatorId: 'acme', fee, at: Date.UTC(2026, 0, 4) }),
  ...postCharge({ chargeRef: 'c1', charge: order, userId: 'alice', operatorId: 'acme', fee, at: Date.UTC(2026, 0, 5) }),
  ...postCharge({ chargeRef: 'c2', charge: refund, userId: 'alice', operatorId: 'acme', fee, at: Date.UTC(2026, 0, 6) }),
  ...postSession({ sessionId: 's3', rated: rated(61_000), userId: 'alice', operatorId: 'other', fee, at: Date.UTC(2026, 0, 3) }),
  ...postSession({ sessionId: 's4', rated: rated(61_000), userId: 'alice', operatorId: 'acme', fee, at: Date.UTC(2026, 1, 3) }),
];

describe('settlements', () => {
  const s = buildSettlement('acme', january, entries);

  it("have one line per session and charge of the operator's in the period", () => {
    expect(s.lines.map((l) => l.reference.id)).toEqual(['s1', 's2', 'c1', 'c2']);
  });

  it('give gross, the relay fee and net per line', () => {
    expect(s.lines.map((l) => [l.reference.id, l.gross.amount, l.fee.amount, l.net.amount])).toEqual([
      ['s1', 240, 5 + 24, 240 - 29], // 2.40 gross, 0.05 fixed + 10 %
      ['s2', 120, 5 + 12, 120 - 17],
      ['c1', 1000, 100, 900], // no fixed fee on charges
      ['c2', -400, -40, -360], // a refund returns its share of the fee
    ]);
  });

  it('total gross, fee and net per currency, with counts', () => {
    expect(s.totals).toEqual([
      { currency: 'EUR', gross: money(960, 'EUR'), fee: money(106, 'EUR'), net: money(854, 'EUR'), sessions: 2, charges: 2 },
    ]);
  });

  it('agree with the relay revenue account', () => {
    const all = buildSettlement('acme', january, entries).totals[0].fee.amount + buildSettlement('other', january, entries).totals[0].fee.amount;
    const revenue = accountBalance(
      entries.filter((e) => e.at < january.end),
      RELAY_REVENUE_ACCOUNT,
    );
    expect(revenue).toEqual([money(-all, 'EUR')]);
  });

  it('are empty for an operator with nothing in the period', () => {
    expect(buildSettlement('nobody', january, entries)).toMatchObject({ lines: [], totals: [] });
  });

  it('settlementToCsv writes lines and totals with decimal and minor-unit columns', () => {
    expect(settlementToCsv(s).split('\r\n')).toEqual([
      'period,operator,kind,instant,reference_id,currency,gross,fee,net,gross_minor,fee_minor,net_minor',
      '2026-01,acme,session,2026-01-03T00:00:00.000Z,s1,EUR,2.40,0.29,2.11,240,29,211',
      '2026-01,acme,session,2026-01-04T00:00:00.000Z,s2,EUR,1.20,0.17,1.03,120,17,103',
      '2026-01,acme,charge,2026-01-05T00:00:00.000Z,c1,EUR,10.00,1.00,9.00,1000,100,900',
      '2026-01,acme,charge,2026-01-06T00:00:00.000Z,c2,EUR,-4.00,-0.40,-3.60,-400,-40,-360',
      '2026-01,acme,total,,,EUR,9.60,1.06,8.54,960,106,854',
      '',
    ]);
  });

  it('settlementToJson writes instants as ISO strings', () => {
    const doc = JSON.parse(settlementToJson(s));
    expect(doc.operatorId).toBe('acme');
    expect(doc.lines[0].at).toBe('2026-01-03T00:00:00.000Z');
    expect(doc.totals[0]).toMatchObject({ currency: 'EUR', net: { amount: 854, currency: 'EUR', decimal: '8.54' }, sessions: 2, charges: 2 });
  });

  it('property: net = gross − fee, and what users paid equals what operators and the relay received', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            operator: fc.constantFrom('acme', 'bookco'),
            price: fc.integer({ min: 0, max: 10_000 }),
            ms: fc.integer({ min: 0, max: 600_000 }),
            isCharge: fc.boolean(),
            bp: fc.integer({ min: 0, max: 10_000 }),
          }),
          { maxLength: 25 },
        ),
        (records) => {
          const es: LedgerEntry[] = records.flatMap((r, i) =>
            r.isCharge
              ? postCharge({ chargeRef: 'c' + i, charge: { id: 'o' + i, items: [{ ...item, unitPrice: r.price }] }, userId: 'u', operatorId: r.operator, fee: { basisPoints: r.bp }, at: january.start + i })
              : postSession({ sessionId: 's' + i, rated: rated(r.ms), userId: 'u', operatorId: r.operator, fee: { basisPoints: r.bp }, at: january.start + i }),
          );
          let gross = 0;
          let fees = 0;
          for (const op of ['acme', 'bookco']) {
            const st = buildSettlement(op, january, es);
            for (const l of st.lines) expect(l.net.amount).toBe(l.gross.amount - l.fee.amount);
            for (const t of st.totals) {
              expect(t.net.amount).toBe(t.gross.amount - t.fee.amount);
              gross += t.gross.amount;
              fees += t.fee.amount;
            }
          }
          const paid = accountBalance(es, 'user:u').reduce((sum, m) => sum + m.amount, 0);
          expect(gross).toBe(paid);
          expect(accountBalance(es, RELAY_REVENUE_ACCOUNT).reduce((sum, m) => sum - m.amount, 0)).toBe(fees);
        },
      ),
      { numRuns: 200 },
    );
  });
});
