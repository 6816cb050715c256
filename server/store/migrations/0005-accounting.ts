import { sql } from 'kysely';
import type { StoreMigration } from '../store-migration.js';
import { columnTypes, identityPrimaryKey } from '../schema-conventions.js';

/**
 * Accounting (issue 4): credit accounts and their adjustments, session
 * records with their segments, application charges, and the ledger.
 *
 * Records keep names as text (user `alice@portal.test`, service, application
 * server, operator) rather than foreign keys to the account tables: a bill
 * must still read the same after a user, a service or an application server
 * is removed or renamed.
 */
export const migration: StoreMigration = {
  name: '0005-accounting',
  async up(db, dialect) {
    await db.schema
      .createTable('accounts')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      // The ledger account id: user:<user>, operator:<operator>, relay:revenue.
      .addColumn('account', 'text', (c) => c.notNull().unique())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('user', 'operator', 'relay')`))
      .addColumn('owner', 'text', (c) => c.notNull())
      .addColumn('credit_mode', 'text', (c) => c.check(sql`credit_mode in ('prepaid', 'postpaid')`))
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('balance', columnTypes.money, (c) => c.notNull().defaultTo(0))
      .addColumn('credit_limit', columnTypes.money, (c) => c.check(sql`credit_limit >= 0`))
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .addColumn('updated_at', columnTypes.instant, (c) => c.notNull())
      .addCheckConstraint(
        'accounts_user_terms_check',
        sql`(kind = 'user' and credit_mode is not null) or (kind <> 'user' and credit_mode is null)`,
      )
      .addCheckConstraint(
        'accounts_postpaid_limit_check',
        sql`(credit_mode = 'postpaid' and credit_limit is not null) or ((credit_mode is null or credit_mode = 'prepaid') and credit_limit is null)`,
      )
      .execute();

    await db.schema
      .createTable('account_adjustments')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      .addColumn('account_id', 'integer', (c) => c.notNull().references('accounts.id').onDelete('cascade'))
      .addColumn('kind', 'text', (c) =>
        c.notNull().check(sql`kind in ('open', 'topup', 'set-balance', 'set-credit-limit', 'set-mode')`),
      )
      .addColumn('amount', columnTypes.money)
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('balance_after', columnTypes.money, (c) => c.notNull())
      .addColumn('credit_limit_after', columnTypes.money)
      .addColumn('note', 'text')
      .addColumn('at', columnTypes.instant, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('account_adjustments_account_idx').on('account_adjustments').columns(['account_id', 'at']).execute();

    await db.schema
      .createTable('sessions')
      // The relay session id of the branch (RFC 7989 form).
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('fork_group', 'text', (c) => c.notNull())
      .addColumn('linked_from', 'text')
      .addColumn('state', 'text', (c) =>
        c.notNull().check(sql`state in ('attempt', 'answered', 'established', 'ended', 'failed', 'cancelled')`),
      )
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('plan', 'text')
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('app_server', 'text', (c) => c.notNull())
      .addColumn('operator', 'text', (c) => c.notNull())
      .addColumn('call_id', 'text', (c) => c.notNull())
      .addColumn('caller_tag', 'text', (c) => c.notNull())
      .addColumn('callee_tag', 'text')
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('requested_at', columnTypes.instant, (c) => c.notNull())
      .addColumn('answered_at', columnTypes.instant)
      .addColumn('started_at', columnTypes.instant)
      .addColumn('ended_at', columnTypes.instant)
      .addColumn('duration_ms', 'bigint', (c) => c.check(sql`duration_ms >= 0`))
      .addColumn('ended_by', 'text', (c) =>
        c.check(
          sql`ended_by in ('caller', 'callee', 'session-timer', 'max-duration', 'credit-exhausted', 'operator', 'interrupted')`,
        ),
      )
      .addColumn('end_reason', 'text')
      .addColumn('sip_status', 'integer')
      .addColumn('last_alive_at', columnTypes.instant)
      .addColumn('tariff', columnTypes.json)
      .addColumn('relay_fee', columnTypes.json, (c) => c.notNull())
      .addColumn('rating', columnTypes.json)
      .addColumn('rating_error', 'text')
      .addColumn('amount', columnTypes.money)
      .addColumn('currency', 'text')
      .addColumn('updated_at', columnTypes.instant, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('sessions_node_state_idx').on('sessions').columns(['node_id', 'state']).execute();
    await db.schema.createIndex('sessions_user_idx').on('sessions').columns(['user_id', 'requested_at']).execute();
    await db.schema.createIndex('sessions_user_ended_idx').on('sessions').columns(['user_id', 'ended_at']).execute();
    await db.schema.createIndex('sessions_state_idx').on('sessions').columns(['state', 'requested_at']).execute();
    await db.schema.createIndex('sessions_requested_idx').on('sessions').column('requested_at').execute();

    await db.schema
      .createTable('session_segments')
      .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
      .addColumn('seq', 'integer', (c) => c.notNull().check(sql`seq >= 0`))
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('started_at', columnTypes.instant, (c) => c.notNull())
      // Milliseconds from the session's start on the relay's monotonic clock.
      .addColumn('offset_ms', 'bigint', (c) => c.notNull().check(sql`offset_ms >= 0`))
      .addColumn('details', columnTypes.json)
      .addColumn('tariff', columnTypes.json)
      .addPrimaryKeyConstraint('session_segments_pkey', ['session_id', 'seq'])
      .execute();

    await db.schema
      .createTable('charges')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      // RESTRICT: a charged session is a billing record and is never deleted.
      .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('restrict'))
      .addColumn('app_server', 'text', (c) => c.notNull())
      .addColumn('operator', 'text', (c) => c.notNull())
      .addColumn('user_id', 'text', (c) => c.notNull())
      .addColumn('service', 'text', (c) => c.notNull())
      .addColumn('idempotency_key', 'text', (c) => c.notNull())
      .addColumn('refund_of', 'text')
      .addColumn('route', 'text', (c) => c.notNull().check(sql`route in ('info', 'bye', 'api')`))
      .addColumn('body', columnTypes.json, (c) => c.notNull())
      .addColumn('amount', columnTypes.money, (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('accepted_at', columnTypes.instant, (c) => c.notNull())
      .addUniqueConstraint('charges_app_server_key_unique', ['app_server', 'idempotency_key'])
      .execute();
    await db.schema.createIndex('charges_session_idx').on('charges').column('session_id').execute();
    await db.schema.createIndex('charges_user_idx').on('charges').columns(['user_id', 'accepted_at']).execute();
    await db.schema.createIndex('charges_refund_idx').on('charges').column('refund_of').execute();

    await db.schema
      .createTable('ledger_entries')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      .addColumn('account', 'text', (c) => c.notNull())
      .addColumn('side', 'text', (c) => c.notNull().check(sql`side in ('debit', 'credit')`))
      .addColumn('amount', columnTypes.money, (c) => c.notNull().check(sql`amount > 0`))
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('gross', 'fee')`))
      .addColumn('ref_type', 'text', (c) => c.notNull().check(sql`ref_type in ('session', 'charge')`))
      .addColumn('ref_id', 'text', (c) => c.notNull())
      .addColumn('at', columnTypes.instant, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('ledger_entries_account_idx').on('ledger_entries').columns(['account', 'at']).execute();
    await db.schema.createIndex('ledger_entries_ref_idx').on('ledger_entries').columns(['ref_type', 'ref_id']).execute();
    await db.schema.createIndex('ledger_entries_at_idx').on('ledger_entries').column('at').execute();
  },
};
