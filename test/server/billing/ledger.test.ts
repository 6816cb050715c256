import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Charge } from '../../../server/billing/charge.js';
import { isBillingError } from '../../../server/billing/billing-error.js';
import {
  accountBalance,
  chargeFee,
  isBalanced,
  ledgerImbalance,
  percentageFee,
  postCharge,
  postSession,
  RELAY_REVENUE_ACCOUNT,
  relayFeeSchema,
  sessionFee,
  type LedgerEntry,
} from '../../../server/billing/ledger.js';
import { money } from '../../../server/billing/money.js';
import { rateSession } from '../../../server/billing/rating.js';
import { parseTariff } from '../../../server/billing/tariff.js';

const at = Date.UTC(2026, 0, 5, 10, 0, 0);
const lesson = parseTariff({ id: 'lesson', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } });
const rated61s = rateSession(lesson, [{ service: 'lesson', startMs: 0, endMs: 61_000 }]);
const order: Charge = { id: 'order-1', items: [{ sku: 'A', description: 'Apple', unitPrice: 1000, quantity: 1, currency: 'EUR' }] };

const summary = (entries: LedgerEntry[]) => entries.map((e) => `${e.side} ${e.account} ${e.amount} ${e.kind}`);

describe('ledger', () => {
  describe('percentageFee (basis points, half-up)', () => {
    it.each([
      [1005, 250, 25], // 25.125
      [1010, 250, 25], // 25.25
      [1020, 250, 26], // 25.5 → 26
      [-1020, 250, -26], // a refund mirrors the charge
      [240, 1000, 24],
      [1, 5000, 1], // 0.5 → 1
      [1, 4999, 0],
      [Number.MAX_SAFE_INTEGER, 10_000, Number.MAX_SAFE_INTEGER],
    ])('%d at %d bp is %d', (gross, bp, fee) => {
      expect(percentageFee(gross, bp)).toBe(fee);
    });

    it('is exact over the safe range (checked against BigInt)', () => {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 10_000 }), (g, bp) => {
          const n = BigInt(g) * BigInt(bp);
          const q = n / 10_000n;
          const expected = n % 10_000n >= 5_000n ? q + 1n : q;
          expect(BigInt(percentageFee(g, bp))).toBe(expected);
        }),
      );
    });
  });

  describe('postSession', () => {
    it('moves the session total from the user to the operator, and the fee from the operator to the relay', () => {
      const entries = postSession({ sessionId: 's1', rated: rated61s, userId: 'alice', operatorId: 'acme', fee: { basisPoints: 1000 }, at });
      expect(summary(entries)).toEqual([
        'debit user:alice 240 gross',
        'credit operator:acme 240 gross',
        'debit operator:acme 24 fee',
        'credit relay:revenue 24 fee',
      ]);
      for (const e of entries) {
        expect(e.reference).toEqual({ type: 'session', id: 's1' });
        expect(e.currency).toBe('EUR');
        expect(e.at).toBe(at);
      }
    });

    it('adds the fixed fee per session, even to a session that cost nothing', () => {
      const free = rateSession(parseTariff({ id: 'f', currency: 'EUR', pricePerMinute: 0 }), [{ service: 'x', startMs: 0, endMs: 5000 }]);
      const entries = postSession({ sessionId: 's2', rated: free, userId: 'alice', operatorId: 'acme', fee: { basisPoints: 1000, fixedPerSession: money(5, 'EUR') }, at });
      expect(summary(entries)).toEqual(['debit operator:acme 5 fee', 'credit relay:revenue 5 fee']);
    });

    it('posts nothing for a free session without a fee', () => {
      const free = rateSession(parseTariff({ id: 'f', currency: 'EUR', pricePerMinute: 0 }), [{ service: 'x', startMs: 0, endMs: 5000 }]);
      expect(postSession({ sessionId: 's', rated: free, userId: 'u', operatorId: 'o', fee: { basisPoints: 0 }, at })).toEqual([]);
    });

    it('refuses a fixed fee in another currency than the session', () => {
      try {
        sessionFee(money(100, 'EUR'), { basisPoints: 0, fixedPerSession: money(5, 'USD') });
        expect.unreachable();
      } catch (e) {
        expect(isBillingError(e) && e.code).toBe('BILLING_ERR_CURRENCY_MISMATCH');
      }
    });

    it('refuses a fee outside 0..10000 bp', () => {
      try {
        sessionFee(money(100, 'EUR'), { basisPoints: 10_001 });
        expect.unreachable();
      } catch (e) {
        expect(isBillingError(e) && e.code).toBe('BILLING_ERR_TARIFF');
      }
    });
  });

  describe('postCharge', () => {
    it('moves the charge from the user to the operator and the percentage to the relay', () => {
      const entries = postCharge({ chargeRef: 'c1', charge: order, userId: 'alice', operatorId: 'acme', fee: { basisPoints: 250, fixedPerSession: money(5, 'EUR') }, at });
      expect(summary(entries)).toEqual([
        'debit user:alice 1000 gross',
        'credit operator:acme 1000 gross',
        'debit operator:acme 25 fee',
        'credit relay:revenue 25 fee',
      ]);
      expect(entries[0].reference).toEqual({ type: 'charge', id: 'c1' });
    });

    it('reverses every movement for a refund, the relay’s percentage included', () => {
      const refund: Charge = { id: 'r1', refundOf: 'order-1', items: [{ ...order.items[0], unitPrice: -1000 }] };
      const entries = postCharge({ chargeRef: 'c2', charge: refund, userId: 'alice', operatorId: 'acme', fee: { basisPoints: 250 }, at });
      expect(summary(entries)).toEqual([
        'debit operator:acme 1000 gross',
        'credit user:alice 1000 gross',
        'debit relay:revenue 25 fee',
        'credit operator:acme 25 fee',
      ]);
    });

    it('a charge and its full refund leave every account where it was', () => {
      const refund: Charge = { id: 'r1', refundOf: 'order-1', items: [{ ...order.items[0], unitPrice: -1000 }] };
      const p = { userId: 'alice', operatorId: 'acme', fee: { basisPoints: 333 }, at };
      const all = [...postCharge({ ...p, chargeRef: 'c1', charge: order }), ...postCharge({ ...p, chargeRef: 'c2', charge: refund })];
      for (const acct of ['user:alice', 'operator:acme', RELAY_REVENUE_ACCOUNT]) expect(accountBalance(all, acct)).toEqual([money(0, 'EUR')]);
    });
  });

  it('chargeFee takes only the percentage', () => {
    expect(chargeFee(money(1000, 'EUR'), { basisPoints: 1000, fixedPerSession: money(50, 'EUR') })).toEqual(money(100, 'EUR'));
  });

  it('relayFeeSchema validates fees in the service config', () => {
    expect(relayFeeSchema.parse({})).toEqual({ basisPoints: 0 });
    expect(relayFeeSchema.parse({ basisPoints: 1000, fixedPerSession: { amount: 5, currency: 'EUR' } })).toEqual({
      basisPoints: 1000,
      fixedPerSession: { amount: 5, currency: 'EUR' },
    });
    expect(relayFeeSchema.safeParse({ basisPoints: 10_001 }).success).toBe(false);
    expect(relayFeeSchema.safeParse({ basisPoints: 12.5 }).success).toBe(false);
    expect(relayFeeSchema.safeParse({ fixedPerSession: { amount: -1, currency: 'EUR' } }).success).toBe(false);
    expect(relayFeeSchema.safeParse({ percent: 10 }).success).toBe(false);
  });

  it('ledgerImbalance reports debits minus credits per currency', () => {
    const e = (side: 'debit' | 'credit', amount: number, currency: 'EUR' | 'USD'): LedgerEntry => ({
      account: 'x', side, amount, currency, kind: 'gross', reference: { type: 'charge', id: 'c' }, at,
    });
    expect(ledgerImbalance([e('debit', 5, 'EUR'), e('credit', 3, 'EUR'), e('credit', 1, 'USD')])).toEqual([money(2, 'EUR'), money(-1, 'USD')]);
    expect(isBalanced([e('debit', 5, 'EUR'), e('credit', 5, 'EUR')])).toBe(true);
  });

  describe('properties', () => {
    const feeArb = fc.record({
      basisPoints: fc.integer({ min: 0, max: 10_000 }),
      fixed: fc.option(fc.integer({ min: 0, max: 1_000 }), { nil: undefined }),
    });
    const currencyArb = fc.constantFrom('EUR' as const, 'JPY' as const, 'KWD' as const);

    it('every session posting balances to zero in its currency, with positive amounts only', () => {
      fc.assert(
        fc.property(
          currencyArb,
          fc.integer({ min: 0, max: 100_000 }),
          fc.integer({ min: 0, max: 10_000 }),
          fc.integer({ min: 0, max: 10_000_000 }),
          feeArb,
          (currency, price, setupFee, ms, f) => {
            const t = parseTariff({ id: 't', currency, pricePerMinute: price, setupFee });
            const rated = rateSession(t, [{ service: 's', startMs: 0, endMs: ms }]);
            const fee = { basisPoints: f.basisPoints, ...(f.fixed !== undefined ? { fixedPerSession: money(f.fixed, currency) } : {}) };
            const entries = postSession({ sessionId: 's', rated, userId: 'u', operatorId: 'o', fee, at });
            expect(isBalanced(entries)).toBe(true);
            for (const e of entries) {
              expect(e.amount).toBeGreaterThan(0);
              expect(Number.isSafeInteger(e.amount)).toBe(true);
              expect(e.currency).toBe(currency);
            }
            // The user pays exactly the rated total.
            expect(accountBalance(entries, 'user:u').reduce((s, m) => s + m.amount, 0)).toBe(rated.total.amount);
          },
        ),
        { numRuns: 500 },
      );
    });

    it('every charge and refund posting balances to zero, and the percentage fee never exceeds the gross', () => {
      fc.assert(
        fc.property(
          currencyArb,
          fc.array(fc.record({ price: fc.integer({ min: 0, max: 1_000_000 }), qty: fc.integer({ min: 1, max: 100 }) }), { minLength: 1, maxLength: 10 }),
          fc.boolean(),
          fc.integer({ min: 0, max: 10_000 }),
          (currency, items, refund, bp) => {
            const charge: Charge = {
              id: 'c',
              ...(refund ? { refundOf: 'x' } : {}),
              items: items.map((i) => ({ sku: 's', description: 'd', unitPrice: refund ? -(i.price + 1) : i.price, quantity: i.qty, currency })),
            };
            const entries = postCharge({ chargeRef: 'c', charge, userId: 'u', operatorId: 'o', fee: { basisPoints: bp }, at });
            expect(isBalanced(entries)).toBe(true);
            const gross = entries.filter((e) => e.kind === 'gross').reduce((s, e) => s + e.amount, 0) / 2;
            const fee = entries.filter((e) => e.kind === 'fee').reduce((s, e) => s + e.amount, 0) / 2;
            expect(fee).toBeLessThanOrEqual(gross);
            for (const e of entries) expect(e.amount).toBeGreaterThan(0);
          },
        ),
        { numRuns: 500 },
      );
    });
  });
});
