import { systemClock, type Clock, type TimerHandle } from '../../sip/util/clock.js';
import { noopLogger, type SipLogger } from '../../sip/util/logger.js';
import type { ClosedSession } from '../accounting/close-session.js';
import type { OpenSession } from '../accounting/session-recovery.js';
import type { ServiceConfig } from '../config/service-config.js';
import type { RelayedDialog } from '../core/dialog-registry.js';
import type { DialogSnapshot } from '../core/dialog-snapshot.js';
import type { DialogClosedBy, DialogSupervision } from '../core/dialog-supervision.js';
import type { SessionTimerTerms } from '../core/session-timer.js';
import type { SessionEndedBy } from '../store/session-repository.js';
import type { DialogJournal } from './dialog-journal.js';
import { relayEndReason, type RelayEndCause } from './relay-end-reason.js';

/** What the supervisor needs of the relay core (`RelayCore` has all of it). */
export interface SupervisedRelay {
  readonly dialogs: { bySessionId(sessionId: string): RelayedDialog | undefined };
  liveDialogs(): readonly RelayedDialog[];
  endDialog(dialog: RelayedDialog | string, options?: { reason?: string }): Promise<{ caller: number; callee: number }>;
  probeDialog(dialog: RelayedDialog | string, toward: 'caller' | 'callee'): Promise<number>;
  restoreDialog(snapshot: DialogSnapshot, started: boolean): RelayedDialog | undefined;
}

/** What the supervisor needs of accounting (`Accounting`'s recorder and recovery, wired in server/relay.ts). */
export interface SupervisorAccounting {
  /** Ends the record: `SessionRecorder.end`. */
  end(sessionId: string, by: SessionEndedBy, reason?: string): Promise<ClosedSession | undefined>;
  /** `SessionRecovery.openSessions`. */
  openSessions(nodeId: string): Promise<OpenSession[]>;
  /** The relay carries the session on: `SessionRecovery.adopt` (and re-arm its credit watch). */
  adopt(session: OpenSession): void;
  /** Ends it as `interrupted` at its last-alive instant: `SessionRecovery.markInterrupted`. */
  interrupt(sessionId: string, lastAliveAt: number): Promise<unknown>;
}

/** Options of {@link SessionSupervisor}. */
export interface SessionSupervisorOptions {
  /** This node's id (restart recovery rebuilds its sessions). */
  readonly nodeId: string;
  /** The services: `maxDurationSeconds` is read from them. */
  readonly services: readonly Pick<ServiceConfig, 'name' | 'maxDurationSeconds'>[];
  /** Records the ends; optional (nothing recorded, no recovery, without it). */
  readonly accounting?: SupervisorAccounting;
  /** Keeps each dialog's snapshot for a restart; optional (nothing to rebuild without it). */
  readonly journal?: DialogJournal;
  /**
   * After a restart, how long a rebuilt session may stay silent (no
   * in-dialog request, and its sides not both answering the relay's
   * OPTIONS) before it is ended as `interrupted`. Default 60 000 ms.
   */
  readonly recoveryGraceMs?: number;
  /**
   * How long a session whose caller's connection closed may wait for the
   * caller to come back on a new one (a browser reconnecting) before it is
   * ended as `interrupted` at the instant the connection closed. Default
   * 30 000 ms.
   */
  readonly flowLossGraceMs?: number;
  /** Every timer. Default the system clock. */
  readonly clock?: Clock;
  readonly logger?: SipLogger;
  /** Failures nobody waits for (a record not ended, a snapshot not written). Default: logged at error. */
  readonly onError?: (error: unknown, context: string) => void;
}

/** A session the relay is ending itself. */
export interface SessionEnding {
  readonly sessionId: string;
  /** What the record says ended it. */
  readonly endedBy: SessionEndedBy;
  /** The record's end reason. */
  readonly reason: string;
  /**
   * Settles when the record is ended (stored): what accounting stored, or
   * undefined (no accounting, no such record, closed already, or the
   * store failed — reported to `onError`).
   */
  readonly recorded: Promise<ClosedSession | undefined>;
  /** The final status of the BYE to each side (see `RelayCore.endDialog`). */
  readonly byes: Promise<{ caller: number; callee: number }>;
}

