import type { Kysely } from 'kysely';
import { systemClock, type Clock, type TimerHandle } from '../../sip/util/clock.js';
import type { Money } from '../billing/money.js';
import type { RelayFee } from '../billing/ledger.js';
import type { Tariff } from '../billing/tariff.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import type { DialogMilestone, InDialogVerdict, SessionObserver } from '../relay-ports.js';
import { billingUserId, type AccountRepository } from '../store/account-repository.js';
import type { Database } from '../store/database.js';
import {
  SessionRepository,
  type SessionEndedBy,
  type SessionRecord,
  type SessionSegmentRecord,
  type SessionState,
  type SessionUpdate,
} from '../store/session-repository.js';
import type { Store } from '../store/store.js';
import { closeSession, rate, type ClosedSession } from './close-session.js';
import type { GroupCommitter } from './group-committer.js';
import type { InDialogCharges } from './in-dialog-charges.js';
import type { TariffCatalog } from './tariff-catalog.js';

/** A session the recorder follows in memory, as others may read it. */
export interface LiveSession {
  readonly id: string;
  readonly forkGroup: string;
  readonly userId: string;
  readonly plan: string | null;
  /** The service the session was established for. */
  readonly service: string;
  readonly appServer: string;
  readonly state: 'attempt' | 'answered' | 'established' | 'ending';
  /** Wall-clock instant of the relayed ACK, once established. */
  readonly startedAt: number | undefined;
  /** The segments so far; the last one goes on. Offsets are monotonic ms from the start. */
  readonly segments: readonly { readonly service: string; readonly offsetMs: number; readonly tariff: Tariff | null }[];
  readonly relayFee: RelayFee;
}

/** What happened to a live session; see {@link SessionRecorder.onLiveChange}. */
export interface LiveSessionEvent {
  readonly type: 'started' | 'changed' | 'ended';
  readonly session: LiveSession;
  /** For `ended`: what closing stored (undefined when the record was already closed). */
  readonly closed?: ClosedSession;
}

/** The running cost of users' live sessions, for credit checks. */
export interface LiveCosts {
  /** What each live session of the user has cost so far (rated now), except `exceptSessionId`. */
  runningCosts(userId: string, exceptSessionId?: string): Money[];
}

/** Options of {@link SessionRecorder}. */
export interface SessionRecorderOptions {
  readonly store: Store;
  /** The committer every durable accounting write goes through (shared with the charge service). */
  readonly committer: GroupCommitter;
  readonly catalog: TariffCatalog;
  /** This relay node's id, stored with each session it owns (restart recovery looks for it). */
  readonly nodeId: string;
  /** `now()` measures durations, `wallNow()` stamps instants, timers flush liveness. Default the system clock. */
  readonly clock?: Clock;
  /**
   * Liveness reported by {@link SessionRecorder.alive} is written at most
   * this often, for all sessions together, in ms. Default 5000.
   */
  readonly aliveFlushMs?: number;
  /** `last_alive_at` is rounded down to this many ms, so touches share statements. Default 1000. */
  readonly aliveResolutionMs?: number;
  /** Failures of writes nobody waits for (attempts, failures, liveness). Default: ignored. */
  readonly onError?: (error: unknown, context: string) => void;
}

interface Live {
  id: string;
  forkGroup: string;
  linkedFrom: string | null;
  userId: string;
  plan: string | null;
  service: string;
  appServer: string;
  callId: string;
  callerTag: string;
  calleeTag: string | null;
  requestedAt: number;
  state: LiveSession['state'];
  answeredMono: number | undefined;
  startedMono: number | undefined;
  startedAt: number | undefined;
  segments: { service: string; offsetMs: number; tariff: Tariff | null }[];
  relayFee: RelayFee;
  /** Whether the attempt's insert has been queued (FIFO: later writes find the row). */
  inserted: boolean;
  answering: Promise<void> | undefined;
  starting: Promise<void> | undefined;
  ending: Promise<ClosedSession | undefined> | undefined;
}

