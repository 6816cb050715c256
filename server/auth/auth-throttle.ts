/**
 * Counting of failed digest authentications (issue 3, item 3): failures
 * are counted per (username, source address) — so that someone guessing a
 * user's password from elsewhere cannot lock the real user out — and per
 * source address, against guessing across many usernames. Past `slowAfter`
 * failures within the window every answer is delayed; at `blockAfter` the
 * pair (or the address) is refused outright for `blockSeconds`.
 *
 * Two implementations share these semantics: {@link MemoryAuthThrottle}
 * (one node) and {@link RedisAuthThrottle} (a cluster, where every node
 * must see the same counts).
 */

/** The limits of one scope, as `auth.throttle.perUserAndAddress` / `perAddress` configure them. */
export interface ThrottleLimits {
  /** Failures within the window after which each answer is delayed. */
  slowAfter: number;
  /** How long a delayed answer waits, in ms. */
  slowDelayMs: number;
  /** Failures within the window after which requests are refused. */
  blockAfter: number;
  /** How long a block lasts, in seconds. */
  blockSeconds: number;
}

/** Limits of both scopes and the counting window. */
export interface AuthThrottleLimits {
  /** Failures older than this are forgotten (the window starts at the first failure). */
  windowSeconds: number;
  perUserAndAddress: ThrottleLimits;
  perAddress: ThrottleLimits;
}

/** Which counter refused a request. */
export type ThrottleScope = 'user-address' | 'address';

/** What the throttle says about a (username, address) pair now. */
export interface ThrottleState {
  /** Milliseconds until the block ends; 0 when not blocked. */
  blockedForMs: number;
  /** The counter that blocks, when blocked (the address wins when both do). */
  blockedScope: ThrottleScope | undefined;
  /** How long to hold the answer (slowed), 0 for none. */
  delayMs: number;
  /** Set by `recordFailure` when this very failure started a block. */
  blockStarted?: ThrottleScope;
}

/** The counters, behind either implementation. */
export interface AuthThrottle {
  /**
   * The state of `address`, and of (`username`, `address`) when a username
   * is given (the one claimed in the credentials: it proves nothing, which
   * is why it is only ever counted together with the address).
   */
  check(address: string, username: string | undefined): ThrottleState | Promise<ThrottleState>;
  /** Counts one failure for the address and, with a username, for the pair. */
  recordFailure(address: string, username: string | undefined): ThrottleState | Promise<ThrottleState>;
  /** A success: forgets the pair's failures (not the address's). */
  recordSuccess(address: string, username: string): void | Promise<void>;
}

/** The part of a claimed username used in counter keys: real usernames are at most 64 characters. */
export const MAX_COUNTED_USERNAME_LENGTH = 128;

/** Throws TypeError unless `limits` are usable. */
export function checkThrottleLimits(limits: AuthThrottleLimits, owner: string): void {
  if (limits === null || typeof limits !== 'object') throw new TypeError(`${owner}: limits are required`);
  positiveInteger(limits.windowSeconds, `${owner}: windowSeconds`);
  for (const scope of ['perUserAndAddress', 'perAddress'] as const) {
    const l = limits[scope];
    if (l === null || typeof l !== 'object') throw new TypeError(`${owner}: ${scope} is required`);
    positiveInteger(l.slowAfter, `${owner}: ${scope}.slowAfter`);
    positiveInteger(l.blockAfter, `${owner}: ${scope}.blockAfter`);
    positiveInteger(l.blockSeconds, `${owner}: ${scope}.blockSeconds`);
    if (!Number.isInteger(l.slowDelayMs) || l.slowDelayMs < 0) {
      throw new TypeError(`${owner}: ${scope}.slowDelayMs must be an integer >= 0, got ${String(l.slowDelayMs)}`);
    }
    if (l.slowAfter > l.blockAfter) throw new TypeError(`${owner}: ${scope}.slowAfter must not exceed blockAfter`);
  }
}

function positiveInteger(v: unknown, what: string): void {
  if (!Number.isInteger(v) || (v as number) < 1) throw new TypeError(`${what} must be an integer >= 1, got ${String(v)}`);
}

/** Counts of both scopes as read from a store; `undefined` for the pair when no username was given. */
export interface ThrottleCounts {
  address: { failures: number; blockedForMs: number };
  pair: { failures: number; blockedForMs: number } | undefined;
}

/** Turns raw counts into a {@link ThrottleState}; shared so both implementations decide alike. */
export function throttleState(limits: AuthThrottleLimits, counts: ThrottleCounts): ThrottleState {
  const { address, pair } = counts;
  let blockedForMs = 0;
  let blockedScope: ThrottleScope | undefined;
  if (address.blockedForMs > 0) {
    blockedForMs = address.blockedForMs;
    blockedScope = 'address';
  } else if (pair && pair.blockedForMs > 0) {
    blockedForMs = pair.blockedForMs;
    blockedScope = 'user-address';
  }
  let delayMs = 0;
  if (address.failures >= limits.perAddress.slowAfter) delayMs = limits.perAddress.slowDelayMs;
  if (pair && pair.failures >= limits.perUserAndAddress.slowAfter) {
    delayMs = Math.max(delayMs, limits.perUserAndAddress.slowDelayMs);
  }
  return { blockedForMs, blockedScope, delayMs };
}