/** What {@link SessionSupervisor.recover} did. */
export interface RecoveryReport {
  /** Sessions whose dialogs were rebuilt: they carry on if they show life within the grace period. */
  readonly restored: readonly string[];
  /** Sessions ended as `interrupted` at once (nothing to rebuild them from: attempts, no snapshot). */
  readonly interrupted: readonly string[];
}

/** The relay's watch over one live service dialog: one timer, at the earliest of its deadlines. */
interface Watch {
  readonly dialog: RelayedDialog;
  intervalMs: number;
  /** A session timer the UAs negotiated (RFC 4028): no refresh in time means the session is over. */
  negotiated: boolean;
  /** Monotonic ms: when the session expires without a refresh. */
  expiresAt: number;
  /** Monotonic ms: the service's maximum duration (Infinity for none). */
  maxAt: number;
  timer: TimerHandle | undefined;
  timerAt: number;
  probing: boolean;
  /** Rebuilt after a restart and not adopted yet: its record, and when it is ended as interrupted. */
  recovery: { readonly session: OpenSession; readonly deadline: number } | undefined;
  /** The caller's connection closed: when (monotonic and wall ms), and when the session ends unless it comes back. */
  callerLost: { readonly at: number; readonly wallAt: number; readonly deadline: number } | undefined;
}

/** The longest a timer can wait in Node (`setTimeout` takes a 32-bit signed delay). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Probe answers that say the side no longer has the dialog (RFC 3261 §12.2.1.2) or cannot be reached. */
function isGone(status: number): boolean {
  return status === 0 || status === 408 || status === 430 || status === 481;
}

/**
 * Supervises the relay's live sessions (issue 4 item 2; docs/sessions.md):
 *
 * - **Session timers** (RFC 4028): a session whose UAs negotiated a timer
 *   and did not refresh it (a 2xx to re-INVITE or UPDATE) within the
 *   interval is over at its expiry (§10) — the relay sends BYE to both
 *   sides and records `session-timer`. When neither UA took the timer,
 *   the relay uses its own interval: when it passes without a refresh, it
 *   asks both sides with an OPTIONS in the dialog, and ends the session
 *   (`session-timer`) when either has lost it or does not answer.
 * - **Maximum duration** per service: `max-duration`.
 * - **Ends by others**: the operator (`operator`), credit control
 *   (`credit-exhausted`), shutdown (recorded as `operator`).
 * - **Restart recovery**: rebuilds this node's live dialogs from their
 *   snapshots; a session carries on when it shows life (an in-dialog
 *   request, or both sides answering an OPTIONS) within the grace period,
 *   and is ended as `interrupted` otherwise.
 *
 * One timer per session, at its earliest deadline; refreshes only move a
 * number (the timer re-arms itself when it fires early). It is the relay
 * core's {@link DialogSupervision}; `attach(core)` gives it the core.
 */
export class SessionSupervisor implements DialogSupervision {
  private relay: SupervisedRelay | undefined;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private readonly watches = new Map<string, Watch>();
  private readonly maxDurations = new Map<string, number>();
  private readonly recoveryGraceMs: number;
  private readonly flowLossGraceMs: number;
  private stopped = false;

  constructor(private readonly options: SessionSupervisorOptions) {
    if (!options || typeof options.nodeId !== 'string' || options.nodeId === '') throw new TypeError('SessionSupervisorOptions.nodeId must be a non-empty string');
    if (!Array.isArray(options.services)) throw new TypeError('SessionSupervisorOptions.services must be a list');
    const grace = options.recoveryGraceMs ?? 60_000;
    if (!Number.isSafeInteger(grace) || grace < 0) throw new TypeError('SessionSupervisorOptions.recoveryGraceMs must be a non-negative integer');
    this.recoveryGraceMs = grace;
    const flowGrace = options.flowLossGraceMs ?? 30_000;
    if (!Number.isSafeInteger(flowGrace) || flowGrace < 0) throw new TypeError('SessionSupervisorOptions.flowLossGraceMs must be a non-negative integer');
    this.flowLossGraceMs = flowGrace;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    for (const s of options.services) {
      if (s.maxDurationSeconds !== null && s.maxDurationSeconds !== undefined) this.maxDurations.set(s.name, s.maxDurationSeconds * 1000);
    }
  }