type AttemptMilestone = Omit<DialogMilestone, 'calleeTag'> & { calleeTag?: string };

/**
 * Keeps the session records (issue 4, item 1) from the relay core's dialog
 * milestones — the {@link SessionObserver} port — and ends, rates and posts
 * each session in one transaction.
 *
 * Durability: `answered`, `started`, `changed` and `ended` resolve only
 * after their write has committed (group commit, see {@link GroupCommitter});
 * the relay awaits them before relaying the message that acknowledges
 * them. `attemptStarted`, `failed` and `alive` are queued without waiting:
 * losing one in a crash loses no money.
 *
 * Durations come from the monotonic clock (`clock.now()`), instants from
 * the wall clock (`clock.wallNow()`).
 */
export class SessionRecorder implements SessionObserver, LiveCosts {
  private readonly store: Store;
  private readonly committer: GroupCommitter;
  private readonly catalog: TariffCatalog;
  private readonly clock: Clock;
  private readonly aliveFlushMs: number;
  private readonly aliveResolutionMs: number;
  private readonly sessions = new Map<string, Live>();
  private readonly byUser = new Map<string, Set<string>>();
  private readonly listeners = new Set<(e: LiveSessionEvent) => void>();
  private touches = new Map<string, number>();
  /** Operators of application servers, read once a minute at most (every attempt needs one). */
  private readonly operators = new Map<string, { operator: string; readAt: number }>();
  private touchTimer: TimerHandle | undefined;
  private charges: InDialogCharges | undefined;
  readonly nodeId: string;

  constructor(private readonly options: SessionRecorderOptions) {
    if (typeof options.nodeId !== 'string' || options.nodeId === '' || options.nodeId.length > 200) {
      throw new TypeError('nodeId must be a non-empty string of at most 200 characters');
    }
    this.store = options.store;
    this.committer = options.committer;
    this.catalog = options.catalog;
    this.nodeId = options.nodeId;
    this.clock = options.clock ?? systemClock;
    this.aliveFlushMs = options.aliveFlushMs ?? 5000;
    this.aliveResolutionMs = options.aliveResolutionMs ?? 1000;
    if (!Number.isSafeInteger(this.aliveFlushMs) || this.aliveFlushMs < 1) throw new TypeError('aliveFlushMs must be an integer >= 1');
    if (!Number.isSafeInteger(this.aliveResolutionMs) || this.aliveResolutionMs < 1) {
      throw new TypeError('aliveResolutionMs must be an integer >= 1');
    }
  }

  // -------------------------------------------------------------------------
  // The SessionObserver port

  /** A request was forwarded to one application server: an attempt (one per branch). */
  attemptStarted(m: Omit<DialogMilestone, 'calleeTag'> & { requestedAt: number }): void {
    const live = this.track(m, m.requestedAt);
    this.insertLater(live);
  }

  /** The 2xx to INVITE is about to be relayed. Resolves once stored. */
  answered(m: DialogMilestone): Promise<void> {
    const live = this.track(m);
    if (live.answering) return live.answering;
    if (live.state !== 'attempt') return Promise.resolve();
    live.state = 'answered';
    live.calleeTag = m.calleeTag;
    live.answeredMono = this.clock.now();
    const at = this.clock.wallNow();
    const tariff = this.catalog.tariff(live.service, live.plan);
    // Committed, not yet synced, is enough to relay the 2xx: losing an answer in a power cut loses no money
    // (the session starts with the ACK, whose write waits for the disk and covers this one).
    live.answering = this.committer.runCommitted(async (trx) => {
      await this.updateRecord(trx, live, { state: 'answered', answered_at: at, callee_tag: m.calleeTag, last_alive_at: at, tariff: json(tariff) }, at, ['attempt']);
    });
    return live.answering;
  }

