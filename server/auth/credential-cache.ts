import { type Clock, systemClock } from '../../sip/util/clock.js';
import type { Principal } from './load-principal.js';

/** Options of {@link CredentialCache}. */
export interface CredentialCacheOptions {
  /** Reads a principal from the store; undefined when unknown or disabled. */
  load(username: string, realm: string): Promise<Principal | undefined>;
  /**
   * How long an answer of the store is reused, in ms. This is also how long
   * a password change or a disabled account can take to apply when it was
   * made by another process (the CLI, another node); the admin API of this
   * node invalidates at once. Default 30 000. 0 turns the cache off.
   */
  ttlMs?: number;
  /** Most entries (known and unknown names together). Default 10 000. */
  maxEntries?: number;
  /** Monotonic time (`now()`). Default: the system clock. */
  clock?: Clock;
}

interface Entry {
  value: Principal | undefined;
  expiresAt: number;
}

/**
 * A least-recently-used cache of principals in front of the store, so
 * that a busy user's every INVITE and re-REGISTER does not cost a query.
 * Unknown names are cached too (as `undefined`): repeated guesses at one
 * name take the same path as repeated requests of a real user. Concurrent
 * misses for one name share one query. Store errors are not cached.
 */
export class CredentialCache {
  readonly ttlMs: number;
  readonly maxEntries: number;
  private readonly loader: CredentialCacheOptions['load'];
  private readonly clock: Clock;
  /** Map order is recency order: a hit moves the entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<Principal | undefined>>();

  constructor(options: CredentialCacheOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('CredentialCache: options are required');
    if (typeof options.load !== 'function') throw new TypeError('CredentialCache: `load` must be a function');
    const ttlMs = options.ttlMs ?? 30_000;
    if (!Number.isInteger(ttlMs) || ttlMs < 0) throw new TypeError(`CredentialCache: ttlMs must be an integer >= 0, got ${String(ttlMs)}`);
    const maxEntries = options.maxEntries ?? 10_000;
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError(`CredentialCache: maxEntries must be an integer >= 1, got ${String(maxEntries)}`);
    }
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.loader = options.load;
    this.clock = options.clock ?? systemClock;
  }

  /** The principal `username` of `realm`, from the cache or the store. */
  get(username: string, realm: string): Promise<Principal | undefined> {
    const key = cacheKey(username, realm);
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      if (hit.expiresAt > now) {
        this.entries.set(key, hit);
        return Promise.resolve(hit.value);
      }
    }
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    const load = this.loader(username, realm).then(
      (value) => {
        // Only if not invalidated meanwhile: the answer may predate the change.
        if (this.inFlight.get(key) === load) {
          this.inFlight.delete(key);
          if (this.ttlMs > 0) this.remember(key, value);
        }
        return value;
      },
      (e: unknown) => {
        if (this.inFlight.get(key) === load) this.inFlight.delete(key);
        throw e;
      },
    );
    this.inFlight.set(key, load);
    return load;
  }

  /**
   * Forgets `username` of `realm`, after its password changed, it was
   * disabled, enabled or removed; the next request reads the store.
   */
  invalidate(username: string, realm: string): void {
    const key = cacheKey(username, realm);
    this.entries.delete(key);
    this.inFlight.delete(key);
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
    this.inFlight.clear();
  }

  /** Entries held now (some may have expired). */
  get size(): number {
    return this.entries.size;
  }

  private remember(key: string, value: Principal | undefined): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, expiresAt: this.clock.now() + this.ttlMs });
  }
}

function cacheKey(username: string, realm: string): string {
  return realm.toLowerCase() + '\u0000' + username;
}
