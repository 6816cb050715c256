import type { CreditAccount } from '../billing/credit.js';
import type { CurrencyCode } from '../billing/currency.js';
import type { Account } from '../store/account-repository.js';

/**
 * What a user without an account may spend: `none` (the default) treats
 * them as an empty prepaid account — free services work, anything priced
 * gets 402 — and `unlimited` as a postpaid account without a practical
 * limit (for closed deployments and tests).
 */
export type AccountlessCredit = 'none' | 'unlimited';

/**
 * The billing core's view of a user's credit. `currency` is the currency of
 * the price at hand, used only for a user without an account.
 */
export function creditAccountOf(account: Account | undefined, currency: CurrencyCode, accountless: AccountlessCredit): CreditAccount {
  if (!account || account.creditMode === null) {
    return accountless === 'unlimited'
      ? { kind: 'postpaid', currency, creditLimit: Number.MAX_SAFE_INTEGER, owed: 0 }
      : { kind: 'prepaid', currency, balance: 0 };
  }
  if (account.creditMode === 'prepaid') return { kind: 'prepaid', currency: account.currency, balance: account.balance };
  return { kind: 'postpaid', currency: account.currency, creditLimit: account.creditLimit ?? 0, owed: -account.balance };
}
