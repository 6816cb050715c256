import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Re-renders its host every `intervalMs` while it is connected and
 * `running()` says so: the session timers and running charges. Ticks are
 * aligned to whole seconds of `Date.now()`, so every pane's timer turns
 * over together.
 *
 * @example
 * ```ts
 * private readonly clock = new ClockController(this, () => this.session?.live ?? false);
 * render() { return html`${formatDuration(this.session.elapsedMs(this.clock.now))}`; }
 * ```
 */
export class ClockController implements ReactiveController {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private _now = Date.now();

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly running: () => boolean = () => true,
    private readonly intervalMs = 1000,
  ) {
    host.addController(this);
  }

  /** `Date.now()` at the last tick (or render). */
  get now(): number {
    return this._now;
  }

  hostConnected(): void {
    this.schedule();
  }

  hostDisconnected(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  hostUpdate(): void {
    this._now = Date.now();
  }

  private schedule(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    const wait = this.intervalMs - (Date.now() % this.intervalMs) + 5;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running()) this.host.requestUpdate();
      this.schedule();
    }, wait);
  }
}
