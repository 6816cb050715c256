import { z } from 'zod';
import { billingError } from './billing-error.js';
import { currencyExponent, isCurrencyCode, type CurrencyCode } from './currency.js';
import { checkedAdd, checkedMultiply, checkedSubtract } from './safe-integer.js';

/**
 * An amount of money: an integer count of the currency's minor unit (cents for
 * EUR, yen for JPY, fils for KWD) and an ISO 4217 code. Never a float — the
 * wire contract of the design brief. `amount` is a safe integer and may be
 * negative (refunds, credits).
 *
 * @example
 * ```ts
 * const price: Money = money(240, 'EUR'); // 2.40 EUR
 * ```
 */
export interface Money {
  /** Integer minor units, |amount| ≤ Number.MAX_SAFE_INTEGER. */
  readonly amount: number;
  readonly currency: CurrencyCode;
}

/**
 * Makes a {@link Money}, checking both parts.
 *
 * @throws BillingError `BILLING_ERR_AMOUNT` when `amount` is not a safe
 *   integer (fractions, NaN, ±Infinity, beyond ±(2**53 − 1));
 *   `BILLING_ERR_CURRENCY` when `currency` is not an active ISO 4217 code.
 *
 * @example
 * ```ts
 * money(1999, 'USD');   // 19.99 USD
 * money(500, 'JPY');    // ¥500
 * money(1.5, 'EUR');    // throws BILLING_ERR_AMOUNT
 * money(100, 'eur');    // throws BILLING_ERR_CURRENCY
 * ```
 */
export function money(amount: number, currency: string): Money {
  if (!Number.isSafeInteger(amount)) {
    throw billingError('BILLING_ERR_AMOUNT', `amount must be an integer count of minor units within the safe range, got ${String(amount)}`);
  }
  if (!isCurrencyCode(currency)) {
    throw billingError('BILLING_ERR_CURRENCY', `unknown ISO 4217 currency code ${JSON.stringify(currency)}`);
  }
  return { amount: amount === 0 ? 0 : amount, currency };
}

/** Zero in `currency`. */
export function zeroMoney(currency: CurrencyCode): Money {
  return { amount: 0, currency };
}

/** True when `value` is a well-formed {@link Money} (a plain object, safe integer, known code). */
export function isMoney(value: unknown): value is Money {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as { amount?: unknown; currency?: unknown };
  return typeof v.amount === 'number' && Number.isSafeInteger(v.amount) && isCurrencyCode(v.currency);
}

function sameCurrency(a: Money, b: Money, op: string): void {
  if (a.currency !== b.currency) {
    throw billingError('BILLING_ERR_CURRENCY_MISMATCH', `cannot ${op} ${a.currency} and ${b.currency}`);
  }
}

/**
 * `a + b` in their common currency.
 *
 * @throws BillingError `BILLING_ERR_CURRENCY_MISMATCH`, `BILLING_ERR_OVERFLOW`.
 * @example
 * ```ts
 * addMoney(money(120, 'EUR'), money(5, 'EUR')); // { amount: 125, currency: 'EUR' }
 * ```
 */
export function addMoney(a: Money, b: Money): Money {
  sameCurrency(a, b, 'add');
  return { amount: checkedAdd(a.amount, b.amount), currency: a.currency };
}

/**
 * `a − b` in their common currency.
 *
 * @throws BillingError `BILLING_ERR_CURRENCY_MISMATCH`, `BILLING_ERR_OVERFLOW`.
 */
export function subtractMoney(a: Money, b: Money): Money {
  sameCurrency(a, b, 'subtract');
  const r = checkedSubtract(a.amount, b.amount);
  return { amount: r === 0 ? 0 : r, currency: a.currency };
}

/**
 * `m × quantity` for an integer quantity (a unit price times a count).
 * Money is never multiplied by a fraction here: rates and percentages round,
 * and their rounding is part of the rule that uses them (see docs/billing.md).
 *
 * @throws BillingError `BILLING_ERR_AMOUNT` when `quantity` is not a safe integer;
 *   `BILLING_ERR_OVERFLOW` when the product leaves the safe range.
 * @example
 * ```ts
 * multiplyMoney(money(1250, 'EUR'), 3); // 37.50 EUR
 * ```
 */
export function multiplyMoney(m: Money, quantity: number): Money {
  if (!Number.isSafeInteger(quantity)) {
    throw billingError('BILLING_ERR_AMOUNT', `quantity must be an integer, got ${String(quantity)}`);
  }
  return { amount: checkedMultiply(m.amount, quantity), currency: m.currency };
}

/** `−m`. */
export function negateMoney(m: Money): Money {
  return { amount: m.amount === 0 ? 0 : -m.amount, currency: m.currency };
}

/**
 * −1, 0 or 1 as `a` is less than, equal to or greater than `b`.
 *
 * @throws BillingError `BILLING_ERR_CURRENCY_MISMATCH`.
 */
export function compareMoney(a: Money, b: Money): -1 | 0 | 1 {
  sameCurrency(a, b, 'compare');
  return a.amount < b.amount ? -1 : a.amount > b.amount ? 1 : 0;
}