  /** Gives the supervisor the relay core it works through (made after the supervisor, which the core takes). */
  attach(relay: SupervisedRelay): void {
    this.relay = relay;
  }

  /** Sessions under watch. */
  get size(): number {
    return this.watches.size;
  }

  /** Session-timer and duration deadlines of a watched session (monotonic ms), for tests and the admin API. */
  deadlines(sessionId: string): { expiresAt: number; maxAt: number; negotiated: boolean; recovering: boolean } | undefined {
    const w = this.watches.get(sessionId);
    return w && { expiresAt: w.expiresAt, maxAt: w.maxAt, negotiated: w.negotiated, recovering: w.recovery !== undefined };
  }

  // ---- DialogSupervision ------------------------------------------------------------

  answered(dialog: RelayedDialog, terms: SessionTimerTerms): Promise<void> | void {
    if (this.stopped) return;
    const now = this.clock.now();
    const intervalMs = terms.intervalSeconds * 1000;
    const max = this.maxDurations.get(dialog.service);
    const w: Watch = {
      dialog,
      intervalMs,
      negotiated: terms.refresher !== undefined,
      expiresAt: now + intervalMs,
      maxAt: max === undefined ? Infinity : now + max,
      timer: undefined,
      timerAt: Infinity,
      probing: false,
      recovery: undefined,
      callerLost: undefined,
    };
    this.watches.set(dialog.sessionId, w);
    this.schedule(w);
    const journal = this.options.journal;
    if (journal === undefined) return;
    return journal.record(dialog).catch((e: unknown) => this.report(e, `snapshot of session ${dialog.sessionId}`));
  }

  started(dialog: RelayedDialog): void {
    const w = this.watches.get(dialog.sessionId);
    if (w === undefined || w.dialog !== dialog) return;
    // The session's time runs from the ACK (design brief flow 4), and so does its maximum duration.
    const max = this.maxDurations.get(dialog.service);
    if (max !== undefined) w.maxAt = this.clock.now() + max;
  }

  refreshed(dialog: RelayedDialog, terms: SessionTimerTerms): void {
    const w = this.watches.get(dialog.sessionId);
    if (w === undefined || w.dialog !== dialog) return;
    w.intervalMs = terms.intervalSeconds * 1000;
    w.negotiated = terms.refresher !== undefined;
    w.expiresAt = this.clock.now() + w.intervalMs;
    if (w.recovery === undefined) this.schedule(w);
    // A target refresh may have changed a Contact the relay's own BYE goes to.
    this.options.journal?.update(dialog);
  }

  resumed(dialog: RelayedDialog): void {
    const w = this.watches.get(dialog.sessionId);
    if (w !== undefined && w.dialog === dialog && w.recovery !== undefined) this.adopt(w, 'in-dialog request');
  }

  replaced(old: RelayedDialog, by: RelayedDialog): void {
    this.endSession(old.sessionId, 'replaced', `replaced by session ${by.sessionId}`);
  }

  callerFlowLost(dialog: RelayedDialog): void {
    const w = this.watches.get(dialog.sessionId);
    if (w === undefined || w.dialog !== dialog || w.callerLost !== undefined) return;
    const now = this.clock.now();
    w.callerLost = { at: now, wallAt: this.clock.wallNow(), deadline: now + this.flowLossGraceMs };
    this.logger.info({ sessionId: dialog.sessionId, graceMs: this.flowLossGraceMs }, "the caller's connection closed; waiting for it to come back");
    this.schedule(w);
  }

