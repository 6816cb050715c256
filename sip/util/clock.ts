/**
 * Time as the SIP core sees it. Everything that waits (transaction timers,
 * session timers, nonce expiry) takes a Clock, so tests drive time by hand
 * and production uses the monotonic platform clock.
 */
export interface TimerHandle {
  /** Opaque; pass back to {@link Clock.clearTimeout}. */
  readonly __timer: true;
}

export interface Clock {
  /** Monotonic milliseconds (not wall time); only differences are meaningful. */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for instants that are stored. */
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The platform clock: `performance.now()` and the host's timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Timers must never keep a Node process alive on their own.
    (t as unknown as { unref?: () => void }).unref?.();
    return t as unknown as TimerHandle;
  },
  clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
};

interface ManualTimer extends TimerHandle {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to: `advance(ms)` runs every timer that
 * falls due, in order of due time. For tests of timer-driven state machines.
 */
export class ManualClock implements Clock {
  private current = 0;
  private seq = 0;
  private timers: ManualTimer[] = [];

  constructor(private readonly wallStart = Date.UTC(2026, 0, 1)) {}

  now(): number {
    return this.current;
  }

  wallNow(): number {
    return this.wallStart + this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { __timer: true as const, at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(t);
    return t;
  }

  clearTimeout(handle: TimerHandle): void {
    (handle as ManualTimer).cancelled = true;
  }

  /** Number of timers still waiting. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing due timers (including ones they set). */
  advance(ms: number): void {
    const target = this.current + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.timers) {
        if (t.cancelled || t.at > target) continue;
        if (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq)) next = t;
      }
      if (!next) break;
      this.current = next.at;
      next.cancelled = true;
      this.timers = this.timers.filter((t) => t !== next);
      next.fn();
    }
    this.current = target;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}
