import type { TransportProtocol } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { reuseKey, type TrackedFlow } from './flow-table.js';
import type { TransportContext } from './transport-context.js';

/**
 * `connecting`: outbound, not yet connected (sends are queued);
 * `open`: carrying messages; `closing`: flushing before the socket goes;
 * `closed`: gone, reported to the layer above.
 */
export type ConnectionState = 'connecting' | 'open' | 'closing' | 'closed';

const LEGAL: Record<ConnectionState, readonly ConnectionState[]> = {
  connecting: ['open', 'closing', 'closed'],
  open: ['closing', 'closed'],
  closing: ['closed'],
  closed: [],
};

const NO_ADDRESS = Object.freeze({ host: '', port: 0 });

/**
 * What TCP, TLS, WS and WSS connections share: identity, the state machine,
 * registration in the connection table, and one timer per connection that
 * serves as connect timeout, idle timeout or close deadline depending on the
 * state. Activity only stamps a time; the timer re-arms itself for the time
 * left, so traffic costs no timer operations (the approach of Node's own
 * socket timeouts).
 */
export abstract class ConnectionFlow implements TrackedFlow {
  readonly id: string;
  readonly reliable = true;
  readonly remote: { host: string; port: number };
  readonly address: string;
  readonly reuseKey: string;
  private _state: ConnectionState;
  private _local: { host: string; port: number } = NO_ADDRESS;
  private lastActivity: number;
  private timer: TimerHandle | undefined;
  private closedWaiters: Array<() => void> | undefined;
  private readonly onTimer = (): void => this.timerFired();

  protected constructor(
    protected readonly ctx: TransportContext,
    readonly protocol: TransportProtocol,
    readonly inbound: boolean,
    remote: { host: string; port: number },
  ) {
    this.id = ctx.connectionId(protocol);
    this.remote = remote;
    this.address = remote.host;
    this.reuseKey = reuseKey(protocol, remote.host, remote.port);
    this._state = inbound ? 'open' : 'connecting';
    this.lastActivity = ctx.clock.now();
    ctx.connections.add(this);
    this.armTimer(inbound ? ctx.options.idleTimeoutMs : ctx.options.connectTimeoutMs);
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** Open for sending: connected, or connecting with sends queued. */
  get isOpen(): boolean {
    return this._state === 'open' || this._state === 'connecting';
  }

  /** The local address of the connection; empty until an outbound connection is up. */
  get local(): { host: string; port: number } {
    return this._local;
  }

  abstract send(bytes: Uint8Array): boolean;
  /** Closes gracefully: queued bytes are flushed first, within `closeTimeoutMs`. */
  abstract close(): void;
  /** Drops the connection at once. */
  abstract destroy(): void;

  /** Resolves once the connection is closed and reported. */
  whenClosed(): Promise<void> {
    if (this._state === 'closed') return Promise.resolve();
    return new Promise((resolve) => (this.closedWaiters ??= []).push(resolve));
  }

  /** Notes traffic, which keeps the connection from the idle timeout. */
  protected touch(): void {
    this.lastActivity = this.ctx.clock.now();
  }

  protected setLocal(host: string | undefined, port: number | undefined): void {
    if (host !== undefined && port !== undefined) this._local = { host, port };
  }

  /** An outbound connection is up. */
  protected connected(): void {
    if (this._state !== 'connecting') return;
    this.transition('open');
    this.touch();
    this.armTimer(this.ctx.options.idleTimeoutMs);
  }

  /** Enters `closing` and gives the connection `closeTimeoutMs` to flush; false if already closing. */
  protected beginClose(): boolean {
    if (this._state === 'closing' || this._state === 'closed') return false;
    this.transition('closing');
    this.armTimer(this.ctx.options.closeTimeoutMs || 1);
    return true;
  }

  /** The socket is gone: forget the connection and tell the layer above, once. */
  protected closed(): void {
    if (this._state === 'closed') return;
    this.transition('closed');
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.ctx.connections.remove(this);
    this.ctx.flowClosed(this);
    const waiters = this.closedWaiters;
    this.closedWaiters = undefined;
    if (waiters) for (const w of waiters) w();
  }

  private transition(to: ConnectionState): void {
    if (!LEGAL[this._state].includes(to)) throw new Error(`connection ${this.id}: illegal transition ${this._state} -> ${to}`);
    this._state = to;
  }

  private armTimer(ms: number): void {
    if (this.timer) this.ctx.clock.clearTimeout(this.timer);
    this.timer = ms > 0 ? this.ctx.clock.setTimeout(this.onTimer, ms) : undefined;
  }

  private timerFired(): void {
    this.timer = undefined;
    switch (this._state) {
      case 'connecting':
        this.ctx.logger.debug({ flow: this.id, remote: this.remote }, 'connect timed out');
        this.destroy();
        return;
      case 'open': {
        const timeout = this.ctx.options.idleTimeoutMs;
        const idle = this.ctx.clock.now() - this.lastActivity;
        if (idle < timeout) {
          this.armTimer(timeout - idle);
          return;
        }
        this.ctx.logger.debug({ flow: this.id, remote: this.remote, idleMs: idle }, 'idle connection closed');
        this.close();
        return;
      }
      case 'closing':
        this.destroy();
        return;
      case 'closed':
        return;
    }
  }
}
