import type { Kysely, Selectable } from 'kysely';
import type { BillPeriod } from '../billing/bill-period.js';
import type { BillableCharge } from '../billing/bill.js';
import type { Charge, ChargeRecord } from '../billing/charge.js';
import type { CurrencyCode } from '../billing/currency.js';
import type { Money } from '../billing/money.js';
import type { ChargesTable, Database } from './database.js';

/** How a charge reached the relay (design brief, flow 6). */
export type ChargeRoute = 'info' | 'bye' | 'api';

/** An accepted charge or refund as stored. */
export interface StoredCharge {
  /** The row id as text: the charge's unique reference in the ledger and on bills. */
  readonly ref: string;
  readonly sessionId: string;
  readonly appServer: string;
  readonly operator: string;
  readonly userId: string;
  readonly service: string;
  /** The charge's `id`, unique per application server. */
  readonly idempotencyKey: string;
  readonly refundOf: string | null;
  readonly route: ChargeRoute;
  readonly charge: Charge;
  /** Negative for a refund. */
  readonly total: Money;
  readonly acceptedAt: number;
}

/** What {@link ChargeRepository.insert} stores. */
export type NewCharge = Omit<StoredCharge, 'ref'>;

/** Filters of {@link ChargeRepository.list}. */
export interface ChargeFilter {
  readonly sessionId?: string;
  readonly userId?: string;
  readonly appServer?: string;
  readonly operator?: string;
  /** Accepted at or after. */
  readonly from?: number;
  /** Accepted before. */
  readonly to?: number;
  /** Default 1000, at most 10 000. */
  readonly limit?: number;
}

/**
 * Accepted application charges. The unique index on (application server,
 * idempotency key) is what makes a charge count once however often it is
 * retransmitted or retried, on one relay or several.
 */
export class ChargeRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The same repository working inside the transaction `trx`. */
  withExecutor(trx: Kysely<Database>): ChargeRepository {
    return new ChargeRepository(trx);
  }

  /**
   * Stores a charge unless the application server already has one with
   * that idempotency key. Returns the stored charge, or `undefined` when
   * the key was taken (read the first with {@link findByKey}). On
   * PostgreSQL a concurrent insert of the same key waits for the other
   * transaction and then does nothing.
   */
  async insert(c: NewCharge): Promise<StoredCharge | undefined> {
    const row = await this.db
      .insertInto('charges')
      .values({
        session_id: c.sessionId,
        app_server: c.appServer,
        operator: c.operator,
        user_id: c.userId,
        service: c.service,
        idempotency_key: c.idempotencyKey,
        refund_of: c.refundOf,
        route: c.route,
        body: JSON.stringify(c.charge),
        amount: c.total.amount,
        currency: c.total.currency,
        accepted_at: c.acceptedAt,
      })
      .onConflict((oc) => oc.columns(['app_server', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return row && toStoredCharge(row);
  }

  /** The charge an application server stored under `key`. */
  async findByKey(appServer: string, key: string): Promise<StoredCharge | undefined> {
    const row = await this.db
      .selectFrom('charges')
      .selectAll()
      .where('app_server', '=', appServer)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    return row && toStoredCharge(row);
  }

  /** A charge by its reference (row id as text). */
  async get(ref: string): Promise<StoredCharge | undefined> {
    if (!/^\d{1,15}$/.test(ref)) return undefined;
    const row = await this.db.selectFrom('charges').selectAll().where('id', '=', Number(ref)).executeTakeFirst();
    return row && toStoredCharge(row);
  }

  /** How many charges a session has. */
  async countForSession(sessionId: string): Promise<number> {
    const row = await this.db
      .selectFrom('charges')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('session_id', '=', sessionId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /**
   * What {@link checkRefund} needs to judge a refund of `chargeKey`: the
   * charge with that key and every refund of it, of any application
   * server (so that a refund of a foreign charge is told apart from one of
   * an unknown charge).
   */
  async refundContext(chargeKey: string): Promise<ChargeRecord[]> {
    const rows = await this.db
      .selectFrom('charges')
      .select(['app_server', 'body'])
      .where((eb) => eb.or([eb('idempotency_key', '=', chargeKey), eb('refund_of', '=', chargeKey)]))
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ applicationServer: r.app_server, charge: JSON.parse(r.body) as Charge }));
  }

  /** Charges in acceptance order. */
  async list(filter: ChargeFilter = {}): Promise<StoredCharge[]> {
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 1000)), 10_000);
    let q = this.db.selectFrom('charges').selectAll().orderBy('accepted_at').orderBy('id').limit(limit);
    if (filter.sessionId !== undefined) q = q.where('session_id', '=', filter.sessionId);
    if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
    if (filter.appServer !== undefined) q = q.where('app_server', '=', filter.appServer);
    if (filter.operator !== undefined) q = q.where('operator', '=', filter.operator);
    if (filter.from !== undefined) q = q.where('accepted_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('accepted_at', '<', filter.to);
    return (await q.execute()).map(toStoredCharge);
  }

  /** Charges of a user accepted in `period`, as bills read them. */
  async billable(userId: string, period: Pick<BillPeriod, 'start' | 'end'>): Promise<BillableCharge[]> {
    const rows = await this.db
      .selectFrom('charges')
      .selectAll()
      .where('user_id', '=', userId)
      .where('accepted_at', '>=', period.start)
      .where('accepted_at', '<', period.end)
      .orderBy('accepted_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      chargeRef: String(r.id),
      userId: r.user_id,
      sessionId: r.session_id,
      service: r.service,
      acceptedAt: Number(r.accepted_at),
      charge: JSON.parse(r.body) as Charge,
    }));
  }
}

function toStoredCharge(row: Selectable<ChargesTable>): StoredCharge {
  return {
    ref: String(row.id),
    sessionId: row.session_id,
    appServer: row.app_server,
    operator: row.operator,
    userId: row.user_id,
    service: row.service,
    idempotencyKey: row.idempotency_key,
    refundOf: row.refund_of,
    route: row.route as ChargeRoute,
    charge: JSON.parse(row.body) as Charge,
    total: { amount: Number(row.amount), currency: row.currency as CurrencyCode },
    acceptedAt: Number(row.accepted_at),
  };
}
