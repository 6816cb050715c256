/**
 * Money for people: an integer count of minor units and an ISO 4217 code,
 * shown in the currency's own format (`2450, 'EUR'` → `€24.50`).
 *
 * @example
 * ```ts
 * formatMoney(2450, 'EUR'); // '€24.50'
 * formatMoney(-990, 'EUR'); // '-€9.90'
 * ```
 */
export function formatMoney(minor: number, currency: string): string {
  const format = new Intl.NumberFormat('en-GB', { style: 'currency', currency });
  const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
  return format.format(minor / 10 ** digits);
}
