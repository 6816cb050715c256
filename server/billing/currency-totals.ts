import type { CurrencyCode } from './currency.js';
import type { Money } from './money.js';
import { checkedAdd } from './safe-integer.js';

/**
 * Running totals kept per currency: amounts in different currencies are never
 * added together, each currency has its own sum. Bills, settlements and charge
 * totals report what this collects.
 *
 * @example
 * ```ts
 * const totals = new CurrencyTotals();
 * totals.add(money(240, 'EUR')).add(money(100, 'USD')).add(money(60, 'EUR'));
 * totals.toArray(); // [{ amount: 300, currency: 'EUR' }, { amount: 100, currency: 'USD' }]
 * ```
 */
export class CurrencyTotals {
  private readonly sums = new Map<CurrencyCode, number>();

  /**
   * Adds `m` to the total of its currency.
   * @throws BillingError `BILLING_ERR_OVERFLOW` when a total leaves the safe range.
   */
  add(m: Money): this {
    this.sums.set(m.currency, checkedAdd(this.sums.get(m.currency) ?? 0, m.amount));
    return this;
  }

  /** Adds every amount of `amounts`. */
  addAll(amounts: Iterable<Money>): this {
    for (const m of amounts) this.add(m);
    return this;
  }

  /** The total in `currency` (zero when nothing was added in it). */
  get(currency: CurrencyCode): Money {
    const amount = this.sums.get(currency) ?? 0;
    return { amount: amount === 0 ? 0 : amount, currency };
  }

  /** True when an amount in `currency` was added (even if it summed to zero). */
  has(currency: CurrencyCode): boolean {
    return this.sums.has(currency);
  }

  /** The currencies seen, sorted by code. */
  currencies(): CurrencyCode[] {
    return [...this.sums.keys()].sort();
  }

  /** One {@link Money} per currency seen, sorted by code; zero totals included. */
  toArray(): Money[] {
    return this.currencies().map((c) => this.get(c));
  }
}

/**
 * Sums amounts per currency, sorted by currency code. Never adds different
 * currencies.
 *
 * @throws BillingError `BILLING_ERR_OVERFLOW`.
 * @example
 * ```ts
 * sumByCurrency([money(1, 'USD'), money(2, 'EUR'), money(3, 'USD')]);
 * // [{ amount: 2, currency: 'EUR' }, { amount: 4, currency: 'USD' }]
 * ```
 */
export function sumByCurrency(amounts: Iterable<Money>): Money[] {
  return new CurrencyTotals().addAll(amounts).toArray();
}
