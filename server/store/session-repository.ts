import type { Kysely, Selectable } from 'kysely';
import type { BillPeriod } from '../billing/bill-period.js';
import type { BillableSession } from '../billing/bill.js';
import type { CurrencyCode } from '../billing/currency.js';
import type { RelayFee } from '../billing/ledger.js';
import type { Money } from '../billing/money.js';
import type { RatedSession } from '../billing/rating.js';
import type { Tariff } from '../billing/tariff.js';
import type { Database, SessionSegmentsTable, SessionsTable } from './database.js';

/**
 * Where a record is in its life. An attempt (one per forked branch) is
 * `attempt` until the application server answers; it becomes `answered`
 * when its 2xx is relayed, `established` when the ACK is relayed, and
 * `ended` when the 2xx to BYE is relayed (or the relay ends it). An attempt
 * that gets no 2xx ends as `failed` or, with 487, `cancelled`.
 */
export type SessionState = 'attempt' | 'answered' | 'established' | 'ended' | 'failed' | 'cancelled';

/** States of a record that is not finished yet. */
export const OPEN_SESSION_STATES: readonly SessionState[] = ['attempt', 'answered', 'established'];

/** Who or what ended a session (issue 4, item 1). */
export type SessionEndedBy =
  | 'caller'
  | 'callee'
  | 'session-timer'
  | 'max-duration'
  | 'credit-exhausted'
  | 'operator'
  | 'interrupted';

/** Every {@link SessionEndedBy}, for validation. */
export const SESSION_ENDED_BY: readonly SessionEndedBy[] = [
  'caller',
  'callee',
  'session-timer',
  'max-duration',
  'credit-exhausted',
  'operator',
  'interrupted',
];

/** One stretch of a session with unchanged service details. */
export interface SessionSegmentRecord {
  readonly seq: number;
  readonly service: string;
  /** Wall-clock instant the segment started (epoch ms). */
  readonly startedAt: number;
  /** Monotonic ms from the session's start. */
  readonly offsetMs: number;
  /** The service details the change carried (parsed JSON), or null. */
  readonly details: unknown;
  /** The tariff of the segment's service, as applied; null when its time is free. */
  readonly tariff: Tariff | null;
}

/** A session record as stored. */
export interface SessionRecord {
  readonly id: string;
  readonly forkGroup: string;
  readonly linkedFrom: string | null;
  readonly state: SessionState;
  readonly userId: string;
  readonly plan: string | null;
  readonly service: string;
  readonly appServer: string;
  readonly operator: string;
  readonly callId: string;
  readonly callerTag: string;
  readonly calleeTag: string | null;
  readonly nodeId: string;
  readonly requestedAt: number;
  readonly answeredAt: number | null;
  readonly startedAt: number | null;
  readonly endedAt: number | null;
  readonly durationMs: number | null;
  readonly endedBy: SessionEndedBy | null;
  readonly endReason: string | null;
  readonly sipStatus: number | null;
  readonly lastAliveAt: number | null;
  /** The tariff that set the session terms; null when the session's time is free. */
  readonly tariff: Tariff | null;
  readonly relayFee: RelayFee;
  readonly rating: RatedSession | null;
  /** Why rating failed, when it did (the session is then not posted). */
  readonly ratingError: string | null;
  /** The rated total; null when not rated. */
  readonly amount: Money | null;
  readonly updatedAt: number;
}

/** What a new attempt record holds. */
export interface NewSessionAttempt {
  readonly id: string;
  readonly forkGroup: string;
  readonly linkedFrom: string | null;
  readonly userId: string;
  readonly plan: string | null;
  readonly service: string;
  readonly appServer: string;
  readonly callId: string;
  readonly callerTag: string;
  readonly calleeTag: string | null;
  readonly nodeId: string;
  readonly requestedAt: number;
  readonly relayFee: RelayFee;
  /** The application server's operator, when the caller knows it; read from `app_servers` otherwise. */
  readonly operator?: string;
}

/** Filters of {@link SessionRepository.list}; all optional, combined with AND. */
export interface SessionFilter {
  readonly userId?: string;
  readonly operator?: string;
  readonly appServer?: string;
  readonly service?: string;
  readonly states?: readonly SessionState[];
  readonly nodeId?: string;
  /** Requested at or after (epoch ms). */
  readonly from?: number;
  /** Requested before (epoch ms). */
  readonly to?: number;
  /** Newest first; at most this many (default 100, at most 10 000). */
  readonly limit?: number;
  /** Records requested strictly before this instant (paging). */
  readonly before?: number;
}

