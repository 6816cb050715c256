import type { Kysely, Selectable } from 'kysely';
import type { Clock } from '../../sip/util/clock.js';
import { isCurrencyCode, type CurrencyCode } from '../billing/currency.js';
import { operatorAccountId, RELAY_REVENUE_ACCOUNT, userAccountId, type LedgerEntry } from '../billing/ledger.js';
import type { Money } from '../billing/money.js';
import type { AccountAdjustmentsTable, AccountsTable, Database } from './database.js';
import type { StoreDialect } from './database-url.js';
import { storeError } from './store-error.js';
import { writeTransaction } from './write-transaction.js';

/** How a user pays: from a balance paid in first, or afterwards up to a credit limit. */
export type CreditMode = 'prepaid' | 'postpaid';

/** Who a ledger account belongs to. */
export type AccountKind = 'user' | 'operator' | 'relay';

/** A ledger account and, for a user, its credit terms. */
export interface Account {
  readonly id: number;
  /** The ledger account id: `user:alice@portal.test`, `operator:acme`, `relay:revenue`. */
  readonly account: string;
  readonly kind: AccountKind;
  /** The user id, the operator's name, or `revenue`. */
  readonly owner: string;
  /** Set for users. */
  readonly creditMode: CreditMode | null;
  readonly currency: CurrencyCode;
  /**
   * For users: money paid in less everything posted against them in
   * `currency` (integer minor units). A prepaid user may spend it; a
   * postpaid user owes `-balance`. For operators and the relay, 0: their
   * earnings are read from the ledger (settlements).
   */
  readonly balance: number;
  /** Set exactly for postpaid users. */
  readonly creditLimit: number | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** The credit terms an operator gives a user. */
export type UserAccountTerms =
  | { readonly mode: 'prepaid'; readonly currency: string; readonly balance?: number }
  | { readonly mode: 'postpaid'; readonly currency: string; readonly creditLimit: number; readonly balance?: number };

/** One change an operator made to an account (the audit trail of balances). */
export interface AccountAdjustment {
  readonly id: number;
  readonly account: string;
  readonly kind: 'open' | 'topup' | 'set-balance' | 'set-credit-limit' | 'set-mode';
  /** The top-up, or the change of balance or limit; null for `set-mode`. */
  readonly amount: number | null;
  readonly currency: CurrencyCode;
  readonly balanceAfter: number;
  readonly creditLimitAfter: number | null;
  readonly note: string | null;
  readonly at: number;
}

/**
 * The billing id of a user: `username@domain`, the domain lower-case
 * (usernames are case-sensitive, RFC 3261 §19.1.4). Ledger account
 * `user:<id>`, bills and session records use it.
 */
export function billingUserId(username: string, domain: string): string {
  return `${username}@${domain.toLowerCase()}`;
}

const MAX = Number.MAX_SAFE_INTEGER;

function checkAmount(v: unknown, what: string, min = -MAX): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw storeError('STORE_ERR_INVALID', `${what} must be an integer count of minor units${min === 0 ? ' ≥ 0' : ''}`);
  }
  return v;
}

function checkCurrency(c: unknown): CurrencyCode {
  if (!isCurrencyCode(c)) throw storeError('STORE_ERR_INVALID', `currency ${JSON.stringify(c)} is not an ISO 4217 code such as EUR`);
  return c;
}

/**
 * Ledger accounts and users' credit terms. Users' balances move in the same
 * transaction as the ledger postings that move them ({@link applyPostings});
 * operators set terms and top up with {@link setUser} and {@link topUp},
 * each recorded as an {@link AccountAdjustment}.
 */
