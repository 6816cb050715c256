import { isBillingError } from '../../billing/billing-error.js';
import { billPeriod, parseBillPeriod, type BillPeriod } from '../../billing/bill-period.js';
import { moneyToDecimalString, parseMoney, type Money } from '../../billing/money.js';
import { billingUserId } from '../../store/account-repository.js';
import type { CliContext } from '../cli-context.js';
import { usageError } from '../cli-error.js';

/** `alice@portal.test` as is; `alice` in `--domain` or the first configured domain. */
export function billingUserOf(ctx: CliContext, user: string, domain?: string): string {
  const at = user.lastIndexOf('@');
  if (at > 0) return billingUserId(user.slice(0, at), user.slice(at + 1));
  return billingUserId(user, domain ?? ctx.defaultDomain);
}

/** `--period 2026-11` (or a week or a day); default the current month (UTC). */
export function periodOf(label: string | undefined): BillPeriod {
  if (label === undefined) return billPeriod(Date.now());
  try {
    return parseBillPeriod(label);
  } catch {
    throw usageError(`--period ${label} is not a period: give a month (2026-11), an ISO week (2026-W45) or a day (2026-11-05)`);
  }
}

/**
 * An amount an operator typed: `20.00 EUR` as two words or one, or the
 * amount alone with the currency from `fallbackCurrency`. Exact: more
 * decimals than the currency has are refused.
 */
export function moneyOf(words: readonly string[] | string, what: string, fallbackCurrency?: string): Money {
  const parts = (Array.isArray(words) ? words.join(' ') : String(words)).trim().split(/\s+/);
  const [amount, currency = fallbackCurrency] = parts;
  if (parts.length > 2 || !amount) throw usageError(`${what}: give an amount and a currency, e.g. 20.00 EUR`);
  if (!currency) throw usageError(`${what}: give the currency too, e.g. ${amount} EUR`);
  try {
    return parseMoney(amount, currency);
  } catch (e) {
    if (isBillingError(e)) throw usageError(`${what}: ${e.message}`);
    throw e;
  }
}

/** `20.00 EUR`. */
export function showMoney(m: Money | null | undefined): string {
  return m ? `${moneyToDecimalString(m)} ${m.currency}` : '-';
}
