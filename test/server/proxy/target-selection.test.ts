import { describe, expect, it } from 'vitest';
import { retryAfterSeconds, TargetBackoff } from '../../../server/proxy/target-backoff.js';
import { pickBalanced } from '../../../server/proxy/target-selection.js';
import { ManualClock } from '../../../sip/util/clock.js';

describe('balance target choice', () => {
  const clock = new ManualClock();

  it('picks the target with the least load per unit of weight', () => {
    const backoff = new TargetBackoff(clock);
    const targets = [
      { key: 'a', weight: 1, load: 2 },
      { key: 'b', weight: 3, load: 2 },
      { key: 'c', weight: 1, load: 1 },
    ];
    expect(pickBalanced(targets, backoff)).toBe(1);
  });

  it('shares calls among equals in proportion to weight', () => {
    const backoff = new TargetBackoff(clock);
    const targets = [
      { key: 'a', weight: 1, load: 0 },
      { key: 'b', weight: 3, load: 0 },
    ];
    expect(pickBalanced(targets, backoff, () => 0.2)).toBe(0);
    expect(pickBalanced(targets, backoff, () => 0.3)).toBe(1);
    expect(pickBalanced(targets, backoff, () => 0.99)).toBe(1);
  });

  it('skips targets held back by Retry-After until the time has passed, and returns -1 when all are', () => {
    const c = new ManualClock();
    const backoff = new TargetBackoff(c);
    const targets = [
      { key: 'a', load: 0 },
      { key: 'b', load: 5 },
    ];
    backoff.hold('a', 30);
    expect(pickBalanced(targets, backoff)).toBe(1);
    backoff.hold('b', 10);
    expect(pickBalanced(targets, backoff)).toBe(-1);
    expect(backoff.remainingSeconds('b')).toBe(10);
    c.advance(10_001);
    expect(pickBalanced(targets, backoff)).toBe(1);
    c.advance(20_000);
    expect(pickBalanced(targets, backoff)).toBe(0);
  });

  it('caps how long a target may take itself out, and bounds the table', () => {
    const c = new ManualClock();
    const backoff = new TargetBackoff(c, 2, 60);
    backoff.hold('a', 86_400);
    expect(backoff.remainingSeconds('a')).toBe(60);
    backoff.hold('b', 5);
    backoff.hold('c', 5);
    expect(backoff.size).toBe(2);
  });

  it('reads Retry-After seconds, with comment and parameters (§20.33)', () => {
    expect(retryAfterSeconds('120')).toBe(120);
    expect(retryAfterSeconds('18000;duration=3600')).toBe(18000);
    expect(retryAfterSeconds('120 (I am in a meeting)')).toBe(120);
    expect(retryAfterSeconds('soon')).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });
});