  callerFlowRegained(dialog: RelayedDialog): void {
    const w = this.watches.get(dialog.sessionId);
    if (w === undefined || w.dialog !== dialog || w.callerLost === undefined) return;
    w.callerLost = undefined;
    this.logger.info({ sessionId: dialog.sessionId }, 'the caller is back on a new connection');
  }

  closed(dialog: RelayedDialog, _by: DialogClosedBy): void {
    const w = this.watches.get(dialog.sessionId);
    if (w === undefined || w.dialog !== dialog) return;
    this.unwatch(w);
    this.options.journal?.remove(dialog.sessionId);
  }

  // ---- ending sessions ----------------------------------------------------------------

  /**
   * Ends a live session from the relay: the record is ended (`endedBy`,
   * from `cause`; a shutdown is recorded as `operator`) at this instant,
   * and a BYE goes to each side with a Reason naming the cause. Undefined
   * when no live dialog has that session id (unknown, or ended already).
   * `detail` replaces the default end reason (an operator's `--reason`).
   */
  endSession(sessionId: string, cause: RelayEndCause, detail?: string): SessionEnding | undefined {
    const relay = this.relay;
    if (relay === undefined) throw new TypeError('SessionSupervisor.attach(core) was not called');
    const dialog = relay.dialogs.bySessionId(sessionId);
    if (dialog === undefined) return undefined;
    // A shutdown is the operator's doing; a session replaced by its user's new one (RFC 3891) was ended by its caller.
    const endedBy: SessionEndedBy = cause === 'shutdown' ? 'operator' : cause === 'replaced' ? 'caller' : cause;
    const reason = relayEndReason(cause, detail);
    // The end instant is now, whatever the BYEs meet: the record is ended first, beside them.
    const recorded = this.recordEnd(dialog, endedBy, reason.text);
    const byes = relay.endDialog(dialog, { reason: reason.header });
    this.logger.info({ sessionId, endedBy, reason: reason.text, service: dialog.service }, 'relay ends session');
    return { sessionId, endedBy, reason: reason.text, recorded, byes };
  }

  /**
   * Ends every live dialog (shutdown): service sessions as
   * {@link endSession} with `cause`, others with BYEs alone. `recorded`
   * settles when every record is ended, `byes` when every BYE is answered
   * (or timed out).
   */
  endAll(cause: RelayEndCause, detail?: string): { endings: SessionEnding[]; recorded: Promise<void>; byes: Promise<void> } {
    const relay = this.relay;
    const endings: SessionEnding[] = [];
    const byes: Promise<unknown>[] = [];
    for (const d of relay?.liveDialogs() ?? []) {
      if (d.kind === 'service') {
        const e = this.endSession(d.sessionId, cause, detail);
        if (e !== undefined) {
          endings.push(e);
          byes.push(e.byes);
        }
      } else if (relay !== undefined) {
        byes.push(relay.endDialog(d, { reason: relayEndReason(cause, detail).header }));
      }
    }
    const settled = (ps: Promise<unknown>[]) => Promise.allSettled(ps).then(() => undefined);
    return { endings, recorded: settled(endings.map((e) => e.recorded)), byes: settled(byes) };
  }

  /** Stops every timer; later dialogs are not watched. */
  stop(): void {
    this.stopped = true;
    for (const w of [...this.watches.values()]) this.unwatch(w);
  }

  // ---- restart recovery --------------------------------------------------------------

