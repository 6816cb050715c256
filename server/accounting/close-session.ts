import type { Kysely } from 'kysely';
import { isBillingError } from '../billing/billing-error.js';
import { postSession, type LedgerEntry } from '../billing/ledger.js';
import { rateSession, type RatedSession, type SessionSegment, type TariffLookup } from '../billing/rating.js';
import type { Tariff } from '../billing/tariff.js';
import { AccountRepository } from '../store/account-repository.js';
import type { Database } from '../store/database.js';
import { LedgerRepository } from '../store/ledger-repository.js';
import {
  OPEN_SESSION_STATES,
  SessionRepository,
  type SessionEndedBy,
  type SessionRecord,
  type SessionSegmentRecord,
} from '../store/session-repository.js';

/** How a session ends. */
export interface SessionClosing {
  readonly sessionId: string;
  /** Wall-clock instant of the end (epoch ms): the 2xx to BYE relayed, or the last instant known alive. */
  readonly endedAt: number;
  /**
   * Measured session time (monotonic ms). When the relay no longer knows it
   * (after a restart), leave it out: it is then the wall-clock time from the
   * recorded start (or answer) to `endedAt`.
   */
  readonly durationMs?: number;
  readonly endedBy: SessionEndedBy;
  readonly endReason: string | null;
  /**
   * What to make of a session whose ACK was never relayed (`answered`):
   * `rate` treats the answer as its start (the relay saw a BYE, so both
   * sides had the dialog), `fail` records it as an attempt that failed.
   */
  readonly answeredWithoutAck: 'rate' | 'fail';
  /**
   * The segments, when the caller follows the session in memory (they are
   * the ones it stored); read from the store otherwise.
   */
  readonly segments?: readonly SessionSegmentRecord[];
}

/** What closing did. */
export interface ClosedSession {
  readonly record: SessionRecord;
  /** Null when the session's time is free, or rating failed (see `record.ratingError`). */
  readonly rated: RatedSession | null;
  readonly entries: readonly LedgerEntry[];
}

/**
 * Ends a session record inside the transaction `trx`: rates it from its
 * segments and their tariff snapshots, stores the rating and posts the
 * ledger entries, moving the user's balance. Does nothing (returns
 * undefined) when the record is unknown or already closed, so that a
 * retried or concurrent close posts once: the state change is guarded and
 * posting follows only when it took effect.
 *
 * Sessions are rated with the tariffs stored when they started (and when
 * their service changed), never the configuration of today. A segment of a
 * service whose time is free is priced at 0 in the session's currency; a
 * session whose every segment is free is not rated. A rating that breaks a
 * billing rule (mixed currencies) is stored as `rating_error` and nothing is
 * posted: the end of the session is never lost to a pricing problem.
 */
