import type { SessionRecord, SessionSegmentRecord } from '../store/session-repository.js';
import type { Store } from '../store/store.js';
import { closeSession, type ClosedSession } from './close-session.js';
import type { GroupCommitter } from './group-committer.js';
import type { SessionRecorder } from './session-recorder.js';

/** An open record found after a restart, with its segments. */
export interface OpenSession {
  readonly record: SessionRecord;
  readonly segments: readonly SessionSegmentRecord[];
  /**
   * The last instant the relay knew the session alive: its last in-dialog
   * request, else its start, answer or request.
   */
  readonly lastAliveAt: number;
}

/** What {@link SessionRecovery.interruptAllExcept} did. */
export interface RecoveryReport {
  /** Sessions ended as `interrupted` (established ones rated and posted), or attempts recorded as failed. */
  readonly interrupted: readonly ClosedSession[];
  /** Sessions left open because the relay carries them on. */
  readonly kept: readonly string[];
}

/**
 * Restart recovery (issue 4, item 3). After a crash, the records a node
 * owned that are still open are found with {@link openSessions}; the relay
 * carries on those that still get in-dialog requests ({@link adopt}) and
 * ends the rest as `interrupted` at the last instant it knew them alive
 * ({@link markInterrupted}). Another node takes over a dead node's
 * sessions the same way, with the dead node's id.
 *
 * Which sessions carry on is the relay's decision (it sees the requests);
 * a typical wiring: on start, `openSessions(nodeId)`; adopt each session
 * whose in-dialog request arrives within one session-timer interval; then
 * `interruptAllExcept(nodeId, adopted)`.
 *
 * Closing is idempotent: a session already closed (by another node, or by
 * its own BYE) is left alone and posted once.
 */
export class SessionRecovery {
  constructor(
    private readonly options: {
      readonly store: Store;
      readonly committer: GroupCommitter;
      /** When given, {@link adopt} hands sessions back to it. */
      readonly recorder?: SessionRecorder;
    },
  ) {}

  /** Open records (attempt, answered, established) owned by `nodeId`, oldest first. */
  async openSessions(nodeId: string): Promise<OpenSession[]> {
    const records = await this.options.store.sessions.open(nodeId);
    const out: OpenSession[] = [];
    for (const record of records) {
      const segments = record.state === 'established' ? await this.options.store.sessions.segments(record.id) : [];
      out.push({ record, segments, lastAliveAt: lastAlive(record) });
    }
    return out;
  }

  /**
   * Ends a session as `interrupted` at `lastAliveAt` (default: the
   * record's last-alive instant), rating it from its start to that instant
   * and posting it, in one durable transaction. An attempt or an answered
   * session that was never ACKed is recorded as failed, unrated. Undefined
   * when the record is unknown or already closed.
   */
  async markInterrupted(sessionId: string, lastAliveAt?: number): Promise<ClosedSession | undefined> {
    const accounts = this.options.store.accounts;
    return this.options.committer.run(async (trx) => {
      const record = await this.options.store.sessions.withExecutor(trx).get(sessionId);
      if (!record) return undefined;
      const at = Math.max(lastAliveAt ?? lastAlive(record), record.startedAt ?? record.answeredAt ?? record.requestedAt);
      return closeSession(trx, accounts, {
        sessionId,
        endedAt: at,
        endedBy: 'interrupted',
        endReason: 'the relay restarted and the session sent nothing since',
        answeredWithoutAck: 'fail',
      });
    });
  }

  /** Hands an open session back to the recorder: the relay carries it on. */
  adopt(session: OpenSession): void {
    if (!this.options.recorder) throw new TypeError('SessionRecovery was made without a recorder to adopt sessions');
    this.options.recorder.adopt(session.record, session.segments);
  }

  /**
   * Ends every open session of `nodeId` as interrupted except those in
   * `keep` (the ones the relay carries on).
   */
  async interruptAllExcept(nodeId: string, keep: Iterable<string> = []): Promise<RecoveryReport> {
    const kept = new Set(keep);
    const interrupted: ClosedSession[] = [];
    const stillOpen: string[] = [];
    await Promise.all(
      (await this.openSessions(nodeId)).map(async (s) => {
        if (kept.has(s.record.id)) {
          stillOpen.push(s.record.id);
          return;
        }
        const closed = await this.markInterrupted(s.record.id, s.lastAliveAt);
        if (closed) interrupted.push(closed);
      }),
    );
    return { interrupted, kept: stillOpen };
  }
}

function lastAlive(r: SessionRecord): number {
  return Math.max(r.lastAliveAt ?? 0, r.startedAt ?? 0, r.answeredAt ?? 0, r.requestedAt);
}
