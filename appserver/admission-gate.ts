/**
 * Admission control of one service (issue 5: a maximum number of
 * concurrent sessions, answered 486 or 503 with Retry-After when full).
 * A slot is taken when an INVITE is admitted to the handler — so INVITEs
 * being decided count too, and a burst cannot overshoot — and given back
 * when the handler refuses it, the client cancels it, or its session ends.
 *
 * @example
 * ```ts
 * const gate = new AdmissionGate(10);
 * const slot = gate.tryEnter();
 * if (!slot) return invite.reject(486, { headers: [['Retry-After', '30']] });
 * session.on('ended', () => slot.release());
 * ```
 */
export class AdmissionGate {
  private inUse = 0;

  /** `max` concurrent sessions; `Infinity` for no limit. */
  constructor(readonly max: number) {
    if (!(max === Infinity || (Number.isSafeInteger(max) && max >= 1))) throw new TypeError(`maxSessions must be a positive integer, got ${String(max)}`);
  }

  /** Sessions (and INVITEs being decided) now. */
  get active(): number {
    return this.inUse;
  }

  /** True when no slot is free. */
  get full(): boolean {
    return this.inUse >= this.max;
  }

  /** A slot, or undefined when full. */
  tryEnter(): AdmissionSlot | undefined {
    if (this.full) return undefined;
    this.inUse++;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        this.inUse--;
      },
    };
  }
}

/**
 * One admitted INVITE or session; `release()` is idempotent.
 *
 * @example
 * ```ts
 * slot.release();
 * ```
 */
export interface AdmissionSlot {
  release(): void;
}