  /** The ACK for the 2xx is about to be relayed: the session starts. Resolves once stored. */
  started(m: DialogMilestone): Promise<void> {
    const live = this.track(m);
    if (live.starting) return live.starting;
    if (live.state === 'established' || live.state === 'ending') return Promise.resolve();
    const now = this.clock.now();
    const at = this.clock.wallNow();
    const tariff = this.catalog.tariff(live.service, live.plan);
    live.state = 'established';
    live.calleeTag = m.calleeTag;
    live.startedMono = now;
    live.startedAt = at;
    live.segments = [{ service: live.service, offsetMs: 0, tariff }];
    live.starting = this.committer.run(async (trx) => {
      const changes: SessionUpdate = { state: 'established', started_at: at, callee_tag: m.calleeTag, last_alive_at: at, tariff: json(tariff) };
      if (await this.updateRecord(trx, live, changes, at, ['attempt', 'answered'])) {
        await new SessionRepository(trx).insertSegment(live.id, { seq: 0, service: live.service, startedAt: at, offsetMs: 0, details: null, tariff });
      }
    });
    this.emit('started', live);
    return live.starting;
  }

  /**
   * A re-INVITE or UPDATE changed the service details (2xx relayed): a new
   * segment starts now, priced by the tariff of `m.service`. Resolves once
   * stored. Ignored for a session that is not established.
   */
  changed(m: DialogMilestone, details: unknown): Promise<void> {
    const live = this.sessions.get(m.sessionId);
    if (!live || live.state !== 'established' || live.startedMono === undefined) return Promise.resolve();
    const offsetMs = Math.max(0, Math.round(this.clock.now() - live.startedMono));
    const at = this.clock.wallNow();
    const seq = live.segments.length;
    const tariff = this.catalog.tariff(m.service, live.plan);
    live.segments.push({ service: m.service, offsetMs, tariff });
    this.noteAlive(live.id, at);
    const stored = segmentDetails(details);
    const write = this.committer.run(async (trx) => {
      await new SessionRepository(trx).insertSegment(live.id, { seq, service: m.service, startedAt: at, offsetMs, details: stored, tariff });
    });
    this.emit('changed', live);
    return write;
  }

  /**
   * The 2xx to BYE is about to be relayed: the session ends, is rated and
   * posted. Resolves once stored. `by` may also name why the relay ended it
   * (`session-timer`, `max-duration`, `credit-exhausted`, `operator`).
   */
  async ended(m: DialogMilestone, by: SessionEndedBy, reason?: string): Promise<void> {
    await this.end(m.sessionId, by, reason);
  }

  /** An attempt ended without a session: `status` of the final response relayed (487 after CANCEL). */
  failed(m: Omit<DialogMilestone, 'calleeTag'>, status: number): void {
    const live = this.track(m);
    this.forget(live);
    const at = this.clock.wallNow();
    const state: SessionState = status === 487 ? 'cancelled' : 'failed';
    this.committer.post(async (trx) => {
      await this.updateRecord(trx, live, { state, sip_status: status, ended_at: at }, at, ['attempt', 'answered']);
    });
  }

  /**
   * A request inside a session is about to be forwarded: the session is
   * alive; a charge INFO is stored first (see {@link InDialogCharges}).
   */
  inDialogRequest(request: SipRequest, m: DialogMilestone, by: 'caller' | 'callee'): Promise<InDialogVerdict> | void {
    this.alive(m.sessionId);
    return this.charges?.request(request, m, by);
  }

  /** A final response inside a session: a 2xx to BYE may carry the application's last charge. */
  inDialogResponse(request: SipRequest, response: SipResponse, m: DialogMilestone, by: 'caller' | 'callee'): Promise<void> | void {
    return this.charges?.response(request, response, m, by);
  }

  /** Hands in-dialog charges (INFO, 2xx to BYE) to the charge service. {@link Accounting} does this. */
  handleCharges(charges: InDialogCharges): void {
    this.charges = charges;
  }

  // -------------------------------------------------------------------------
  // Beyond the port: what the relay calls besides the milestones