  /**
   * After a restart, before the transport starts: finds this node's open
   * session records, rebuilds the dialogs of those with a snapshot in the
   * relay core, and ends the others as `interrupted` at once (attempts and
   * sessions whose snapshot was never written have nothing to carry on
   * with). A rebuilt session carries on as soon as it shows life (see
   * {@link startRecoveryProbes}); the others are ended as `interrupted`
   * at their last-alive instant once the grace period has passed.
   * Snapshots of sessions that are no longer open are removed.
   */
  async recover(): Promise<RecoveryReport> {
    const { accounting, journal } = this.options;
    const relay = this.relay;
    if (accounting === undefined || relay === undefined) return { restored: [], interrupted: [] };
    const open = await accounting.openSessions(this.options.nodeId);
    const snapshots = journal ? await journal.load() : new Map<string, DialogSnapshot>();
    const restored: string[] = [];
    const interrupted: string[] = [];
    const deadline = this.clock.now() + this.recoveryGraceMs;
    for (const session of open) {
      const id = session.record.id;
      const state = session.record.state;
      const snapshot = snapshots.get(id);
      const dialog = snapshot !== undefined && (state === 'established' || state === 'answered') ? relay.restoreDialog(snapshot, state === 'established') : undefined;
      if (dialog === undefined) {
        interrupted.push(id);
        await accounting.interrupt(id, session.lastAliveAt);
        continue;
      }
      restored.push(id);
      const terms = snapshot?.sessionTimer;
      const intervalMs = (terms?.intervalSeconds ?? 1800) * 1000;
      const w: Watch = {
        dialog,
        intervalMs,
        negotiated: terms?.refresher !== undefined && terms?.refresher !== null,
        expiresAt: Infinity,
        maxAt: Infinity,
        timer: undefined,
        timerAt: Infinity,
        probing: false,
        recovery: { session, deadline },
        callerLost: undefined,
      };
      this.watches.set(id, w);
      this.schedule(w);
    }
    await journal?.prune(new Set(restored));
    if (restored.length || interrupted.length) this.logger.info({ restored: restored.length, interrupted: interrupted.length }, 'sessions recovered after a restart');
    return { restored, interrupted };
  }

  /**
   * Once the transport has started: asks both sides of every rebuilt
   * session whether they still have it (an OPTIONS in the dialog); a
   * session both sides answer carries on.
   */
  startRecoveryProbes(): void {
    for (const w of this.watches.values()) if (w.recovery !== undefined && !w.probing) this.probe(w);
  }

  // ---- internals ---------------------------------------------------------------------

  private recordEnd(dialog: RelayedDialog, by: SessionEndedBy, reason: string): Promise<ClosedSession | undefined> {
    const accounting = this.options.accounting;
    if (accounting === undefined || dialog.kind !== 'service') return Promise.resolve(undefined);
    return accounting.end(dialog.sessionId, by, reason).catch((e: unknown) => {
      this.report(e, `end of session ${dialog.sessionId}`);
      return undefined;
    });
  }

  /** The session carries on after a restart: accounting follows it again, and the usual supervision starts. */
  private adopt(w: Watch, why: string): void {
    const recovery = w.recovery;
    if (recovery === undefined) return;
    w.recovery = undefined;
    try {
      this.options.accounting?.adopt(recovery.session);
    } catch (e) {
      this.report(e, `adoption of session ${w.dialog.sessionId}`);
    }
    const now = this.clock.now();
    w.expiresAt = now + w.intervalMs;
    const max = this.maxDurations.get(w.dialog.service);
    const startedAt = recovery.session.record.startedAt ?? recovery.session.record.answeredAt;
    if (max !== undefined && startedAt !== null) w.maxAt = now + Math.max(0, startedAt + max - this.clock.wallNow());
    this.logger.info({ sessionId: w.dialog.sessionId, why }, 'session carries on after the restart');
    this.schedule(w);
  }

  /** Arms the watch's timer for its earliest deadline, unless one already fires at or before it. */
  private schedule(w: Watch): void {
    const at = Math.min(
      w.recovery !== undefined ? w.recovery.deadline : Math.min(w.expiresAt, w.maxAt),
      w.callerLost !== undefined ? w.callerLost.deadline : Infinity,
    );
    if (!Number.isFinite(at)) return;
    if (w.timer !== undefined) {
      if (w.timerAt <= at) return;
      this.clock.clearTimeout(w.timer);
    }
    const now = this.clock.now();
    w.timerAt = at;
    w.timer = this.clock.setTimeout(() => this.fire(w), Math.min(Math.max(0, at - now), MAX_TIMER_MS));
  }

  private unwatch(w: Watch): void {
    if (w.timer !== undefined) this.clock.clearTimeout(w.timer);
    w.timer = undefined;
    if (this.watches.get(w.dialog.sessionId) === w) this.watches.delete(w.dialog.sessionId);
  }

