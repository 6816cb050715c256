import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClockController } from '../../../../web-client/src/controllers/clock-controller.js';
import { FakeHost } from './fake-host.js';

describe('ClockController', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('re-renders its host once a second while running, on whole seconds', async () => {
    const host = new FakeHost();
    const clock = new ClockController(host);
    host.connect();
    await vi.advanceTimersByTimeAsync(3010);
    expect(host.updates).toBe(3);
    expect(clock.now % 1000).toBeLessThan(50);
  });

  it('stays quiet while not running (an ended session) and stops when disconnected', async () => {
    const host = new FakeHost();
    let running = false;
    new ClockController(host, () => running);
    host.connect();
    await vi.advanceTimersByTimeAsync(2500);
    expect(host.updates).toBe(0);
    running = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(host.updates).toBe(1);
    host.disconnect();
    await vi.advanceTimersByTimeAsync(5000);
    expect(host.updates).toBe(1);
  });
});
