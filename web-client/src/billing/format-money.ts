/**
 * Decimals of a currency's minor unit (ISO 4217): 2 unless listed. The
 * portal shows what the relay sends, so it needs only the exceptions that
 * the relay's billing core accepts (docs/billing.md, "Money and time").
 */
const MINOR_DIGITS: Readonly<Record<string, number>> = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
  BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3,
  CLF: 4, UYW: 4,
};

/**
 * How many decimals `currency` has.
 *
 * @example
 * ```ts
 * minorDigits('EUR'); // 2
 * minorDigits('JPY'); // 0
 * ```
 */
export function minorDigits(currency: string): number {
  return MINOR_DIGITS[currency] ?? 2;
}

/**
 * The exact decimal string of an integer count of minor units, with the
 * currency's number of decimals: `240 EUR` → `"2.40"`, `-5 EUR` → `"-0.05"`.
 * Integer and string arithmetic only: money is never a float here.
 *
 * @example
 * ```ts
 * toDecimalString(2450, 'EUR'); // "24.50"
 * ```
 */
export function toDecimalString(amount: number, currency: string): string {
  if (!Number.isSafeInteger(amount)) throw new TypeError(`amount must be an integer count of minor units, got ${String(amount)}`);
  const digits = minorDigits(currency);
  const negative = amount < 0;
  const s = String(Math.abs(amount)).padStart(digits + 1, '0');
  const whole = s.slice(0, s.length - digits);
  const frac = digits > 0 ? '.' + s.slice(s.length - digits) : '';
  return (negative ? '-' : '') + whole + frac;
}

/**
 * Money for people: `formatMoney(240, 'EUR')` → `€2.40`, with the
 * currency's ISO number of decimals. The exact decimal string is what is
 * formatted (Intl.NumberFormat accepts numeric strings), so large amounts
 * print exactly; an unknown code prints as `2.40 XYZ`.
 *
 * @example
 * ```ts
 * formatMoney(1799, 'EUR'); // "€17.99"
 * formatMoney(500, 'JPY');  // "¥500"
 * ```
 */
export function formatMoney(amount: number, currency: string, locale = 'en'): string {
  const decimal = toDecimalString(amount, currency);
  const digits = minorDigits(currency);
  try {
    const format = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    // A numeric string keeps every digit (ECMA-402 Intl.NumberFormat v3); the cast is for older lib typings.
    return format.format(decimal as unknown as number);
  } catch {
    return `${decimal} ${currency}`;
  }
}

/** An amount in minor units with its ISO 4217 code, as the relay sends money. */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

/**
 * Sums amounts per currency, never across currencies; the result is sorted
 * by code.
 *
 * @example
 * ```ts
 * sumByCurrency([{ amount: 100, currency: 'EUR' }, { amount: 5, currency: 'EUR' }]); // [{ amount: 105, currency: 'EUR' }]
 * ```
 */
export function sumByCurrency(amounts: Iterable<Money>): Money[] {
  const totals = new Map<string, number>();
  for (const m of amounts) totals.set(m.currency, (totals.get(m.currency) ?? 0) + m.amount);
  return [...totals].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([currency, amount]) => ({ amount, currency }));
}

/**
 * Several currencies' totals on one line: `€2.40 + $19.99`, or the given
 * text for none.
 *
 * @example
 * ```ts
 * formatTotals([{ amount: 240, currency: 'EUR' }]); // "€2.40"
 * ```
 */
export function formatTotals(totals: readonly Money[], none = '—', locale = 'en'): string {
  if (totals.length === 0) return none;
  return totals.map((m) => formatMoney(m.amount, m.currency, locale)).join(' + ');
}