  /**
   * Ends a session by id: the relay ended it (session timer, maximum
   * duration, credit, operator) or saw its BYE. Rates and posts it; resolves
   * with what was stored, or undefined when the record was unknown or
   * already closed. Calling it twice returns the same promise.
   */
  end(sessionId: string, by: SessionEndedBy, reason?: string): Promise<ClosedSession | undefined> {
    const live = this.sessions.get(sessionId);
    if (live?.ending) return live.ending;
    const endedAt = this.clock.wallNow();
    const startMono = live?.startedMono ?? live?.answeredMono;
    const durationMs = startMono === undefined ? undefined : Math.max(0, Math.round(this.clock.now() - startMono));
    const previous = live?.state;
    if (live) live.state = 'ending';
    const accounts: AccountRepository = this.store.accounts;
    const segments = live && live.segments.length > 0 ? toSegmentRecords(live) : undefined;
    const p = this.committer
      .run((trx) =>
        closeSession(trx, accounts, {
          sessionId,
          endedAt,
          durationMs,
          endedBy: by,
          endReason: reason ?? null,
          answeredWithoutAck: 'rate',
          segments,
        }),
      )
      .then(
        (closed) => {
          if (live) {
            this.forget(live);
            this.emit('ended', live, closed);
          }
          return closed;
        },
        (e: unknown) => {
          if (live && previous) {
            live.state = previous;
            live.ending = undefined;
          }
          throw e;
        },
      );
    if (live) live.ending = p;
    return p;
  }

  /**
   * The relay saw an in-dialog request of the session: it is alive now.
   * Cheap: remembered in memory and written for all sessions together at
   * most every `aliveFlushMs` (restart recovery ends an interrupted session
   * at its last-alive instant).
   */
  alive(sessionId: string): void {
    this.noteAlive(sessionId, this.clock.wallNow());
  }

  /**
   * Carries on a session found open after a restart (see
   * `SessionRecovery`): the recorder follows it again, so that its end is
   * rated. Its start is re-based on the monotonic clock from the stored
   * wall-clock start.
   */
  adopt(record: SessionRecord, segments: readonly SessionSegmentRecord[]): void {
    if (this.sessions.has(record.id)) return;
    const state = record.state === 'established' ? 'established' : record.state === 'answered' ? 'answered' : 'attempt';
    const now = this.clock.now();
    const sinceStart = record.startedAt === null ? undefined : Math.max(0, this.clock.wallNow() - record.startedAt);
    const live: Live = {
      id: record.id,
      forkGroup: record.forkGroup,
      linkedFrom: record.linkedFrom,
      userId: record.userId,
      plan: record.plan,
      service: record.service,
      appServer: record.appServer,
      callId: record.callId,
      callerTag: record.callerTag,
      calleeTag: record.calleeTag,
      requestedAt: record.requestedAt,
      state,
      answeredMono: record.answeredAt === null ? undefined : now - Math.max(0, this.clock.wallNow() - record.answeredAt),
      startedMono: sinceStart === undefined ? undefined : now - sinceStart,
      startedAt: record.startedAt ?? undefined,
      segments:
        segments.length > 0
          ? segments.map((s) => ({ service: s.service, offsetMs: s.offsetMs, tariff: s.tariff }))
          : state === 'established'
            ? [{ service: record.service, offsetMs: 0, tariff: record.tariff }]
            : [],
      relayFee: record.relayFee,
      inserted: true,
      answering: undefined,
      starting: undefined,
      ending: undefined,
    };
    this.add(live);
    this.alive(record.id);
  }

  /** A live session by id. */
  get(sessionId: string): LiveSession | undefined {
    const l = this.sessions.get(sessionId);
    return l && view(l);
  }

  /** Every session followed in memory (attempts included). */
  live(): LiveSession[] {
    return [...this.sessions.values()].map(view);
  }

  /** Live sessions of one user. */
  liveOf(userId: string): LiveSession[] {
    return [...(this.byUser.get(userId) ?? [])].map((id) => view(this.sessions.get(id)!));
  }