  private fire(w: Watch): void {
    w.timer = undefined;
    w.timerAt = Infinity;
    if (this.watches.get(w.dialog.sessionId) !== w) return;
    const now = this.clock.now();
    if (w.callerLost !== undefined && now >= w.callerLost.deadline) {
      this.callerGone(w);
      return;
    }
    if (w.recovery !== undefined) {
      if (now >= w.recovery.deadline) this.interrupt(w);
      else this.schedule(w);
      return;
    }
    if (now >= w.maxAt) {
      this.endSession(w.dialog.sessionId, 'max-duration');
      return;
    }
    if (now >= w.expiresAt) {
      // RFC 4028 §10: a negotiated timer not refreshed by its expiry means the session is over.
      if (w.negotiated) this.endSession(w.dialog.sessionId, 'session-timer');
      else if (!w.probing) this.probe(w);
      return;
    }
    this.schedule(w);
  }

  /** An OPTIONS in the dialog to each side; both answering means the session is alive. */
  private probe(w: Watch): void {
    const relay = this.relay;
    if (relay === undefined) return;
    w.probing = true;
    const id = w.dialog.sessionId;
    Promise.all([relay.probeDialog(w.dialog, 'caller'), relay.probeDialog(w.dialog, 'callee')]).then(
      ([caller, callee]) => {
        w.probing = false;
        if (this.watches.get(id) !== w) return;
        const gone = isGone(caller) ? 'caller' : isGone(callee) ? 'callee' : undefined;
        if (w.recovery !== undefined) {
          // A rebuilt session that does not answer waits out its grace period: an in-dialog request may still come.
          if (gone === undefined) this.adopt(w, 'both sides answered');
          return;
        }
        if (gone !== undefined) {
          const status = gone === 'caller' ? caller : callee;
          this.endSession(id, 'session-timer', `not refreshed in time, and the ${gone === 'caller' ? 'caller' : 'callee'} did not answer (${status || 'unreachable'})`);
          return;
        }
        w.expiresAt = this.clock.now() + w.intervalMs;
        this.schedule(w);
      },
      (e: unknown) => {
        w.probing = false;
        this.report(e, `probe of session ${id}`);
      },
    );
  }

  /** A rebuilt session showed no life within the grace period: `interrupted` at its last-alive instant. */
  private interrupt(w: Watch): void {
    const recovery = w.recovery;
    const relay = this.relay;
    if (recovery === undefined || relay === undefined) return;
    const id = w.dialog.sessionId;
    this.logger.info({ sessionId: id, lastAliveAt: recovery.session.lastAliveAt }, 'session interrupted by the restart');
    this.options.accounting?.interrupt(id, recovery.session.lastAliveAt).catch((e: unknown) => this.report(e, `interruption of session ${id}`));
    // Whichever side is still there learns it is over.
    void relay.endDialog(w.dialog, { reason: relayEndReason('interrupted').header });
  }

  /**
   * The caller did not come back within the grace period: the session ends
   * as `interrupted` at the instant its connection closed (the user is not
   * billed for time nobody could use), and the application server gets a
   * BYE.
   */
  private callerGone(w: Watch): void {
    const lost = w.callerLost;
    const relay = this.relay;
    if (lost === undefined || relay === undefined) return;
    this.unwatch(w);
    const id = w.dialog.sessionId;
    this.logger.info({ sessionId: id }, "the caller's connection did not come back: session interrupted");
    this.options.accounting?.interrupt(id, lost.wallAt).catch((e: unknown) => this.report(e, `interruption of session ${id}`));
    void relay.endDialog(w.dialog, { reason: relayEndReason('interrupted', "the client's connection was lost").header });
  }

  private report(e: unknown, context: string): void {
    if (this.options.onError) {
      try {
        this.options.onError(e, context);
      } catch {
        // nowhere left to report to
      }
      return;
    }
    this.logger.error({ err: e, context }, 'session supervision error');
  }
}
