import { BillingError, billingError } from './billing-error.js';
import type { CurrencyCode } from './currency.js';
import type { Money } from './money.js';
import { rateSession, type SessionSegment, type TariffLookup } from './rating.js';
import { checkedSubtract } from './safe-integer.js';
import type { Tariff } from './tariff.js';

/**
 * A prepaid account: the user pays in first and spends the balance.
 * Amounts are integer minor units of `currency`.
 */
export interface PrepaidAccount {
  readonly kind: 'prepaid';
  readonly currency: CurrencyCode;
  /** Paid in and not yet spent (posted). May be negative after an overrun. */
  readonly balance: number;
}

/**
 * A postpaid account: the user is billed after the period, up to a credit
 * limit. An account without a practical limit uses `Number.MAX_SAFE_INTEGER`.
 */
export interface PostpaidAccount {
  readonly kind: 'postpaid';
  readonly currency: CurrencyCode;
  /** Most the user may owe at any time (≥ 0). */
  readonly creditLimit: number;
  /** Owed now: posted usage not yet paid (billed or not). */
  readonly owed: number;
}

/** The credit side of a user's account; see docs/billing.md ("Credit control"). */
export type CreditAccount = PrepaidAccount | PostpaidAccount;

/** The outcome of a credit check: what is needed, what is available, and whether it fits. */
export type CreditDecision =
  | { readonly ok: true; readonly required: Money; readonly available: Money }
  | {
      readonly ok: false;
      /** `BILLING_ERR_INSUFFICIENT_CREDIT` (402) or `BILLING_ERR_CURRENCY_MISMATCH`. */
      readonly error: BillingError;
      readonly required: Money;
      readonly available: Money;
    };

/**
 * What the account can still spend: the prepaid balance, or the postpaid
 * credit limit less what is owed, less the `pendingAmounts` — money already
 * promised but not yet posted (the running cost of the user's other live
 * sessions, charges accepted but not posted). The result may be negative.
 *
 * @throws BillingError `BILLING_ERR_CURRENCY_MISMATCH` when a pending amount
 *   is not in the account's currency; `BILLING_ERR_OVERFLOW`.
 * @example
 * ```ts
 * availableCredit({ kind: 'prepaid', currency: 'EUR', balance: 1000 }, [money(240, 'EUR')]);
 * // { amount: 760, currency: 'EUR' }
 * availableCredit({ kind: 'postpaid', currency: 'EUR', creditLimit: 5000, owed: 4500 });
 * // { amount: 500, currency: 'EUR' }
 * ```
 */
export function availableCredit(account: CreditAccount, pendingAmounts: Iterable<Money> = []): Money {
  let available = account.kind === 'prepaid' ? account.balance : checkedSubtract(account.creditLimit, account.owed);
  for (const p of pendingAmounts) {
    if (p.currency !== account.currency) {
      throw billingError('BILLING_ERR_CURRENCY_MISMATCH', `a pending amount in ${p.currency} against an account in ${account.currency}`);
    }
    available = checkedSubtract(available, p.amount);
  }
  return { amount: available === 0 ? 0 : available, currency: account.currency };
}

function decide(required: Money, available: Money): CreditDecision {
  if (required.currency !== available.currency) {
    return {
      ok: false,
      error: billingError('BILLING_ERR_CURRENCY_MISMATCH', `the account is in ${available.currency}; the price is in ${required.currency}`),
      required,
      available,
    };
  }
  if (required.amount > 0 && required.amount > available.amount) {
    return {
      ok: false,
      error: billingError('BILLING_ERR_INSUFFICIENT_CREDIT', `${required.amount} ${required.currency} minor units needed, ${Math.max(0, available.amount)} available`),
      required,
      available,
    };
  }
  return { ok: true, required, available };
}

/**
 * The least any established session at `tariff` costs: the setup fee plus the
 * minimum billable time (with its increment rounding) — exactly what
 * {@link rateSession} charges for a session of 0 ms.
 *
 * @example
 * ```ts
 * minimumSessionCost(parseTariff({ id: 't', currency: 'EUR', setupFee: 50, pricePerMinute: 120, minimumBillableSeconds: 60 }));
 * // { amount: 170, currency: 'EUR' }
 * ```
 */
export function minimumSessionCost(tariff: Tariff): Money {
  return rateSession(tariff, [{ service: '', startMs: 0, endMs: 0 }]).total;
}

/**
 * Whether the user may start a session at `tariff`: the account must cover
 * the least the session can cost ({@link minimumSessionCost}). The relay
 * answers an INVITE that fails this with 402 Payment Required.
 *
 * @example
 * ```ts
 * const d = canAfford(account, resolveTariff(service, user.plan), runningCostsOfOtherSessions);
 * if (!d.ok) return reply(d.error.status); // 402
 * ```
 */