  /** Monotonic ms since the session started (0 when it has not). */
  elapsedMs(sessionId: string): number {
    const l = this.sessions.get(sessionId);
    if (!l || l.startedMono === undefined) return 0;
    return Math.max(0, Math.round(this.clock.now() - l.startedMono));
  }

  /** The rated cost of a live session so far (null when free or not established). */
  runningCost(sessionId: string): Money | null {
    const l = this.sessions.get(sessionId);
    if (!l || l.startedMono === undefined || l.segments.length === 0) return null;
    try {
      return rate({ service: l.service, tariff: l.segments[0].tariff }, toSegmentRecords(l), this.elapsedMs(sessionId))?.total ?? null;
    } catch {
      return null;
    }
  }

  runningCosts(userId: string, exceptSessionId?: string): Money[] {
    const out: Money[] = [];
    for (const id of this.byUser.get(userId) ?? []) {
      if (id === exceptSessionId) continue;
      const c = this.runningCost(id);
      if (c && c.amount !== 0) out.push(c);
    }
    return out;
  }

  /** Listens to sessions starting, changing and ending. Returns a function that stops listening. */
  onLiveChange(listener: (e: LiveSessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes pending liveness and waits for every queued write. */
  async flush(): Promise<void> {
    this.flushTouches();
    await this.committer.flush();
  }

  /** Stops the liveness timer and flushes. The committer stays open (it is shared). */
  async close(): Promise<void> {
    if (this.touchTimer !== undefined) this.clock.clearTimeout(this.touchTimer);
    this.touchTimer = undefined;
    await this.flush();
  }

  // -------------------------------------------------------------------------

  private track(m: AttemptMilestone, requestedAt?: number): Live {
    let live = this.sessions.get(m.sessionId);
    if (live) return live;
    live = {
      id: m.sessionId,
      forkGroup: m.forkGroup,
      linkedFrom: m.linkedFrom ?? null,
      userId: billingUserId(m.party.username, m.party.domain),
      plan: m.party.plan ?? null,
      service: m.service,
      appServer: m.target.appServer,
      callId: m.callId,
      callerTag: m.callerTag,
      calleeTag: m.calleeTag ?? null,
      requestedAt: requestedAt ?? this.clock.wallNow(),
      state: 'attempt',
      answeredMono: undefined,
      startedMono: undefined,
      startedAt: undefined,
      segments: [],
      relayFee: this.catalog.relayFee(m.service),
      inserted: false,
      answering: undefined,
      starting: undefined,
      ending: undefined,
    };
    this.add(live);
    return live;
  }

  private add(live: Live): void {
    this.sessions.set(live.id, live);
    let ids = this.byUser.get(live.userId);
    if (!ids) this.byUser.set(live.userId, (ids = new Set()));
    ids.add(live.id);
  }

  private forget(live: Live): void {
    this.sessions.delete(live.id);
    const ids = this.byUser.get(live.userId);
    ids?.delete(live.id);
    if (ids?.size === 0) this.byUser.delete(live.userId);
    this.touches.delete(live.id);
  }

  private insertLater(live: Live): void {
    if (live.inserted) return;
    live.inserted = true;
    const attempt = this.attemptOf(live);
    this.committer.post(async (trx) => {
      const sessions = new SessionRepository(trx);
      await sessions.insertAttempt({ ...attempt, operator: await this.operatorOf(sessions, live.appServer) }, attempt.requestedAt);
    });
  }

  private async operatorOf(sessions: SessionRepository, appServer: string): Promise<string> {
    const now = this.clock.now();
    const cached = this.operators.get(appServer);
    if (cached && now - cached.readAt < 60_000) return cached.operator;
    const operator = await sessions.operatorOf(appServer);
    if (this.operators.size > 10_000) this.operators.clear();
    this.operators.set(appServer, { operator, readAt: now });
    return operator;
  }

  private attemptOf(live: Live) {
    return {
      id: live.id,
      forkGroup: live.forkGroup,
      linkedFrom: live.linkedFrom,
      userId: live.userId,
      plan: live.plan,
      service: live.service,
      appServer: live.appServer,
      callId: live.callId,
      callerTag: live.callerTag,
      calleeTag: live.calleeTag,
      nodeId: this.nodeId,
      requestedAt: live.requestedAt,
      relayFee: live.relayFee,
    };
  }

  /** Updates the record, inserting the attempt first when no earlier write did. */
  private async updateRecord(
    trx: Kysely<Database>,
    live: Live,
    changes: SessionUpdate,
    at: number,
    onlyStates: readonly SessionState[],
  ): Promise<boolean> {
    const sessions = new SessionRepository(trx);
    if (await sessions.update(live.id, changes, at, onlyStates)) return true;
    // The attempt's insert was never queued, or failed: insert it now (a no-op when it exists).
    await sessions.insertAttempt(this.attemptOf(live), at);
    return sessions.update(live.id, changes, at, onlyStates);
  }

  private noteAlive(sessionId: string, at: number): void {
    if (!this.sessions.has(sessionId)) return;
    this.touches.set(sessionId, at);
    if (this.touchTimer === undefined) {
      this.touchTimer = this.clock.setTimeout(() => {
        this.touchTimer = undefined;
        this.flushTouches();
      }, this.aliveFlushMs);
    }
  }

  private flushTouches(): void {
    if (this.touches.size === 0) return;
    const byInstant = new Map<number, string[]>();
    for (const [id, at] of this.touches) {
      const rounded = at - (at % this.aliveResolutionMs);
      let ids = byInstant.get(rounded);
      if (!ids) byInstant.set(rounded, (ids = []));
      ids.push(id);
    }
    this.touches = new Map();
    this.committer.post(async (trx) => {
      const sessions = new SessionRepository(trx);
      for (const [at, ids] of byInstant) await sessions.touch(ids, at);
    });
  }

  private emit(type: LiveSessionEvent['type'], live: Live, closed?: ClosedSession): void {
    if (this.listeners.size === 0) return;
    const event: LiveSessionEvent = { type, session: view(live), closed };
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        this.options.onError?.(e, `live-session listener (${type})`);
      }
    }
  }
}

