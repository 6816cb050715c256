import { systemClock, type Clock, type TimerHandle } from '../../sip/util/clock.js';
import { randomToken } from '../../sip/util/random.js';
import type { BindingChange, LocationStore } from './location-store.js';
import { compareBindings, type StoredBinding } from './stored-binding.js';

/** Options of {@link MemoryLocationService}. */
export interface MemoryLocationServiceOptions {
  /** Time source of expiry. Default the system clock. */
  clock?: Clock;
  /** Recorded with every binding. Default a random id per process. */
  nodeId?: string;
}

interface AorEntry {
  bindings: StoredBinding[];
  timer: TimerHandle | undefined;
}

/**
 * The location service of a single relay node: bindings in a map, each
 * AOR with one timer armed for its earliest expiry, and an index from flow
 * id to the AORs with a binding on that flow so that a closed connection
 * costs a lookup, not a scan. Nothing outlives its expiry: an AOR whose
 * last binding goes is deleted with its timer.
 *
 * Expiry instants are wall-clock (`Binding.expiresAt`); timers are set for
 * the distance from `clock.wallNow()`, and every read filters by the wall
 * clock too, so a timer that fires late never shows a stale binding.
 */
export class MemoryLocationService implements LocationStore {
  readonly nodeId: string;
  private readonly clock: Clock;
  private readonly aors = new Map<string, AorEntry>();
  private readonly byFlow = new Map<string, Set<string>>();
  private closed = false;

  constructor(options: MemoryLocationServiceOptions = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('MemoryLocationServiceOptions must be an object');
    if (options.nodeId !== undefined && (typeof options.nodeId !== 'string' || options.nodeId === '')) {
      throw new TypeError('MemoryLocationServiceOptions.nodeId must be a non-empty string');
    }
    this.clock = options.clock ?? systemClock;
    this.nodeId = options.nodeId ?? 'node-' + randomToken(8);
  }

  /** Number of AORs with at least one binding. */
  get size(): number {
    return this.aors.size;
  }

  async lookup(aor: string): Promise<StoredBinding[]> {
    return this.live(aor, this.clock.wallNow()).map((b) => ({ ...b, contact: b.contact.clone() }));
  }

  async update<T>(aor: string, change: (current: readonly StoredBinding[], now: number) => BindingChange<T>): Promise<T> {
    if (this.closed) throw new Error('the location service is closed');
    const now = this.clock.wallNow();
    const outcome = change(this.live(aor, now), now);
    if (outcome.bindings !== undefined) this.write(aor, outcome.bindings);
    return outcome.result;
  }

  flowClosed(flowId: string): void {
    const aors = this.byFlow.get(flowId);
    if (aors === undefined) return;
    this.byFlow.delete(flowId);
    for (const aor of aors) {
      const entry = this.aors.get(aor);
      if (entry === undefined) continue;
      const kept: StoredBinding[] = [];
      for (const b of entry.bindings) {
        if (b.flowId !== flowId) kept.push(b);
        // RFC 7118 §5.2, RFC 5626 §5: nothing else reaches this contact.
        else if (!b.flowBound) kept.push({ ...b, flowId: undefined });
      }
      this.write(aor, kept);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const entry of this.aors.values()) if (entry.timer !== undefined) this.clock.clearTimeout(entry.timer);
    this.aors.clear();
    this.byFlow.clear();
  }

  private live(aor: string, now: number): StoredBinding[] {
    const entry = this.aors.get(aor);
    if (entry === undefined) return [];
    return entry.bindings.filter((b) => b.expiresAt > now).sort(compareBindings);
  }

  private write(aor: string, bindings: StoredBinding[]): void {
    const old = this.aors.get(aor);
    if (old?.timer !== undefined) this.clock.clearTimeout(old.timer);
    const oldFlows = new Set<string>();
    for (const b of old?.bindings ?? []) if (b.flowId !== undefined) oldFlows.add(b.flowId);
    const newFlows = new Set<string>();
    for (const b of bindings) if (b.flowId !== undefined) newFlows.add(b.flowId);
    for (const f of oldFlows) {
      if (newFlows.has(f)) continue;
      const set = this.byFlow.get(f);
      if (set !== undefined && set.delete(aor) && set.size === 0) this.byFlow.delete(f);
    }
    for (const f of newFlows) {
      let set = this.byFlow.get(f);
      if (set === undefined) this.byFlow.set(f, (set = new Set()));
      set.add(aor);
    }
    if (bindings.length === 0) {
      this.aors.delete(aor);
      return;
    }
    let earliest = Infinity;
    for (const b of bindings) if (b.expiresAt < earliest) earliest = b.expiresAt;
    const entry: AorEntry = { bindings, timer: undefined };
    entry.timer = this.clock.setTimeout(() => this.expire(aor), Math.max(0, earliest - this.clock.wallNow()));
    this.aors.set(aor, entry);
  }

  /** The AOR's earliest binding is due: keep what is still live (and re-arm for the next). */
  private expire(aor: string): void {
    const entry = this.aors.get(aor);
    if (entry === undefined) return;
    entry.timer = undefined;
    const now = this.clock.wallNow();
    this.write(aor, entry.bindings.filter((b) => b.expiresAt > now));
  }
}
