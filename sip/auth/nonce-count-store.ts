import { type Clock, systemClock } from '../util/clock.js';
import { DEFAULT_NONCE_FUTURE_SKEW_MS, DEFAULT_NONCE_LIFETIME_MS } from './nonce-service.js';

/**
 * Remembers the highest nonce count (`nc`) accepted for each nonce, so that
 * a captured request cannot be replayed: RFC 7616 §3.4 gives `nc` to let
 * the server detect replays by keeping its own copy of the count (see also
 * §5.5). We require each count to exceed every earlier one, which also
 * refuses a request overtaken by a later one on the same nonce; a client
 * whose request was refused that way gets a `stale=true` challenge.
 *
 * `checkAndRecord` must be atomic per nonce: two requests racing with the
 * same `nc` must not both get `true`. The relay's cluster-wide
 * implementation (Redis) does the compare-and-set in one script, which is
 * why the result may be a Promise.
 */
export interface NonceCountStore {
  /**
   * True, and `nc` becomes the nonce's high-water mark, when `nc` is greater
   * than every count accepted for `nonce` so far (or the nonce is new);
   * false otherwise. `nc` is an integer in 0..2^32, where 2^32
   * ({@link NONCE_COUNT_CONSUMED}) marks a nonce used without qop, which
   * may not be used again.
   */
  checkAndRecord(nonce: string, nc: number): boolean | Promise<boolean>;
}

/**
 * The count a verifier records for a response without qop (RFC 2069 form):
 * above every 8-hex-digit `nc`, so that such a nonce is used once only.
 */
export const NONCE_COUNT_CONSUMED = 0x1_0000_0000;

/** Options of {@link MemoryNonceCountStore}. */
export interface MemoryNonceCountStoreOptions {
  /**
   * Most nonces remembered at once. When full, the oldest entry is dropped
   * (counted in `evictions`), which lets that nonce be replayed until it
   * goes stale, so size it above peak authenticated nonces per second times
   * `retentionMs`. Default 500 000 (about 60 MB when full; bench/digest-bench.ts).
   */
  maxEntries?: number;
  /**
   * How long a nonce is remembered after its first use. It must cover the
   * whole time the nonce can be `valid`: the NonceService's `lifetimeMs`
   * plus its `maxFutureSkewMs`. Default 305 000 ms (both defaults).
   */
  retentionMs?: number;
  /** Monotonic time for expiry (`now()`). Default: the system clock. */
  clock?: Clock;
}

/**
 * A {@link NonceCountStore} in this process's memory: right for one relay
 * node, for the user-agent side, and for tests. Bounded in count and in
 * time. A Map answers lookups; a first-in first-out queue of (nonce, expiry)
 * beside it finds what to drop, because every nonce has the same retention,
 * so first in is first out. (Iterating the Map from its front instead would
 * step over every slot deleted since V8 last rehashed it, which made each
 * call cost thousands of steps at steady state.)
 */
export class MemoryNonceCountStore implements NonceCountStore {
  readonly maxEntries: number;
  readonly retentionMs: number;
  private readonly clock: Clock;
  /** Highest count accepted per nonce. */
  private readonly counts = new Map<string, number>();
  /** Nonces in first-use order from `head` on, with when each is forgotten. */
  private queue: string[] = [];
  private expiries: number[] = [];
  private head = 0;
  private _evictions = 0;

  constructor(options: MemoryNonceCountStoreOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('MemoryNonceCountStore: options must be an object');
    const maxEntries = options.maxEntries ?? 500_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`MemoryNonceCountStore: maxEntries must be a positive integer, got ${String(maxEntries)}`);
    }
    const retentionMs = options.retentionMs ?? DEFAULT_NONCE_LIFETIME_MS + DEFAULT_NONCE_FUTURE_SKEW_MS;
    if (typeof retentionMs !== 'number' || !Number.isFinite(retentionMs) || retentionMs <= 0) {
      throw new TypeError(`MemoryNonceCountStore: retentionMs must be a positive finite number, got ${String(retentionMs)}`);
    }
    this.maxEntries = maxEntries;
    this.retentionMs = retentionMs;
    this.clock = options.clock ?? systemClock;
  }

  checkAndRecord(nonce: string, nc: number): boolean {
    if (!Number.isInteger(nc) || nc < 0 || nc > NONCE_COUNT_CONSUMED) {
      throw new TypeError(`nonce count out of range: ${String(nc)}`);
    }
    const now = this.clock.now();
    this.dropExpired(now);
    const seen = this.counts.get(nonce);
    if (seen !== undefined) {
      if (nc <= seen) return false;
      this.counts.set(nonce, nc);
      return true;
    }
    if (this.counts.size >= this.maxEntries) {
      this.dropOldest();
      this._evictions++;
    }
    const key = detach(nonce);
    this.counts.set(key, nc);
    this.queue.push(key);
    this.expiries.push(now + this.retentionMs);
    return true;
  }

  /** Nonces remembered now. */
  get size(): number {
    return this.counts.size;
  }

  /** Entries dropped before their time because the store was full (worth a metric and a log line). */
  get evictions(): number {
    return this._evictions;
  }

  private dropExpired(now: number): void {
    while (this.head < this.queue.length && this.expiries[this.head] <= now) this.dropOldest();
  }

  private dropOldest(): void {
    if (this.head >= this.queue.length) return;
    this.counts.delete(this.queue[this.head]);
    this.head++;
    // Compact once the consumed front is both large and most of the arrays.
    if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.expiries = this.expiries.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * A copy of `s` that shares no memory with the string it was cut from. A
 * nonce read by the parser is a slice of the whole message text, and V8
 * keeps the whole text alive for as long as the slice lives: a stored key
 * would otherwise hold about 1.5 kB instead of about 100 bytes.
 */
function detach(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
