import type { ReactiveController, ReactiveControllerHost } from 'lit';

/** The state of one polled resource. */
export interface PollState<T> {
  readonly value: T | undefined;
  /** Why the last load failed, if it did. */
  readonly error: string | undefined;
  readonly loading: boolean;
  /** `Date.now()` of the last successful load. */
  readonly loadedAt: number | undefined;
}

/**
 * Loads something with `load(signal)` when its host connects, again every
 * `intervalMs` (0: only on {@link refresh}), and re-renders the host with
 * each result. A load still running when the next is due is aborted; the
 * host's disconnection stops everything. Used by the history (no interval)
 * and by the console (polling).
 *
 * @example
 * ```ts
 * private readonly live = new PollController(this, (signal) => api.liveSessions(signal), 2000);
 * render() { return html`${this.live.state.value?.length ?? '…'} live sessions`; }
 * ```
 */
export class PollController<T> implements ReactiveController {
  private _state: PollState<T> = { value: undefined, error: undefined, loading: false, loadedAt: undefined };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private abort: AbortController | undefined;
  private connected = false;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly load: (signal: AbortSignal) => Promise<T>,
    private readonly intervalMs = 0,
    /** Whether loading makes sense now (e.g. signed in); checked before each load. */
    private readonly enabled: () => boolean = () => true,
  ) {
    host.addController(this);
  }

  get state(): PollState<T> {
    return this._state;
  }

  hostConnected(): void {
    this.connected = true;
    void this.refresh();
  }

  hostDisconnected(): void {
    this.connected = false;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort?.abort();
    this.abort = undefined;
  }

  /** Loads now (and restarts the interval). */
  async refresh(): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.connected) return;
    if (!this.enabled()) {
      this.next();
      return;
    }
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this._state = { ...this._state, loading: true };
    this.host.requestUpdate();
    try {
      const value = await this.load(abort.signal);
      if (abort.signal.aborted) return;
      this._state = { value, error: undefined, loading: false, loadedAt: Date.now() };
    } catch (e) {
      if (abort.signal.aborted) return;
      this._state = { ...this._state, error: e instanceof Error ? e.message : String(e), loading: false };
    }
    this.host.requestUpdate();
    this.next();
  }

  private next(): void {
    if (this.intervalMs > 0 && this.connected) this.timer = setTimeout(() => void this.refresh(), this.intervalMs);
  }
}