/** Columns of `sessions` a milestone may change. */
export type SessionUpdate = Partial<
  Pick<
    SessionsTable,
    | 'state'
    | 'callee_tag'
    | 'answered_at'
    | 'started_at'
    | 'ended_at'
    | 'duration_ms'
    | 'ended_by'
    | 'end_reason'
    | 'sip_status'
    | 'last_alive_at'
    | 'tariff'
    | 'rating'
    | 'rating_error'
    | 'amount'
    | 'currency'
    | 'linked_from'
  >
>;

/**
 * Session records and their segments. The accounting layer writes them
 * inside its group-committed transactions (through {@link withExecutor});
 * the API, the CLI and bills read them.
 */
export class SessionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** The same repository working inside the transaction `trx`. */
  withExecutor(trx: Kysely<Database>): SessionRepository {
    return new SessionRepository(trx);
  }

  /**
   * Inserts the record of an attempt; nothing happens when one with the same
   * id exists (a milestone reported twice). The operator is read from the
   * application server's account (its name when unknown).
   */
  async insertAttempt(a: NewSessionAttempt, updatedAt: number): Promise<void> {
    const operator = a.operator ?? (await this.operatorOf(a.appServer));
    await this.db
      .insertInto('sessions')
      .values({
        id: a.id,
        fork_group: a.forkGroup,
        linked_from: a.linkedFrom,
        state: 'attempt',
        user_id: a.userId,
        plan: a.plan,
        service: a.service,
        app_server: a.appServer,
        operator,
        call_id: a.callId,
        caller_tag: a.callerTag,
        callee_tag: a.calleeTag,
        node_id: a.nodeId,
        requested_at: a.requestedAt,
        relay_fee: JSON.stringify(a.relayFee),
        updated_at: updatedAt,
      })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  /** The operator of an application server: its account's, else its name (a static target without account). */
  async operatorOf(appServer: string): Promise<string> {
    const server = await this.db.selectFrom('app_servers').select('operator').where('name', '=', appServer).executeTakeFirst();
    return server?.operator ?? appServer;
  }

  /**
   * Changes a record. With `onlyStates`, only a record in one of those
   * states is changed (so a late milestone cannot reopen a closed record).
   * Returns whether a record was changed.
   */
  async update(id: string, changes: SessionUpdate, updatedAt: number, onlyStates?: readonly SessionState[]): Promise<boolean> {
    let q = this.db
      .updateTable('sessions')
      .set({ ...changes, updated_at: updatedAt })
      .where('id', '=', id);
    if (onlyStates) q = q.where('state', 'in', onlyStates);
    const r = await q.executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  /** Adds a segment. */
  async insertSegment(
    sessionId: string,
    s: { seq: number; service: string; startedAt: number; offsetMs: number; details: unknown; tariff: Tariff | null },
  ): Promise<void> {
    await this.db
      .insertInto('session_segments')
      .values({
        session_id: sessionId,
        seq: s.seq,
        service: s.service,
        started_at: s.startedAt,
        offset_ms: s.offsetMs,
        details: s.details === undefined || s.details === null ? null : JSON.stringify(s.details),
        tariff: s.tariff === null ? null : JSON.stringify(s.tariff),
      })
      .onConflict((oc) => oc.columns(['session_id', 'seq']).doNothing())
      .execute();
  }

  /**
   * Moves `last_alive_at` of open records forward to `at` (never back).
   * One statement for any number of sessions.
   */
  async touch(ids: readonly string[], at: number): Promise<number> {
    if (ids.length === 0) return 0;
    let changed = 0;
    // Bounded IN lists: SQLite allows 32 766 parameters, PostgreSQL 65 535.
    for (let i = 0; i < ids.length; i += 1000) {
      const r = await this.db
        .updateTable('sessions')
        .set({ last_alive_at: at })
        .where('id', 'in', ids.slice(i, i + 1000))
        .where('state', 'in', OPEN_SESSION_STATES)
        .where((eb) => eb.or([eb('last_alive_at', 'is', null), eb('last_alive_at', '<', at)]))
        .executeTakeFirst();
      changed += Number(r.numUpdatedRows);
    }
    return changed;
  }

  /** One record, or undefined. */
  async get(id: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toSessionRecord(row);
  }

  /** The segments of a session, in order. */
  async segments(sessionId: string): Promise<SessionSegmentRecord[]> {
    const rows = await this.db
      .selectFrom('session_segments')
      .selectAll()
      .where('session_id', '=', sessionId)
      .orderBy('seq')
      .execute();
    return rows.map(toSegment);
  }

  /** Records, newest request first. */
  async list(filter: SessionFilter = {}): Promise<SessionRecord[]> {
    const limit = Math.min(Math.max(1, Math.trunc(filter.limit ?? 100)), 10_000);
    let q = this.db.selectFrom('sessions').selectAll().orderBy('requested_at', 'desc').orderBy('id', 'desc').limit(limit);
    if (filter.userId !== undefined) q = q.where('user_id', '=', filter.userId);
    if (filter.operator !== undefined) q = q.where('operator', '=', filter.operator);
    if (filter.appServer !== undefined) q = q.where('app_server', '=', filter.appServer);
    if (filter.service !== undefined) q = q.where('service', '=', filter.service);
    if (filter.nodeId !== undefined) q = q.where('node_id', '=', filter.nodeId);
    if (filter.states !== undefined) {
      if (filter.states.length === 0) return [];
      q = q.where('state', 'in', filter.states);
    }
    if (filter.from !== undefined) q = q.where('requested_at', '>=', filter.from);
    if (filter.to !== undefined) q = q.where('requested_at', '<', filter.to);
    if (filter.before !== undefined) q = q.where('requested_at', '<', filter.before);
    return (await q.execute()).map(toSessionRecord);
  }

  /** Records a node owns that are not finished (for restart recovery), oldest first. */
  async open(nodeId: string): Promise<SessionRecord[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .selectAll()
      .where('node_id', '=', nodeId)
      .where('state', 'in', OPEN_SESSION_STATES)
      .orderBy('requested_at')
      .orderBy('id')
      .execute();
    return rows.map(toSessionRecord);
  }

  /** Rated sessions of a user that ended in `period`, as bills read them. */
  async billable(userId: string, period: Pick<BillPeriod, 'start' | 'end'>): Promise<BillableSession[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .select(['id', 'user_id', 'service', 'started_at', 'ended_at', 'rating'])
      .where('user_id', '=', userId)
      .where('ended_at', '>=', period.start)
      .where('ended_at', '<', period.end)
      .where('rating', 'is not', null)
      .orderBy('ended_at')
      .execute();
    return rows.map((r) => ({
      sessionId: r.id,
      userId: r.user_id,
      service: r.service,
      startedAt: Number(r.started_at ?? r.ended_at),
      endedAt: Number(r.ended_at),
      rated: JSON.parse(r.rating!) as RatedSession,
    }));
  }

  /** Users with a rated session ended in `period`, sorted. */
  async usersWithSessions(period: Pick<BillPeriod, 'start' | 'end'>): Promise<string[]> {
    const rows = await this.db
      .selectFrom('sessions')
      .select('user_id')
      .distinct()
      .where('ended_at', '>=', period.start)
      .where('ended_at', '<', period.end)
      .where('rating', 'is not', null)
      .orderBy('user_id')
      .execute();
    return rows.map((r) => r.user_id);
  }
}

function parseJson<T>(text: string | null): T | null {
  return text === null ? null : (JSON.parse(text) as T);
}

export function toSessionRecord(row: Selectable<SessionsTable>): SessionRecord {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: row.id,
    forkGroup: row.fork_group,
    linkedFrom: row.linked_from,
    state: row.state as SessionState,
    userId: row.user_id,
    plan: row.plan,
    service: row.service,
    appServer: row.app_server,
    operator: row.operator,
    callId: row.call_id,
    callerTag: row.caller_tag,
    calleeTag: row.callee_tag,
    nodeId: row.node_id,
    requestedAt: Number(row.requested_at),
    answeredAt: n(row.answered_at),
    startedAt: n(row.started_at),
    endedAt: n(row.ended_at),
    durationMs: n(row.duration_ms),
    endedBy: row.ended_by as SessionEndedBy | null,
    endReason: row.end_reason,
    sipStatus: n(row.sip_status),
    lastAliveAt: n(row.last_alive_at),
    tariff: parseJson<Tariff>(row.tariff),
    relayFee: JSON.parse(row.relay_fee) as RelayFee,
    rating: parseJson<RatedSession>(row.rating),
    ratingError: row.rating_error,
    amount: row.amount === null || row.currency === null ? null : { amount: Number(row.amount), currency: row.currency as CurrencyCode },
    updatedAt: Number(row.updated_at),
  };
}

function toSegment(row: Selectable<SessionSegmentsTable>): SessionSegmentRecord {
  return {
    seq: Number(row.seq),
    service: row.service,
    startedAt: Number(row.started_at),
    offsetMs: Number(row.offset_ms),
    details: parseJson<unknown>(row.details),
    tariff: parseJson<Tariff>(row.tariff),
  };
}
