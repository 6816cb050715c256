import { z } from 'zod';
import { billingError } from './billing-error.js';
import type { CurrencyCode } from './currency.js';
import { CurrencyTotals } from './currency-totals.js';
import { chargeTotal, type Charge } from './charge.js';
import { fieldError } from './json-path.js';
import { moneySchema, type Money } from './money.js';
import type { RatedSession } from './rating.js';
import { checkedAdd, checkedMultiply, divideFloor, divideRoundHalfUp } from './safe-integer.js';

/**
 * Ledger account ids. Three kinds of account take part in every posting:
 *
 * - `user:<userId>` — the user who pays. A debit is money the user spends.
 * - `operator:<operatorId>` — the operator of the application server that
 *   provided the service. A credit is money the relay owes the operator.
 * - `relay:revenue` — the relay operator's fee income.
 */
export type LedgerAccountId = string;

/** The relay operator's revenue account. */
export const RELAY_REVENUE_ACCOUNT: LedgerAccountId = 'relay:revenue';

/** The ledger account of a user. */
export function userAccountId(userId: string): LedgerAccountId {
  return 'user:' + userId;
}

/** The ledger account of an application-server operator. */
export function operatorAccountId(operatorId: string): LedgerAccountId {
  return 'operator:' + operatorId;
}

/** What a ledger entry comes from: a rated session or a stored charge (or refund). */
export interface LedgerReference {
  readonly type: 'session' | 'charge';
  /** The session id, or the stored charge's id. */
  readonly id: string;
}

/**
 * One side of a posting. `amount` is always positive; `side` gives the
 * direction. Every posting's debits equal its credits in each currency.
 */
export interface LedgerEntry {
  readonly account: LedgerAccountId;
  readonly side: 'debit' | 'credit';
  /** Positive integer minor units. */
  readonly amount: number;
  readonly currency: CurrencyCode;
  /** `gross`: the user's price passing to the operator; `fee`: the relay's fee passing from the operator to the relay. */
  readonly kind: 'gross' | 'fee';
  readonly reference: LedgerReference;
  /** When the posting was made, UTC epoch ms (a session's end, a charge's acceptance). */
  readonly at: number;
}

/**
 * The relay operator's fee for one service: a share of everything the
 * service earns, in basis points (1/100 of a percent: 1 000 = 10 %), and/or
 * a fixed amount per rated session.
 */
export interface RelayFee {
  /** 0 … 10 000. Applies to session totals and to application charges (and is returned on refunds). */
  readonly basisPoints: number;
  /** Charged to the operator for every rated session, even one that costs the user nothing. */
  readonly fixedPerSession?: Money;
}

/** No fee. */
export const NO_RELAY_FEE: RelayFee = Object.freeze({ basisPoints: 0 });

/** Zod schema of a {@link RelayFee} for the service configuration; `basisPoints` defaults to 0. */
export const relayFeeSchema: z.ZodType<RelayFee, { basisPoints?: number; fixedPerSession?: { amount: number; currency: string } }> = z.strictObject(
  {
    basisPoints: z
      .int({ error: fieldError('must be an integer number of basis points') })
      .min(0, { error: 'must be at least 0' })
      .max(10_000, { error: 'must be at most 10000 (100 %)' })
      .default(0),
    fixedPerSession: moneySchema
      .refine((m) => m.amount >= 0, { error: 'must not be negative', path: ['amount'] })
      .optional(),
  },
  { error: fieldError('must be an object') },
);

/**
 * The percentage part of the fee on `gross`: gross × basisPoints / 10 000,
 * rounded half-up (halves away from zero, so the fee returned on a full
 * refund equals the fee taken on the charge). Exact over the whole safe range.
 *
 * @example
 * ```ts
 * percentageFee(1005, 250); // 25   (25.125 → 25)
 * percentageFee(1010, 250); // 25   (25.25)
 * percentageFee(1020, 250); // 26   (25.5 → 26)
 * percentageFee(-1020, 250); // -26
 * ```
 */
export function percentageFee(gross: number, basisPoints: number): number {
  if (gross < 0) return -percentageFee(-gross, basisPoints);
  // Split gross so that no intermediate product can leave the safe range.
  const [q, r] = divideFloor(gross, 10_000);
  return checkedAdd(checkedMultiply(q, basisPoints), divideRoundHalfUp(r * basisPoints, 10_000));
}

function assertFee(fee: RelayFee): void {
  if (!Number.isSafeInteger(fee.basisPoints) || fee.basisPoints < 0 || fee.basisPoints > 10_000) {
    throw billingError('BILLING_ERR_TARIFF', `relay fee basisPoints must be an integer 0..10000, got ${String(fee.basisPoints)}`);
  }
  const f = fee.fixedPerSession;
  if (f && (!Number.isSafeInteger(f.amount) || f.amount < 0)) {
    throw billingError('BILLING_ERR_TARIFF', 'relay fee fixedPerSession must be a non-negative integer amount');
  }
}

/**
 * The relay's fee on a rated session: the fixed amount per session plus the
 * percentage of the session total.
 *
 * @throws BillingError `BILLING_ERR_CURRENCY_MISMATCH` when the fixed fee is
 *   in another currency than the session; `BILLING_ERR_TARIFF` for a bad fee.
 */
export function sessionFee(total: Money, fee: RelayFee): Money {
  assertFee(fee);
  let amount = percentageFee(total.amount, fee.basisPoints);
  const fixed = fee.fixedPerSession;
  if (fixed && fixed.amount !== 0) {
    if (fixed.currency !== total.currency) {
      throw billingError('BILLING_ERR_CURRENCY_MISMATCH', `fixed relay fee in ${fixed.currency} on a session in ${total.currency}`);
    }
    amount = checkedAdd(amount, fixed.amount);
  }
  return { amount, currency: total.currency };
}