/**
 * The amount as an exact decimal string in major units, with exactly as many
 * decimals as the currency's minor unit has: what CSV files and machine
 * readers get. No grouping, `.` as the separator, `-` for negatives.
 *
 * @example
 * ```ts
 * moneyToDecimalString(money(-5, 'EUR'));     // "-0.05"
 * moneyToDecimalString(money(1500, 'JPY'));   // "1500"
 * moneyToDecimalString(money(1234, 'KWD'));   // "1.234"
 * ```
 */
export function moneyToDecimalString(m: Money): string {
  const exp = currencyExponent(m.currency);
  const negative = m.amount < 0;
  // Digits from the integer itself, so no float division can round them.
  const digits = String(Math.abs(m.amount));
  if (exp === 0) return (negative ? '-' : '') + digits;
  const padded = digits.padStart(exp + 1, '0');
  const cut = padded.length - exp;
  return (negative ? '-' : '') + padded.slice(0, cut) + '.' + padded.slice(cut);
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Parses a decimal amount in major units ("12.30", "-0.5", "1500") into
 * {@link Money}, exactly. For operators' input (CLI top-ups, config); the wire
 * carries integer minor units. More decimals than the currency has are
 * refused rather than rounded, so no input is silently changed.
 *
 * @throws BillingError `BILLING_ERR_AMOUNT` for malformed or too precise input,
 *   `BILLING_ERR_CURRENCY`, `BILLING_ERR_OVERFLOW`.
 * @example
 * ```ts
 * parseMoney('12.3', 'EUR');  // { amount: 1230, currency: 'EUR' }
 * parseMoney('0.001', 'EUR'); // throws BILLING_ERR_AMOUNT
 * ```
 */
export function parseMoney(decimal: string, currency: string): Money {
  if (!isCurrencyCode(currency)) {
    throw billingError('BILLING_ERR_CURRENCY', `unknown ISO 4217 currency code ${JSON.stringify(currency)}`);
  }
  const m = DECIMAL.exec(decimal.trim());
  if (!m) throw billingError('BILLING_ERR_AMOUNT', `not a decimal amount: ${JSON.stringify(decimal)}`);
  const exp = currencyExponent(currency);
  const fraction = m[3] ?? '';
  if (fraction.length > exp) {
    throw billingError('BILLING_ERR_AMOUNT', `${currency} has ${exp} decimal places; got ${JSON.stringify(decimal)}`);
  }
  const digits = (m[2] + fraction.padEnd(exp, '0')).replace(/^0+(?=\d)/, '');
  const amount = Number(digits);
  if (!Number.isSafeInteger(amount)) throw billingError('BILLING_ERR_OVERFLOW', `amount ${decimal} is too large`);
  return { amount: m[1] && amount !== 0 ? -amount : amount, currency };
}

const formatters = new Map<string, Intl.NumberFormat>();
/** Bounds the formatter cache, since locales may come from user input. */
const MAX_FORMATTERS = 64;

function formatter(locale: string, currency: CurrencyCode): Intl.NumberFormat {
  const key = locale + '|' + currency;
  let f = formatters.get(key);
  if (!f) {
    const exp = currencyExponent(currency);
    const options: Intl.NumberFormatOptions = {
      style: 'currency',
      currency,
      // ISO 4217 decides the decimals, not CLDR (which shows e.g. IRR with 0).
      minimumFractionDigits: exp,
      maximumFractionDigits: exp,
    };
    try {
      f = new Intl.NumberFormat(locale, options);
    } catch (e) {
      // A malformed locale tag (from an Accept-Language header, say) must not
      // break a bill page: fall back to English.
      if (!(e instanceof RangeError)) throw e;
      f = new Intl.NumberFormat('en', options);
    }
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    formatters.set(key, f);
  }
  return f;
}

/**
 * The amount for people to read, in `locale`'s conventions (symbol, grouping,
 * decimal separator), always with the currency's ISO 4217 number of decimals.
 * Exact for every safe amount: Intl formats the decimal string, not a float.
 * An invalid locale tag falls back to `'en'`.
 *
 * @param locale BCP 47 tag; default `'en'` so that output does not depend on
 *   the host's locale.
 * @example
 * ```ts
 * formatMoney(money(240, 'EUR'));           // "€2.40"
 * formatMoney(money(123456, 'EUR'), 'de');  // "1.234,56 €"
 * formatMoney(money(500, 'JPY'), 'ja');     // "￥500"
 * ```
 */
export function formatMoney(m: Money, locale = 'en'): string {
  return formatter(locale, m.currency).format(moneyToDecimalString(m) as `${number}`);
}

/**
 * Zod schema of {@link Money} as it appears in JSON bodies and config:
 * `{ "amount": 240, "currency": "EUR" }`, unknown keys refused.
 */
export const moneySchema = z.strictObject({
  amount: z.int({ error: 'must be an integer count of minor units' }),
  currency: z.custom<CurrencyCode>(isCurrencyCode, { error: 'must be an ISO 4217 currency code' }),
});

// Summing per currency lives with its accumulator; re-exported here because it is part of what money offers.
export { sumByCurrency } from './currency-totals.js';
