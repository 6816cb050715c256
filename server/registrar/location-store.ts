import type { LocationService } from '../relay-ports.js';
import type { StoredBinding } from './stored-binding.js';

/** What a {@link LocationStore.update} change function returns. */
export interface BindingChange<T> {
  /** The AOR's new bindings; `undefined` leaves them as they were (an aborted or query-only REGISTER). */
  bindings?: StoredBinding[];
  /** Handed back to the caller of `update`. */
  result: T;
}

/**
 * The location service as the registrar sees it: the {@link LocationService}
 * port the relay core reads, plus an atomic read-modify-write of one AOR's
 * bindings. RFC 3261 §10.3 step 7 asks that the bindings of one REGISTER be
 * committed all or none; `update` gives that, in memory and in Redis.
 */
export interface LocationStore extends LocationService {
  /** Id of this relay node, recorded with every binding written here. */
  readonly nodeId: string;
  /** Live bindings of `aor` with their bookkeeping, best first. */
  lookup(aor: string): Promise<StoredBinding[]>;
  /**
   * Reads the live bindings of `aor`, calls `change(current, now)` and
   * writes what it returns, atomically with respect to other updates of
   * the same AOR (on any node). `change` must be pure: a store may call it
   * again when a concurrent update won the race. `now` is wall-clock ms.
   * Rejects when the store cannot be read or written (the registrar then
   * answers 500).
   */
  update<T>(aor: string, change: (current: readonly StoredBinding[], now: number) => BindingChange<T>): Promise<T>;
  /** Stops timers and releases connections. */
  close(): Promise<void>;
}