/** The relay's fee on an application charge (or refund): the percentage only. */
export function chargeFee(total: Money, fee: RelayFee): Money {
  assertFee(fee);
  const amount = percentageFee(total.amount, fee.basisPoints);
  return { amount: amount === 0 ? 0 : amount, currency: total.currency };
}

function pair(
  out: LedgerEntry[],
  debitAccount: LedgerAccountId,
  creditAccount: LedgerAccountId,
  m: Money,
  kind: LedgerEntry['kind'],
  reference: LedgerReference,
  at: number,
): void {
  if (m.amount === 0) return;
  // A negative movement is the same movement the other way round.
  const [from, to, amount] = m.amount > 0 ? [debitAccount, creditAccount, m.amount] : [creditAccount, debitAccount, -m.amount];
  out.push({ account: from, side: 'debit', amount, currency: m.currency, kind, reference, at });
  out.push({ account: to, side: 'credit', amount, currency: m.currency, kind, reference, at });
}

/** Who a posting is between, and when. */
export interface PostingParties {
  readonly userId: string;
  /** The operator of the application server that served the session or made the charge. */
  readonly operatorId: string;
  /** The service's relay fee. */
  readonly fee: RelayFee;
  /** Posting instant, UTC epoch ms. */
  readonly at: number;
}

/**
 * The ledger entries of a rated session:
 *
 * | entry | debit | credit | amount |
 * | --- | --- | --- | --- |
 * | gross | `user:<user>` | `operator:<operator>` | session total |
 * | fee | `operator:<operator>` | `relay:revenue` | fixed + percentage |
 *
 * Entries of zero are left out (a free session with no fixed fee posts
 * nothing). Debits equal credits in the session's currency.
 *
 * @example
 * ```ts
 * postSession({ sessionId: 's1', rated, userId: 'alice', operatorId: 'acme',
 *               fee: { basisPoints: 1000 }, at: Date.UTC(2026, 0, 5) });
 * // 240 EUR-cents: alice debit 240 → acme credit 240; acme debit 24 → relay:revenue credit 24
 * ```
 */
export function postSession(p: PostingParties & { readonly sessionId: string; readonly rated: RatedSession }): LedgerEntry[] {
  const reference: LedgerReference = { type: 'session', id: p.sessionId };
  const operator = operatorAccountId(p.operatorId);
  const out: LedgerEntry[] = [];
  pair(out, userAccountId(p.userId), operator, p.rated.total, 'gross', reference, p.at);
  pair(out, operator, RELAY_REVENUE_ACCOUNT, sessionFee(p.rated.total, p.fee), 'fee', reference, p.at);
  return out;
}

/**
 * The ledger entries of an accepted application charge, or of a refund
 * (whose negative total reverses every movement, the relay's percentage
 * included):
 *
 * | entry | debit | credit | amount |
 * | --- | --- | --- | --- |
 * | gross | `user:<user>` | `operator:<operator>` | charge total |
 * | fee | `operator:<operator>` | `relay:revenue` | percentage of the total |
 *
 * @param chargeRef the stored charge's unique id (the idempotency key is only
 *   unique per application server).
 * @example
 * ```ts
 * postCharge({ chargeRef: 'c1', charge: order, userId: 'alice', operatorId: 'acme',
 *              fee: { basisPoints: 250 }, at: acceptedAt });
 * // 10.00 EUR: alice debit 1000 → acme credit 1000; acme debit 25 → relay:revenue credit 25
 * ```
 */
export function postCharge(p: PostingParties & { readonly chargeRef: string; readonly charge: Charge }): LedgerEntry[] {
  const reference: LedgerReference = { type: 'charge', id: p.chargeRef };
  const operator = operatorAccountId(p.operatorId);
  const total = chargeTotal(p.charge);
  const out: LedgerEntry[] = [];
  pair(out, userAccountId(p.userId), operator, total, 'gross', reference, p.at);
  pair(out, operator, RELAY_REVENUE_ACCOUNT, chargeFee(total, p.fee), 'fee', reference, p.at);
  return out;
}

/**
 * Debits minus credits per currency over `entries`. A set of whole postings
 * is balanced when every value is zero.
 */
export function ledgerImbalance(entries: Iterable<LedgerEntry>): Money[] {
  const totals = new CurrencyTotals();
  for (const e of entries) totals.add({ amount: e.side === 'debit' ? e.amount : -e.amount, currency: e.currency });
  return totals.toArray();
}

/**
 * True when debits equal credits in every currency.
 *
 * @example
 * ```ts
 * isBalanced(postSession({ sessionId, rated, userId, operatorId, fee, at })); // always true
 * ```
 */
export function isBalanced(entries: Iterable<LedgerEntry>): boolean {
  return ledgerImbalance(entries).every((m) => m.amount === 0);
}

/**
 * The balance of one account per currency, as debits minus credits: for a
 * user, what they spent; negative for an operator, what they are owed.
 *
 * @example
 * ```ts
 * accountBalance(entries, userAccountId('alice')); // [{ amount: 240, currency: 'EUR' }]
 * accountBalance(entries, RELAY_REVENUE_ACCOUNT);  // [{ amount: -24, currency: 'EUR' }]
 * ```
 */
export function accountBalance(entries: Iterable<LedgerEntry>, account: LedgerAccountId): Money[] {
  const totals = new CurrencyTotals();
  for (const e of entries) {
    if (e.account === account) totals.add({ amount: e.side === 'debit' ? e.amount : -e.amount, currency: e.currency });
  }
  return totals.toArray();
}