export class AccountRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly clock: Pick<Clock, 'wallNow'>,
    private readonly dialect: StoreDialect,
    private readonly inTransaction = false,
  ) {}

  /** The same repository working inside the transaction `trx`. */
  withExecutor(trx: Kysely<Database>): AccountRepository {
    return new AccountRepository(trx, this.clock, this.dialect, true);
  }

  /** An account by its ledger id (`user:alice@portal.test`). */
  async find(account: string): Promise<Account | undefined> {
    const row = await this.db.selectFrom('accounts').selectAll().where('account', '=', account).executeTakeFirst();
    return row && toAccount(row);
  }

  /** A user's account by billing user id (`alice@portal.test`). */
  findUser(userId: string): Promise<Account | undefined> {
    return this.find(userAccountId(userId));
  }

  /**
   * A user's account, locked against concurrent postings until the
   * transaction ends (PostgreSQL `FOR UPDATE`; SQLite transactions already
   * hold the one write lock). Use inside a transaction.
   */
  async lockUser(userId: string): Promise<Account | undefined> {
    const row = await this.db
      .selectFrom('accounts')
      .selectAll()
      .where('account', '=', userAccountId(userId))
      .$if(this.dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    return row && toAccount(row);
  }

  /** Accounts by kind, then ledger id. */
  async list(filter: { kind?: AccountKind } = {}): Promise<Account[]> {
    let q = this.db.selectFrom('accounts').selectAll().orderBy('kind').orderBy('account');
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    return (await q.execute()).map(toAccount);
  }

  /**
   * Opens a user's account or changes its terms. A balance given is set
   * as is (`set-balance`); otherwise the balance stays. Changing the mode
   * or the currency keeps the balance only when the currency stays.
   *
   * @throws StoreError `STORE_ERR_INVALID` for a bad currency or amount.
   */
  async setUser(userId: string, terms: UserAccountTerms, note: string | null = null): Promise<Account> {
    if (typeof userId !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(userId)) {
      throw storeError('STORE_ERR_INVALID', `user ${JSON.stringify(userId)} must be user@domain`);
    }
    const mode = terms.mode;
    if (mode !== 'prepaid' && mode !== 'postpaid') throw storeError('STORE_ERR_INVALID', 'mode must be prepaid or postpaid');
    const currency = checkCurrency(terms.currency);
    const balance = terms.balance === undefined ? undefined : checkAmount(terms.balance, 'balance');
    const creditLimit = mode === 'postpaid' ? checkAmount(terms.creditLimit, 'credit limit', 0) : null;
    return this.transaction(async (repo) => {
      const now = repo.clock.wallNow();
      const account = userAccountId(userId);
      const current = await repo.lockUser(userId);
      if (!current) {
        const row = await repo.db
          .insertInto('accounts')
          .values({
            account,
            kind: 'user',
            owner: userId,
            credit_mode: mode,
            currency,
            balance: balance ?? 0,
            credit_limit: creditLimit,
            created_at: now,
            updated_at: now,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await repo.adjust(row, 'open', balance ?? null, note, now);
        return toAccount(row);
      }
      const sameCurrency = current.currency === currency;
      const nextBalance = balance ?? (sameCurrency ? current.balance : 0);
      const row = await repo.db
        .updateTable('accounts')
        .set({ credit_mode: mode, currency, balance: nextBalance, credit_limit: creditLimit, updated_at: now })
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      if (current.creditMode !== mode || !sameCurrency) await repo.adjust(row, 'set-mode', null, note, now);
      if (nextBalance !== current.balance || !sameCurrency) {
        await repo.adjust(row, 'set-balance', nextBalance - (sameCurrency ? current.balance : 0), note, now);
      }
      if (creditLimit !== current.creditLimit && creditLimit !== null) {
        await repo.adjust(row, 'set-credit-limit', creditLimit - (current.creditLimit ?? 0), note, now);
      }
      return toAccount(row);
    });
  }

  /**
   * Adds money paid in by (or for) a user: the prepaid balance grows, or
   * the postpaid debt shrinks.
   *
   * @throws StoreError `STORE_ERR_NOT_FOUND` when the user has no account;
   *   `STORE_ERR_INVALID` for a non-positive amount or another currency.
   */
  async topUp(userId: string, amount: Money, note: string | null = null): Promise<Account> {
    checkAmount(amount.amount, 'top-up', 1);
    const currency = checkCurrency(amount.currency);
    return this.transaction(async (repo) => {
      const current = await repo.lockUser(userId);
      if (!current) throw storeError('STORE_ERR_NOT_FOUND', `user ${userId} has no account; open one first`);
      if (current.currency !== currency) {
        throw storeError('STORE_ERR_INVALID', `the account of ${userId} is in ${current.currency}, not ${currency}`);
      }
      const now = repo.clock.wallNow();
      const row = await repo.db
        .updateTable('accounts')
        .set((eb) => ({ balance: eb('balance', '+', amount.amount), updated_at: now }))
        .where('id', '=', current.id)
        .returningAll()
        .executeTakeFirstOrThrow();
      await repo.adjust(row, 'topup', amount.amount, note, now);
      return toAccount(row);
    });
  }

  /**
   * Makes sure the account of an operator (or the relay's revenue account)
   * exists; `currency` is the one it is opened in. Returns it.
   */
  async ensure(kind: 'operator' | 'relay', owner: string, currency: string): Promise<Account> {
    const c = checkCurrency(currency);
    const account = kind === 'relay' ? RELAY_REVENUE_ACCOUNT : operatorAccountId(owner);
    const now = this.clock.wallNow();
    await this.db
      .insertInto('accounts')
      .values({
        account,
        kind,
        owner: kind === 'relay' ? 'revenue' : owner,
        credit_mode: null,
        currency: c,
        balance: 0,
        credit_limit: null,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('account').doNothing())
      .execute();
    return (await this.find(account))!;
  }

  /**
   * Moves users' balances by ledger entries just posted: a debit of
   * `user:<id>` lowers the balance, a credit raises it. Entries in another
   * currency than the account's, and accounts that do not exist, are
   * left alone (the ledger stays the record of them). Call in the
   * transaction that inserts the entries.
   */
  async applyPostings(entries: readonly LedgerEntry[]): Promise<void> {
    const deltas = new Map<string, Map<string, number>>();
    for (const e of entries) {
      if (!e.account.startsWith('user:')) continue;
      let byCurrency = deltas.get(e.account);
      if (!byCurrency) deltas.set(e.account, (byCurrency = new Map()));
      byCurrency.set(e.currency, (byCurrency.get(e.currency) ?? 0) + (e.side === 'debit' ? -e.amount : e.amount));
    }
    const now = this.clock.wallNow();
    for (const [account, byCurrency] of deltas) {
      for (const [currency, delta] of byCurrency) {
        if (delta === 0) continue;
        await this.db
          .updateTable('accounts')
          .set((eb) => ({ balance: eb('balance', '+', delta), updated_at: now }))
          .where('account', '=', account)
          .where('currency', '=', currency)
          .execute();
      }
    }
  }

  /** The adjustments of an account, oldest first. */
  async adjustments(account: string): Promise<AccountAdjustment[]> {
    const rows = await this.db
      .selectFrom('account_adjustments as j')
      .innerJoin('accounts as a', 'a.id', 'j.account_id')
      .selectAll('j')
      .select('a.account')
      .where('a.account', '=', account)
      .orderBy('j.id')
      .execute();
    return rows.map(toAdjustment);
  }

  private async adjust(
    row: Selectable<AccountsTable>,
    kind: AccountAdjustment['kind'],
    amount: number | null,
    note: string | null,
    at: number,
  ): Promise<void> {
    await this.db
      .insertInto('account_adjustments')
      .values({
        account_id: row.id,
        kind,
        amount,
        currency: row.currency,
        balance_after: Number(row.balance),
        credit_limit_after: row.credit_limit === null ? null : Number(row.credit_limit),
        note,
        at,
      })
      .execute();
  }

  private transaction<T>(fn: (repo: AccountRepository) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    return writeTransaction(this.db, this.dialect, (trx) => fn(this.withExecutor(trx)));
  }
}

function toAccount(row: Selectable<AccountsTable>): Account {
  return {
    id: Number(row.id),
    account: row.account,
    kind: row.kind as AccountKind,
    owner: row.owner,
    creditMode: row.credit_mode as CreditMode | null,
    currency: row.currency as CurrencyCode,
    balance: Number(row.balance),
    creditLimit: row.credit_limit === null ? null : Number(row.credit_limit),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

function toAdjustment(row: Selectable<AccountAdjustmentsTable> & { account: string }): AccountAdjustment {
  return {
    id: Number(row.id),
    account: row.account,
    kind: row.kind as AccountAdjustment['kind'],
    amount: row.amount === null ? null : Number(row.amount),
    currency: row.currency as CurrencyCode,
    balanceAfter: Number(row.balance_after),
    creditLimitAfter: row.credit_limit_after === null ? null : Number(row.credit_limit_after),
    note: row.note,
    at: Number(row.at),
  };
}
