import { sql, type Kysely, type Selectable } from 'kysely';
import type { BillPeriod } from '../billing/bill-period.js';
import type { CurrencyCode } from '../billing/currency.js';
import type { LedgerEntry, LedgerReference } from '../billing/ledger.js';
import type { Money } from '../billing/money.js';
import type { Database, LedgerEntriesTable } from './database.js';

/**
 * The ledger: balanced double-entry postings made by the billing core
 * (`postSession`, `postCharge`) and stored as they are. Entries are only
 * ever inserted, never changed; bills and settlements are read from them.
 */
export class LedgerRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The same repository working inside the transaction `trx`. */
  withExecutor(trx: Kysely<Database>): LedgerRepository {
    return new LedgerRepository(trx);
  }

  /** Stores the entries of one or more postings, in one statement. */
  async insert(entries: readonly LedgerEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.db
      .insertInto('ledger_entries')
      .values(
        entries.map((e) => ({
          account: e.account,
          side: e.side,
          amount: e.amount,
          currency: e.currency,
          kind: e.kind,
          ref_type: e.reference.type,
          ref_id: e.reference.id,
          at: e.at,
        })),
      )
      .execute();
  }

  /** Entries of one account posted in `period` (or all), in posting order. */
  async forAccount(account: string, period?: Pick<BillPeriod, 'start' | 'end'>): Promise<LedgerEntry[]> {
    let q = this.db.selectFrom('ledger_entries').selectAll().where('account', '=', account).orderBy('at').orderBy('id');
    if (period) q = q.where('at', '>=', period.start).where('at', '<', period.end);
    return (await q.execute()).map(toEntry);
  }

  /** Entries of one session or charge. */
  async forReference(reference: LedgerReference): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('ref_type', '=', reference.type)
      .where('ref_id', '=', reference.id)
      .orderBy('id')
      .execute();
    return rows.map(toEntry);
  }

  /** Entries posted in `period`, every account. */
  async inPeriod(period: Pick<BillPeriod, 'start' | 'end'>): Promise<LedgerEntry[]> {
    const rows = await this.db
      .selectFrom('ledger_entries')
      .selectAll()
      .where('at', '>=', period.start)
      .where('at', '<', period.end)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map(toEntry);
  }

  /**
   * Debits minus credits of an account per currency, over everything
   * posted (or in `period`). Summed in SQL as text so that PostgreSQL's
   * numeric sum reads back exactly.
   */
  async balance(account: string, period?: Pick<BillPeriod, 'start' | 'end'>): Promise<Money[]> {
    let q = this.db
      .selectFrom('ledger_entries')
      .select([
        'currency',
        sql<string>`cast(sum(case when side = 'debit' then amount else -amount end) as text)`.as('net'),
      ])
      .where('account', '=', account)
      .groupBy('currency')
      .orderBy('currency');
    if (period) q = q.where('at', '>=', period.start).where('at', '<', period.end);
    return (await q.execute()).map((r) => ({ amount: Number(r.net), currency: r.currency as CurrencyCode }));
  }

  /** Operators with entries in `period`, sorted. */
  async operatorsInPeriod(period: Pick<BillPeriod, 'start' | 'end'>): Promise<string[]> {
    const rows = await this.db
      .selectFrom('ledger_entries')
      .select('account')
      .distinct()
      .where('account', 'like', 'operator:%')
      .where('at', '>=', period.start)
      .where('at', '<', period.end)
      .orderBy('account')
      .execute();
    return rows.map((r) => r.account.slice('operator:'.length));
  }
}

function toEntry(row: Selectable<LedgerEntriesTable>): LedgerEntry {
  return {
    account: row.account,
    side: row.side as LedgerEntry['side'],
    amount: Number(row.amount),
    currency: row.currency as CurrencyCode,
    kind: row.kind as LedgerEntry['kind'],
    reference: { type: row.ref_type as LedgerReference['type'], id: row.ref_id },
    at: Number(row.at),
  };
}
