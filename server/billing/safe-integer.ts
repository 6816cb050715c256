import { billingError } from './billing-error.js';

/**
 * Integer arithmetic on JavaScript numbers that never silently loses a minor
 * unit: every result is checked to be a safe integer (|x| ≤ 2**53 − 1), and
 * anything else throws `BILLING_ERR_OVERFLOW`. A float product of two integers
 * whose exact value exceeds 2**53 − 1 rounds to at least 2**53, so the check
 * after the operation is exact.
 */

/** `a + b`, or `BILLING_ERR_OVERFLOW`. */
export function checkedAdd(a: number, b: number): number {
  const r = a + b;
  if (!Number.isSafeInteger(r)) throw billingError('BILLING_ERR_OVERFLOW', `${a} + ${b} leaves the safe integer range`);
  return r;
}

/** `a − b`, or `BILLING_ERR_OVERFLOW`. */
export function checkedSubtract(a: number, b: number): number {
  const r = a - b;
  if (!Number.isSafeInteger(r)) throw billingError('BILLING_ERR_OVERFLOW', `${a} - ${b} leaves the safe integer range`);
  return r;
}

/** `a × b`, or `BILLING_ERR_OVERFLOW`. */
export function checkedMultiply(a: number, b: number): number {
  const r = a * b;
  if (!Number.isSafeInteger(r)) throw billingError('BILLING_ERR_OVERFLOW', `${a} * ${b} leaves the safe integer range`);
  // -0 would print as "0" but compare oddly in Object.is; money has no sign of zero.
  return r === 0 ? 0 : r;
}

/**
 * `numerator / denominator` rounded to the nearest integer, halves away from
 * zero (half-up for the positive amounts of charges; a refund mirrors the
 * charge it reverses exactly). `denominator` must be a positive safe integer.
 *
 * @example
 * ```ts
 * divideRoundHalfUp(150, 60);  // 3   (2.5 → 3)
 * divideRoundHalfUp(149, 60);  // 2   (2.48…)
 * divideRoundHalfUp(-150, 60); // -3
 * ```
 */
export function divideRoundHalfUp(numerator: number, denominator: number): number {
  if (numerator < 0) return -divideRoundHalfUp(-numerator, denominator);
  const [q, r] = divideFloor(numerator, denominator);
  return r * 2 >= denominator ? q + 1 : q;
}

/**
 * Floor division of a non-negative safe integer by a positive one, with the
 * remainder. The float quotient is corrected by the exact remainder, so the
 * result is exact over the whole safe range.
 */
export function divideFloor(numerator: number, denominator: number): [quotient: number, remainder: number] {
  let q = Math.floor(numerator / denominator);
  let r = numerator - q * denominator;
  if (r < 0) {
    q -= 1;
    r += denominator;
  } else if (r >= denominator) {
    q += 1;
    r -= denominator;
  }
  return [q, r];
}

/** Ceiling division of a non-negative safe integer by a positive one. */
export function divideCeil(numerator: number, denominator: number): number {
  const [q, r] = divideFloor(numerator, denominator);
  return r === 0 ? q : q + 1;
}
