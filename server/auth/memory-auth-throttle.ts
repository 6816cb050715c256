import { type Clock, systemClock } from '../../sip/util/clock.js';
import {
  type AuthThrottle,
  type AuthThrottleLimits,
  type ThrottleLimits,
  type ThrottleScope,
  type ThrottleState,
  MAX_COUNTED_USERNAME_LENGTH,
  checkThrottleLimits,
  throttleState,
} from './auth-throttle.js';

/** Options of {@link MemoryAuthThrottle}. */
export interface MemoryAuthThrottleOptions {
  limits: AuthThrottleLimits;
  /**
   * Most counters kept at once (pairs and addresses together). When full,
   * expired counters are dropped first, then the oldest one (counted in
   * `evictions`), which forgets its failures or lifts its block early. At
   * about 150 bytes a counter, the default 100 000 is some 15 MB.
   */
  maxEntries?: number;
  /** Monotonic time (`now()`). Default: the system clock. */
  clock?: Clock;
}

/** One counter: failures since the window started, or a block. */
interface Counter {
  failures: number;
  /** When the counter is forgotten: end of its window, or of its block. */
  expiresAt: number;
  /** When the block ends; 0 when not blocked. */
  blockedUntil: number;
}

/**
 * {@link AuthThrottle} in this process's memory, for a single relay node.
 * A window is fixed: it starts with the first failure of a counter and ends
 * `windowSeconds` later. Reaching `blockAfter` replaces the counter with a
 * block; when the block ends the counter starts from nothing.
 */
export class MemoryAuthThrottle implements AuthThrottle {
  readonly maxEntries: number;
  private readonly limits: AuthThrottleLimits;
  private readonly windowMs: number;
  private readonly clock: Clock;
  /** Insertion order is age order: a counter is re-inserted when it starts anew. */
  private readonly counters = new Map<string, Counter>();
  private _evictions = 0;

  constructor(options: MemoryAuthThrottleOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('MemoryAuthThrottle: options are required');
    checkThrottleLimits(options.limits, 'MemoryAuthThrottle');
    const maxEntries = options.maxEntries ?? 100_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 2) {
      throw new TypeError(`MemoryAuthThrottle: maxEntries must be an integer >= 2, got ${String(maxEntries)}`);
    }
    this.maxEntries = maxEntries;
    this.limits = options.limits;
    this.windowMs = options.limits.windowSeconds * 1000;
    this.clock = options.clock ?? systemClock;
  }

  check(address: string, username: string | undefined): ThrottleState {
    const now = this.clock.now();
    const a = this.live(addressKey(address), now);
    const p = username === undefined ? undefined : this.live(pairKey(address, username), now);
    return throttleState(this.limits, {
      address: view(a, now),
      pair: username === undefined ? undefined : view(p, now),
    });
  }

  recordFailure(address: string, username: string | undefined): ThrottleState {
    const now = this.clock.now();
    let blockStarted: ThrottleScope | undefined;
    if (this.count(addressKey(address), this.limits.perAddress, now)) blockStarted = 'address';
    if (username !== undefined && this.count(pairKey(address, username), this.limits.perUserAndAddress, now)) {
      blockStarted ??= 'user-address';
    }
    const state = this.check(address, username);
    return blockStarted ? { ...state, blockStarted } : state;
  }

  recordSuccess(address: string, username: string): void {
    const key = pairKey(address, username);
    const c = this.counters.get(key);
    // A success while blocked cannot happen (blocked requests are not verified); keep blocks anyway.
    if (c && c.blockedUntil <= this.clock.now()) this.counters.delete(key);
  }

  /** Counters held now (some may have expired and not been swept yet). */
  get size(): number {
    return this.counters.size;
  }

  /** Counters dropped before their time because the table was full. */
  get evictions(): number {
    return this._evictions;
  }

  /** The counter, or undefined when there is none or it has expired (then it is dropped). */
  private live(key: string, now: number): Counter | undefined {
    const c = this.counters.get(key);
    if (c && c.expiresAt <= now) {
      this.counters.delete(key);
      return undefined;
    }
    return c;
  }

  /** Counts a failure; true when it started a block. */
  private count(key: string, limits: ThrottleLimits, now: number): boolean {
    let c = this.live(key, now);
    if (c && c.blockedUntil > now) return false;
    if (!c) {
      this.makeRoom(now);
      c = { failures: 0, expiresAt: now + this.windowMs, blockedUntil: 0 };
      this.counters.set(key, c);
    }
    c.failures++;
    if (c.failures < limits.blockAfter) return false;
    c.failures = 0;
    c.blockedUntil = now + limits.blockSeconds * 1000;
    c.expiresAt = c.blockedUntil;
    return true;
  }

  private makeRoom(now: number): void {
    if (this.counters.size < this.maxEntries) return;
    // Sweep a bounded number of the oldest counters for expired ones first.
    let swept = 0;
    for (const [key, c] of this.counters) {
      if (swept++ >= 64) break;
      if (c.expiresAt <= now) this.counters.delete(key);
    }
    if (this.counters.size < this.maxEntries) return;
    const oldest = this.counters.keys().next();
    if (!oldest.done) {
      this.counters.delete(oldest.value);
      this._evictions++;
    }
  }
}

function addressKey(address: string): string {
  return 'a\u0000' + address;
}

function pairKey(address: string, username: string): string {
  return 'u\u0000' + address + '\u0000' + username.slice(0, MAX_COUNTED_USERNAME_LENGTH);
}

function view(c: Counter | undefined, now: number): { failures: number; blockedForMs: number } {
  if (!c) return { failures: 0, blockedForMs: 0 };
  return { failures: c.failures, blockedForMs: c.blockedUntil > now ? c.blockedUntil - now : 0 };
}
