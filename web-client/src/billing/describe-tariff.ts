import { formatMoney } from './format-money.js';
import type { TimeTariff } from './time-tariff.js';

/**
 * A tariff in words, for the catalogue and the pane: `€1.20 per minute ·
 * billed in 60 s steps · first 30 s free · €0.50 per session`; `undefined`
 * tariff: `Time is free`.
 *
 * @example
 * ```ts
 * describeTariff(undefined); // "Time is free"
 * ```
 */
export function describeTariff(tariff: TimeTariff | undefined, locale = 'en'): string {
  if (!tariff) return 'Time is free';
  const money = (m: number) => formatMoney(m, tariff.currency, locale);
  const parts = [`${money(tariff.pricePerMinute)} per minute`];
  const { first, next } = tariff.increments;
  if (first === next) {
    if (first !== 1) parts.push(`billed in ${first} s steps`);
    else parts.push('billed by the second');
  } else {
    parts.push(`first ${first} s, then ${next} s steps`);
  }
  if (tariff.freeSeconds > 0) parts.push(`first ${tariff.freeSeconds} s free`);
  if (tariff.minimumBillableSeconds > 0) parts.push(`at least ${tariff.minimumBillableSeconds} s`);
  if (tariff.setupFee > 0) parts.push(`${money(tariff.setupFee)} per session`);
  return parts.join(' · ');
}
