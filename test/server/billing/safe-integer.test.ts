import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBillingError } from '../../../server/billing/billing-error.js';
import { checkedAdd, checkedMultiply, divideCeil, divideFloor, divideRoundHalfUp } from '../../../server/billing/safe-integer.js';

describe('safe integer arithmetic', () => {
  it.each([
    [150, 60, 3],
    [149, 60, 2],
    [90, 60, 2],
    [89, 60, 1],
    [0, 60, 0],
    [-150, 60, -3],
    [-149, 60, -2],
  ])('divideRoundHalfUp(%d, %d) is %d', (n, d, q) => {
    expect(divideRoundHalfUp(n, d)).toBe(q);
  });

  it('divides exactly over the whole safe range (checked against BigInt)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 1, max: 1_000_000 }), (n, d) => {
        const [q, r] = divideFloor(n, d);
        expect(BigInt(q)).toBe(BigInt(n) / BigInt(d));
        expect(BigInt(r)).toBe(BigInt(n) % BigInt(d));
        expect(divideCeil(n, d)).toBe(r === 0 ? q : q + 1);
        const half = 2n * (BigInt(n) % BigInt(d)) >= BigInt(d);
        expect(BigInt(divideRoundHalfUp(n, d))).toBe(BigInt(n) / BigInt(d) + (half ? 1n : 0n));
      }),
      { numRuns: 1000 },
    );
  });

  it('refuses results beyond ±(2**53 − 1) with BILLING_ERR_OVERFLOW', () => {
    for (const f of [() => checkedAdd(Number.MAX_SAFE_INTEGER, 1), () => checkedMultiply(2 ** 27, 2 ** 27)]) {
      try {
        f();
        expect.unreachable();
      } catch (e) {
        expect(isBillingError(e) && e.code).toBe('BILLING_ERR_OVERFLOW');
      }
    }
  });
});
