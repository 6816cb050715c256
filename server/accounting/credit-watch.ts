import { systemClock, type Clock, type TimerHandle } from '../../sip/util/clock.js';
import type { ChargeService } from './charge-service.js';
import type { CreditControl } from './credit-control.js';
import type { LiveSession, SessionRecorder } from './session-recorder.js';

/** The longest a timer can wait in Node (`setTimeout` takes a 32-bit signed delay). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options of {@link CreditWatch}. */
export interface CreditWatchOptions {
  readonly recorder: SessionRecorder;
  readonly credit: CreditControl;
  /** Accepted charges move the cut-off of the user's sessions. */
  readonly charges?: ChargeService;
  /** Timers. Default the system clock. */
  readonly clock?: Clock;
  /**
   * Called when a live session's credit is used up: the relay sends BYE to
   * both sides and ends the record with `recorder.end(id, 'credit-exhausted')`.
   * Called once per session.
   */
  readonly onExhausted: (session: LiveSession) => void;
  /** Failures of a recomputation (the store unreachable). Default: ignored. */
  readonly onError?: (error: unknown) => void;
  /**
   * How long before the start of the first increment the credit cannot pay
   * the session is ended. Timers fire late, never early; without a margin
   * the relay's BYE lands a few milliseconds into that increment, which is
   * then billed and leaves a prepaid balance below zero. Default 250 ms.
   */
  readonly cutoffMarginMs?: number;
}

const DEFAULT_CUTOFF_MARGIN_MS = 250;

/**
 * Arms a timer per live priced session for the moment its credit runs out
 * (docs/billing.md, "Credit control"): when a session starts or changes
 * service, when one of the user's sessions ends, when a charge is accepted,
 * and when {@link recheckUser} is called (after a top-up). When a timer
 * fires, the cut-off is computed again from the stored account; if it is
 * now, {@link CreditWatchOptions.onExhausted} is called, otherwise the timer
 * is armed again. Sending the BYEs is the relay's part.
 */
export class CreditWatch {
  private readonly clock: Clock;
  private readonly timers = new Map<string, { handle: TimerHandle; generation: number }>();
  private readonly generations = new Map<string, number>();
  private readonly exhausted = new Set<string>();
  private readonly unsubscribe: (() => void)[] = [];

  private readonly marginMs: number;

  constructor(private readonly options: CreditWatchOptions) {
    this.clock = options.clock ?? systemClock;
    this.marginMs = options.cutoffMarginMs ?? DEFAULT_CUTOFF_MARGIN_MS;
    if (!Number.isFinite(this.marginMs) || this.marginMs < 0) throw new TypeError('CreditWatchOptions.cutoffMarginMs must be a number >= 0');
    this.unsubscribe.push(
      options.recorder.onLiveChange((e) => {
        if (e.type === 'ended') {
          this.disarm(e.session.id);
          this.exhausted.delete(e.session.id);
          this.generations.delete(e.session.id);
        }
        // The others' running cost counts against each session of the user.
        this.recheckUser(e.session.userId);
      }),
    );
    if (options.charges) this.unsubscribe.push(options.charges.onAccepted((c) => this.recheckUser(c.userId)));
  }

  /** Recomputes the cut-off of every live session of the user. */
  recheckUser(userId: string): void {
    for (const s of this.options.recorder.liveOf(userId)) {
      if (s.state === 'established') void this.recheck(s.id);
    }
  }

  /** Recomputes one session's cut-off and arms its timer. Resolves when armed. */
  async recheck(sessionId: string): Promise<void> {
    const generation = (this.generations.get(sessionId) ?? 0) + 1;
    this.generations.set(sessionId, generation);
    let ms: number;
    try {
      ms = await this.options.credit.timeUntilExhausted(sessionId);
    } catch (e) {
      this.options.onError?.(e);
      return;
    }
    // A later recomputation has started meanwhile: it wins.
    if (this.generations.get(sessionId) !== generation) return;
    this.disarm(sessionId);
    const live = this.options.recorder.get(sessionId);
    if (!live || live.state !== 'established') return;
    // Ended a margin early so that the increment the credit cannot pay never starts.
    ms -= this.marginMs;
    if (ms <= 0) {
      if (this.exhausted.has(sessionId)) return;
      this.exhausted.add(sessionId);
      this.options.onExhausted(live);
      return;
    }
    if (!Number.isFinite(ms)) return;
    const handle = this.clock.setTimeout(() => {
      this.timers.delete(sessionId);
      void this.recheck(sessionId);
    }, Math.min(ms, MAX_TIMER_MS));
    this.timers.set(sessionId, { handle, generation });
  }

  /** Sessions with an armed timer (for tests and metrics). */
  get armed(): number {
    return this.timers.size;
  }

  /** Stops every timer and listener. */
  stop(): void {
    for (const u of this.unsubscribe.splice(0)) u();
    for (const id of [...this.timers.keys()]) this.disarm(id);
  }

  private disarm(sessionId: string): void {
    const t = this.timers.get(sessionId);
    if (t) this.clock.clearTimeout(t.handle);
    this.timers.delete(sessionId);
  }
}
