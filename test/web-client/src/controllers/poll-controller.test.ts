import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PollController } from '../../../../web-client/src/controllers/poll-controller.js';
import { FakeHost } from './fake-host.js';

describe('PollController', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('loads when its host connects and keeps the value', async () => {
    const host = new FakeHost();
    const poll = new PollController(host, async () => 42);
    host.connect();
    await vi.runAllTimersAsync();
    expect(poll.state).toMatchObject({ value: 42, error: undefined, loading: false });
    expect(host.updates).toBeGreaterThan(0);
  });

  it('polls at its interval while connected, and stops when disconnected', async () => {
    const host = new FakeHost();
    let n = 0;
    const poll = new PollController(host, async () => ++n, 1000);
    host.connect();
    await vi.advanceTimersByTimeAsync(3500);
    expect(poll.state.value).toBe(4);
    host.disconnect();
    await vi.advanceTimersByTimeAsync(5000);
    expect(n).toBe(4);
  });

  it('keeps the last value and reports the error of a failed load', async () => {
    const host = new FakeHost();
    let fail = false;
    const poll = new PollController(host, async () => {
      if (fail) throw new Error('relay down');
      return 'ok';
    });
    host.connect();
    await vi.runAllTimersAsync();
    fail = true;
    await poll.refresh();
    expect(poll.state).toMatchObject({ value: 'ok', error: 'relay down' });
  });

  it('does not load while not enabled (signed out)', async () => {
    const host = new FakeHost();
    const load = vi.fn(async () => 1);
    new PollController(host, load, 0, () => false);
    host.connect();
    await vi.runAllTimersAsync();
    expect(load).not.toHaveBeenCalled();
  });

  it('aborts a load overtaken by a refresh, and ignores its result', async () => {
    const host = new FakeHost();
    const signals: AbortSignal[] = [];
    let n = 0;
    const poll = new PollController(host, (signal) => {
      signals.push(signal);
      const v = ++n;
      return new Promise<number>((r) => setTimeout(() => r(v), v === 1 ? 500 : 10));
    });
    host.connect();
    void poll.refresh();
    await vi.advanceTimersByTimeAsync(1000);
    expect(signals[0].aborted).toBe(true);
    expect(poll.state.value).toBe(2);
  });
});
