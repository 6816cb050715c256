import type { SipRequest } from '../message/sip-request.js';
import { type Flow, TransportError } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import type { TransactionContext } from './transaction-context.js';

/** The timers of RFC 3261 §17 and RFC 6026, the automatic 100 Trying delay, and the zero-delay report of a failed first send. */
export type TransactionTimerName = 'A' | 'B' | 'D' | 'E' | 'F' | 'G' | 'H' | 'I' | 'J' | 'K' | 'L' | 'M' | 'Trying' | 'TransportError';

/**
 * What every transaction has: the request that created it, the flow it
 * runs over, its key in the layer's maps, and timers from the layer's
 * clock. State and behaviour live in the four subclasses, each with its
 * own state type and one `stateTransition()`.
 */
export abstract class Transaction {
  /** True for the two INVITE transactions. */
  abstract readonly isInvite: boolean;
  /** True for server transactions. */
  abstract readonly isServer: boolean;
  /** Current state; the subclasses narrow the type. */
  abstract readonly state: string;

  /**
   * True when the flow is reliable (TCP, TLS, WS, WSS): no retransmissions,
   * and timers D, I, J and K are zero (§17.1.1.2, §17.1.2.2, §17.2.1, §17.2.2).
   */
  readonly reliable: boolean;

  constructor(
    /** The key under which the layer finds this transaction (§17.1.3, §17.2.3). */
    readonly id: string,
    /** The request that created the transaction. */
    readonly request: SipRequest,
    /** Client: the flow the request goes out on. Server: the flow it came in on. */
    readonly flow: Flow,
    protected readonly context: TransactionContext,
  ) {
    this.reliable = flow.reliable;
  }

  /** The branch of the top Via of the request, as written. */
  get branch(): string | undefined {
    return this.request.topVia.branch;
  }

  /** Starts a timer whose expiry runs {@link onTimer}; exceptions from it go to the layer, never to the clock. */
  protected startTimer(name: TransactionTimerName, ms: number): TimerHandle {
    return this.context.clock.setTimeout(() => {
      try {
        this.onTimer(name);
      } catch (e) {
        this.context.reportError(e);
      }
    }, ms);
  }

  protected stopTimer(handle: TimerHandle | undefined): undefined {
    if (handle !== undefined) this.context.clock.clearTimeout(handle);
    return undefined;
  }

  /** A timer of this transaction fired. */
  protected abstract onTimer(name: TransactionTimerName): void;

  /**
   * The bytes to keep for retransmissions. The serializer writes into a
   * buffer sized for the worst case of UTF-8; a transaction may hold its
   * bytes for 32 s, so an oversized buffer is copied to its exact size.
   */
  protected static retained(bytes: Uint8Array): Uint8Array {
    return bytes.buffer.byteLength > bytes.byteLength + 256 ? bytes.slice() : bytes;
  }

  /** Where a server transaction's responses go; found on first use, again when a reliable one closed. */
  private responseOut: Flow | undefined;

  /** Sends response bytes by §18.2.2 (server transactions); returns the error to report, if any. */
  protected sendResponseBytes(bytes: Uint8Array): TransportError | undefined {
    let out = this.responseOut;
    if (out === undefined || !out.isOpen) {
      try {
        out = this.responseOut = this.context.responseFlow(this.request, this.flow);
      } catch (e) {
        return e instanceof TransportError ? e : new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', String(e));
      }
    }
    return Transaction.send(out, bytes);
  }

  /** Sends bytes on `flow`; returns the error to report when the flow refused them. */
  protected static send(flow: Flow, bytes: Uint8Array): TransportError | undefined {
    return flow.send(bytes) ? undefined : new TransportError('SIP_ERR_TRANSPORT_CLOSED', `flow ${flow.id} to ${flow.remote.host}:${flow.remote.port} is closed`);
  }
}
