import type { Clock } from '../../sip/util/clock.js';

/**
 * Targets that asked not to be sent to for a while: an application server
 * that answered 503 with Retry-After (RFC 3261 §21.5.4, §20.33) is skipped
 * in `balance` mode until that time has passed. Bounded: when full, the
 * entry that ends first is dropped.
 */
export class TargetBackoff {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    /** Most targets remembered. Default 10 000. */
    private readonly maxEntries = 10_000,
    /** Longest Retry-After honoured, seconds (a target cannot take itself out for a day). Default 3 600. */
    private readonly maxSeconds = 3_600,
  ) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new TypeError('TargetBackoff maxEntries must be a positive integer');
    if (!Number.isInteger(maxSeconds) || maxSeconds < 1) throw new TypeError('TargetBackoff maxSeconds must be a positive integer');
  }

  /** Skip `key` for `seconds` (capped at `maxSeconds`). */
  hold(key: string, seconds: number): void {
    if (!(seconds > 0)) return;
    const now = this.clock.now();
    if (!this.until.has(key) && this.until.size >= this.maxEntries) this.evict(now);
    this.until.set(key, now + Math.min(seconds, this.maxSeconds) * 1000);
  }

  /** True while `key` is being skipped. */
  isHeld(key: string): boolean {
    const t = this.until.get(key);
    if (t === undefined) return false;
    if (t > this.clock.now()) return true;
    this.until.delete(key);
    return false;
  }

  /** Seconds until `key` may be used again (0 when it may be used now). */
  remainingSeconds(key: string): number {
    const t = this.until.get(key);
    if (t === undefined) return 0;
    return Math.max(0, Math.ceil((t - this.clock.now()) / 1000));
  }

  get size(): number {
    return this.until.size;
  }

  private evict(now: number): void {
    let first: string | undefined;
    let firstAt = Infinity;
    for (const [k, t] of this.until) {
      if (t <= now) {
        this.until.delete(k);
        return;
      }
      if (t < firstAt) {
        firstAt = t;
        first = k;
      }
    }
    if (first !== undefined) this.until.delete(first);
  }
}

/** The seconds of a Retry-After value (`120`, `120 (lunch);duration=60`), or undefined (§20.33). */
export function retryAfterSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  let n = 0;
  let i = 0;
  while (i < value.length && (value.charCodeAt(i) === 32 || value.charCodeAt(i) === 9)) i++;
  const start = i;
  for (; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    if (n > 1e9) return undefined;
  }
  return i === start ? undefined : n;
}
