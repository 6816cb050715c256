import type { Account } from '../store/account-repository.js';
import { billingUserId } from '../store/account-repository.js';
import type { Store } from '../store/store.js';

/** Options of {@link seedDemoAccounts}. */
export interface DemoAccountOptions {
  /** The demo users' domain. Default `portal.test`. */
  readonly domain?: string;
  /**
   * Operators to open accounts for. Default: the operators of every
   * application server in the store (the demo application servers must be
   * added first).
   */
  readonly operators?: readonly string[];
  /** Currency of every demo account. Default `EUR`. */
  readonly currency?: string;
}

/**
 * The demo's accounts (issue 4; `npm start`): alice prepaid with 50.00 EUR,
 * bob postpaid with a 100.00 EUR credit limit, an account for each
 * application-server operator, and the relay's revenue account. Accounts
 * that exist are left as they are, so a restart of the demo keeps what was
 * spent. Returns every demo account.
 */
export async function seedDemoAccounts(store: Store, options: DemoAccountOptions = {}): Promise<Account[]> {
  const domain = options.domain ?? 'portal.test';
  const currency = options.currency ?? 'EUR';
  const out: Account[] = [];
  const alice = billingUserId('alice', domain);
  const bob = billingUserId('bob', domain);
  out.push((await store.accounts.findUser(alice)) ?? (await store.accounts.setUser(alice, { mode: 'prepaid', currency, balance: 5000 }, 'demo')));
  out.push(
    (await store.accounts.findUser(bob)) ??
      (await store.accounts.setUser(bob, { mode: 'postpaid', currency, creditLimit: 10_000 }, 'demo')),
  );
  const operators = options.operators ?? [...new Set((await store.appServers.list()).map((a) => a.operator))].sort();
  for (const operator of operators) out.push(await store.accounts.ensure('operator', operator, currency));
  out.push(await store.accounts.ensure('relay', 'revenue', currency));
  return out;
}