export async function closeSession(trx: Kysely<Database>, accounts: AccountRepository, c: SessionClosing): Promise<ClosedSession | undefined> {
  const sessions = new SessionRepository(trx);
  const record = await sessions.get(c.sessionId);
  if (!record || !OPEN_SESSION_STATES.includes(record.state)) return undefined;

  const establishes = record.state === 'established' || (record.state === 'answered' && c.answeredWithoutAck === 'rate');
  if (!establishes) {
    const changed = await sessions.update(
      c.sessionId,
      { state: 'failed', ended_at: c.endedAt, ended_by: c.endedBy, end_reason: c.endReason ?? 'no session was established' },
      c.endedAt,
      OPEN_SESSION_STATES,
    );
    return changed ? { record: (await sessions.get(c.sessionId))!, rated: null, entries: [] } : undefined;
  }

  const start = record.startedAt ?? record.answeredAt ?? c.endedAt;
  const durationMs = Math.max(0, c.durationMs ?? c.endedAt - start);
  const segments = c.segments ?? (await sessions.segments(c.sessionId));
  let rated: RatedSession | null = null;
  let ratingError: string | null = null;
  try {
    rated = rate(record, segments, durationMs);
  } catch (e) {
    if (!isBillingError(e)) throw e;
    ratingError = `${e.code}: ${e.message}`;
  }

  const ended: SessionRecord = {
    ...record,
    state: 'ended',
    startedAt: record.startedAt ?? record.answeredAt,
    endedAt: c.endedAt,
    durationMs,
    endedBy: c.endedBy,
    endReason: c.endReason,
    lastAliveAt: Math.max(c.endedAt, record.lastAliveAt ?? 0),
    rating: rated,
    ratingError,
    amount: rated?.total ?? null,
    updatedAt: c.endedAt,
  };
  const changed = await sessions.update(
    c.sessionId,
    {
      state: 'ended',
      started_at: ended.startedAt,
      ended_at: c.endedAt,
      duration_ms: durationMs,
      ended_by: c.endedBy,
      end_reason: c.endReason,
      last_alive_at: ended.lastAliveAt,
      rating: rated === null ? null : JSON.stringify(rated),
      rating_error: ratingError,
      amount: rated?.total.amount ?? null,
      currency: rated?.total.currency ?? null,
    },
    c.endedAt,
    OPEN_SESSION_STATES,
  );
  if (!changed) return undefined;

  let entries: LedgerEntry[] = [];
  if (rated) {
    entries = postSession({
      sessionId: record.id,
      rated,
      userId: record.userId,
      operatorId: record.operator,
      fee: record.relayFee,
      at: c.endedAt,
    });
    await new LedgerRepository(trx).insert(entries);
    await accounts.withExecutor(trx).applyPostings(entries);
  }
  return { record: ended, rated, entries };
}

/** Segments ready for the billing core: looked up by position, free ones priced at 0. */
export interface PricedSegments {
  readonly lookup: TariffLookup;
  readonly segments: SessionSegment[];
}

/**
 * Turns segments with tariff snapshots into the billing core's input over
 * `durationMs` of session time. Segments are looked up by position (two
 * segments of one service may carry different snapshots); a segment whose
 * time is free is priced at 0 per second in the session's currency.
 * Undefined when every segment is free.
 */
export function pricedSegments(
  segs: readonly Pick<SessionSegmentRecord, 'service' | 'offsetMs' | 'tariff'>[],
  durationMs: number,
): PricedSegments | undefined {
  const priced = segs.find((s) => s.tariff !== null)?.tariff;
  if (!priced) return undefined;
  const tariffs = segs.map(
    (s): Tariff =>
      s.tariff ?? {
        id: `${s.service}-free`.slice(0, 64),
        currency: priced.currency,
        setupFee: 0,
        pricePerMinute: 0,
        increments: { first: 1, next: 1 },
        minimumBillableSeconds: 0,
        freeSeconds: 0,
      },
  );
  const segments = segs.map((s, i) => {
    const startMs = Math.min(s.offsetMs, durationMs);
    const next = i + 1 < segs.length ? Math.min(segs[i + 1].offsetMs, durationMs) : durationMs;
    return { service: String(i), startMs, endMs: Math.max(startMs, next) };
  });
  return { lookup: (key) => tariffs[Number(key)], segments };
}

/**
 * Rates a record from its segments (each with its own tariff snapshot) over
 * `durationMs` of session time. Null when every segment is free.
 */
export function rate(record: Pick<SessionRecord, 'service' | 'tariff'>, segments: readonly SessionSegmentRecord[], durationMs: number): RatedSession | null {
  const segs: readonly Pick<SessionSegmentRecord, 'service' | 'offsetMs' | 'tariff'>[] =
    segments.length > 0 ? segments : [{ service: record.service, offsetMs: 0, tariff: record.tariff }];
  const p = pricedSegments(segs, durationMs);
  if (!p) return null;
  const r = rateSession(p.lookup, p.segments);
  return { ...r, segments: r.segments.map((line, i) => ({ ...line, service: segs[i].service })) };
}