export function canAfford(account: CreditAccount, tariff: Tariff, pendingAmounts: Iterable<Money> = []): CreditDecision {
  return decide(minimumSessionCost(tariff), availableCredit(account, pendingAmounts));
}

/**
 * Whether an application charge of `amount` fits the account. Pass the
 * running cost of the user's live sessions (including the one being charged)
 * in `pendingAmounts`. A refund (amount ≤ 0) always fits. A charge that fits
 * may leave too little for the session's next increment; the relay then
 * recomputes {@link timeUntilExhausted} and ends the session when it says so.
 *
 * @example
 * ```ts
 * const d = canAcceptCharge(account, chargeTotal(charge), [sessionCostSoFar]);
 * if (!d.ok) return reply(402, d.error.message); // and the application server learns it
 * ```
 */
export function canAcceptCharge(account: CreditAccount, amount: Money, pendingAmounts: Iterable<Money> = []): CreditDecision {
  return decide(amount, availableCredit(account, pendingAmounts));
}

/** Beyond this many ms (about 1,115 years) credit is treated as never running out. */
const HORIZON_MS = 2 ** 45;

/**
 * How many milliseconds from now the live session may go on before its time
 * charge would exceed the available credit. The session must end before the
 * increment it cannot pay starts, so the result is always an increment
 * boundary (or 0): at `now + result` the rated cost is still within the
 * credit, one millisecond later it is not.
 *
 * Computed with {@link rateSession} itself (a search over the session's
 * rated cost, which never decreases with time), so credit control and the
 * bill cannot disagree.
 *
 * @param tariffs the session's tariff, or a lookup when `session` is a list of segments.
 * @param session the elapsed session time in ms (one segment at `tariffs`),
 *   or the segments so far, the last one ending now and going on at its tariff.
 * @param otherChargesSoFar everything else the account must still cover:
 *   application charges of this session not yet posted, the running cost of
 *   the user's other live sessions.
 * @returns ms from now; 0 when the session must end at once;
 *   `Infinity` when the remaining time is free or the credit outlasts
 *   any session. (`setTimeout` cannot wait more than 2**31 − 1 ms: cap the
 *   timer and check again when it fires.)
 * @throws BillingError `BILLING_ERR_CURRENCY_MISMATCH` when the tariff is not in
 *   the account's currency; errors of {@link rateSession}.
 * @example
 * ```ts
 * // 5.00 EUR left, 1.20 EUR/min in whole minutes, 90 s elapsed (2 minutes started):
 * timeUntilExhausted(account, tariff, 90_000); // 150_000: the call may last until the end of minute 4
 * ```
 */
export function timeUntilExhausted(
  account: CreditAccount,
  tariffs: Tariff | TariffLookup,
  session: number | readonly SessionSegment[],
  otherChargesSoFar: Iterable<Money> = [],
): number {
  let segments: readonly SessionSegment[];
  if (typeof session === 'number') {
    if (typeof tariffs === 'function') throw new TypeError('timeUntilExhausted: give a Tariff with an elapsed time, or segments with a lookup');
    segments = [{ service: '', startMs: 0, endMs: session }];
  } else {
    segments = session;
  }
  const available = availableCredit(account, otherChargesSoFar).amount;
  const head = segments.slice(0, -1);
  const last = segments[segments.length - 1];
  const lastTariff = typeof tariffs === 'function' ? (last ? tariffs(last.service) : undefined) : tariffs;

  const costAfter = (extraMs: number): number => {
    const extended = last ? [...head, { service: last.service, startMs: last.startMs, endMs: last.endMs + extraMs }] : segments;
    const r = rateSession(tariffs, extended);
    if (r.currency !== account.currency) {
      throw billingError('BILLING_ERR_CURRENCY_MISMATCH', `the session is priced in ${r.currency}, the account is in ${account.currency}`);
    }
    return r.total.amount;
  };

  if (costAfter(0) > available) return 0;
  // From now on only the last segment's tariff prices new increments.
  if (lastTariff && lastTariff.pricePerMinute === 0) return Infinity;

  const fits = (x: number): boolean => {
    try {
      return costAfter(x) <= available;
    } catch (e) {
      // A cost too large to count is certainly more than the credit.
      if (e instanceof BillingError && e.code === 'BILLING_ERR_OVERFLOW') return false;
      throw e;
    }
  };
  // Exponential search for a time that does not fit, then bisection: the
  // answer is the largest x with fits(x).
  let lo = 0;
  let hi = 1000;
  while (fits(hi)) {
    lo = hi;
    hi *= 2;
    if (hi > HORIZON_MS) return Infinity;
  }
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
