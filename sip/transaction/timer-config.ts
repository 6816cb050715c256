/**
 * Transaction timers of RFC 3261 §17 and Table 4 (§A), with the RFC 6026
 * timers L and M. Everything derives from T1, T2 and T4 so that a test or
 * a high-latency deployment changes three numbers and every timer follows.
 * All values are milliseconds.
 */
export interface TimerOptions {
  /** RTT estimate (§17.1.1.1). Default 500 ms. */
  t1?: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses (§17.1.2.2). Default 4000 ms; must be ≥ T1. */
  t2?: number;
  /** Longest time a message stays in the network (§17.1.2.2). Default 5000 ms. */
  t4?: number;
  /**
   * Timer D over unreliable transports: how long a client INVITE transaction
   * keeps absorbing retransmitted non-2xx responses. RFC 3261 asks for at
   * least 32 s. Default: the larger of 32 000 ms and 64*T1 (the span of the
   * server's own retransmissions, timer H).
   */
  timerD?: number;
  /**
   * Timer C of a stateful proxy (§16.6 step 11): how long an INVITE branch
   * may stay in Proceeding. RFC 3261 asks for more than 3 minutes.
   * Default 181 000 ms. Not used by the transaction layer itself; the proxy
   * core reads it from here so that all timers live in one place.
   */
  timerC?: number;
  /**
   * How long an INVITE server transaction waits for the TU's first response
   * before it sends 100 Trying itself (§17.2.1: "if the TU will not generate
   * a response within 200 ms"). `false` turns the automatic 100 off (the TU
   * then answers on its own, as a proxy does at once). Default 200 ms.
   */
  autoTrying?: number | false;
}

export const DEFAULT_T1 = 500;
export const DEFAULT_T2 = 4_000;
export const DEFAULT_T4 = 5_000;
export const DEFAULT_TIMER_C = 181_000;
export const DEFAULT_AUTO_TRYING = 200;
/** RFC 3261 §17.1.1.2: "at least 32 seconds for unreliable transports". */
export const MIN_TIMER_D_UNRELIABLE = 32_000;

function checkDuration(name: string, value: unknown, allowZero: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw new TypeError(`TimerOptions.${name} must be a ${allowZero ? 'non-negative' : 'positive'} finite number of milliseconds, got ${String(value)}`);
  }
  return value;
}

/**
 * The timers of one transaction layer, validated at construction (bad
 * options throw TypeError). Intervals that depend on the transport take
 * `reliable`; retransmission intervals take the number of retransmissions
 * already sent, so the state machines hold a counter instead of a duration.
 */
export class TimerConfig {
  readonly t1: number;
  readonly t2: number;
  readonly t4: number;
  /** Timer C (proxy INVITE branch, §16.6 step 11). */
  readonly timerC: number;
  /** Delay of the automatic 100 Trying, or `false` when off (§17.2.1). */
  readonly autoTrying: number | false;
  private readonly d: number;

  constructor(options: TimerOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('TimerOptions must be an object');
    this.t1 = checkDuration('t1', options.t1 ?? DEFAULT_T1, false);
    this.t2 = checkDuration('t2', options.t2 ?? DEFAULT_T2, false);
    this.t4 = checkDuration('t4', options.t4 ?? DEFAULT_T4, false);
    if (this.t2 < this.t1) throw new TypeError(`TimerOptions.t2 (${this.t2}) must not be below t1 (${this.t1})`);
    this.timerC = checkDuration('timerC', options.timerC ?? DEFAULT_TIMER_C, false);
    this.d = checkDuration('timerD', options.timerD ?? Math.max(MIN_TIMER_D_UNRELIABLE, 64 * this.t1), true);
    const trying = options.autoTrying ?? DEFAULT_AUTO_TRYING;
    this.autoTrying = trying === false ? false : checkDuration('autoTrying', trying, true);
  }

  /** Timer A, INVITE request retransmit interval (§17.1.1.2): T1, doubling, no cap. */
  timerA(retransmissions: number): number {
    return this.t1 * 2 ** retransmissions;
  }

  /** Timer B, INVITE transaction timeout: 64*T1. */
  get timerB(): number {
    return 64 * this.t1;
  }

  /** Timer D, wait time for response retransmissions: ≥ 32 s unreliable, 0 reliable. */
  timerD(reliable: boolean): number {
    return reliable ? 0 : this.d;
  }

  /** Timer E, non-INVITE request retransmit interval: T1 doubling, capped at T2 (§17.1.2.2). */
  timerE(retransmissions: number): number {
    return Math.min(this.t1 * 2 ** retransmissions, this.t2);
  }

  /** Timer F, non-INVITE transaction timeout: 64*T1. */
  get timerF(): number {
    return 64 * this.t1;
  }

  /** Timer G, INVITE response retransmit interval: T1 doubling, capped at T2 (§17.2.1). */
  timerG(retransmissions: number): number {
    return Math.min(this.t1 * 2 ** retransmissions, this.t2);
  }

  /** Timer H, wait time for ACK receipt: 64*T1. */
  get timerH(): number {
    return 64 * this.t1;
  }

  /** Timer I, wait time for ACK retransmissions: T4 unreliable, 0 reliable. */
  timerI(reliable: boolean): number {
    return reliable ? 0 : this.t4;
  }

  /** Timer J, wait time for non-INVITE request retransmissions: 64*T1 unreliable, 0 reliable. */
  timerJ(reliable: boolean): number {
    return reliable ? 0 : 64 * this.t1;
  }

  /** Timer K, wait time for non-INVITE response retransmissions: T4 unreliable, 0 reliable. */
  timerK(reliable: boolean): number {
    return reliable ? 0 : this.t4;
  }

  /** Timer L (RFC 6026 §7.1), how long an accepted INVITE server transaction lives: 64*T1, every transport. */
  get timerL(): number {
    return 64 * this.t1;
  }

  /** Timer M (RFC 6026 §7.2), how long an accepted INVITE client transaction lives: 64*T1, every transport. */
  get timerM(): number {
    return 64 * this.t1;
  }
}