/** Longest body text of a change kept with its segment. */
const MAX_DETAILS_TEXT = 4096;

/**
 * What a segment keeps of a change: the relay core passes the re-INVITE or
 * UPDATE (`SessionChangeDetails`: method, side, content type, body); its
 * JSON service details are kept parsed, any other body as (bounded) text.
 * Anything else is kept as given.
 */
function segmentDetails(details: unknown): unknown {
  if (typeof details !== 'object' || details === null || !('body' in details) || !('method' in details)) return details ?? null;
  const d = details as { method: unknown; by?: unknown; contentType?: unknown; body: unknown };
  const type = typeof d.contentType === 'string' ? d.contentType : undefined;
  let body: unknown = typeof d.body === 'string' ? d.body : null;
  if (typeof body === 'string' && type !== undefined && (type === 'application/json' || type.endsWith('+json'))) {
    try {
      body = JSON.parse(body);
    } catch {
      // Kept as text: the change was accepted by both sides whatever its body.
    }
  }
  if (typeof body === 'string' && body.length > MAX_DETAILS_TEXT) body = body.slice(0, MAX_DETAILS_TEXT);
  return { method: d.method, by: d.by ?? null, contentType: type ?? null, details: body === '' ? null : body };
}

function json(v: unknown): string | null {
  return v === null || v === undefined ? null : JSON.stringify(v);
}

function toSegmentRecords(l: Live): SessionSegmentRecord[] {
  return l.segments.map((s, seq) => ({ seq, service: s.service, startedAt: 0, offsetMs: s.offsetMs, details: null, tariff: s.tariff }));
}

function view(l: Live): LiveSession {
  return {
    id: l.id,
    forkGroup: l.forkGroup,
    userId: l.userId,
    plan: l.plan,
    service: l.service,
    appServer: l.appServer,
    state: l.state,
    startedAt: l.startedAt,
    segments: l.segments.map((s) => ({ ...s })),
    relayFee: l.relayFee,
  };
}
