import { describe, expect, it } from 'vitest';
import { describeDuration, formatDuration } from '../../../../web-client/src/billing/format-duration.js';

describe('session timers', () => {
  it('shows m:ss, then h:mm:ss, rounding down like a clock', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(999)).toBe('0:00');
    expect(formatDuration(65_400)).toBe('1:05');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(-5)).toBe('0:00');
  });
  it('says durations in words', () => {
    expect(describeDuration(5_000)).toBe('5 s');
    expect(describeDuration(65_000)).toBe('1 min 5 s');
    expect(describeDuration(120_000)).toBe('2 min');
    expect(describeDuration(7_380_000)).toBe('2 h 3 min');
  });
});
