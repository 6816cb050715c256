import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { serializeMessage } from '../message/serializer.js';
import type { Flow, TransportError } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { Transaction, type TransactionTimerName } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import type { ClientTransactionUser } from './transaction-user.js';

/** States of the non-INVITE client transaction (RFC 3261 §17.1.2, Figure 6). */
export type ClientNonInviteTransactionState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

/** Legal moves (Figure 6); every state may also end at once when the layer closes. */
const NEXT: Record<ClientNonInviteTransactionState, readonly ClientNonInviteTransactionState[]> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

type EndReason = 'timeout' | 'transport-error' | undefined;

/**
 * The non-INVITE client transaction (RFC 3261 §17.1.2). It retransmits the
 * request over unreliable flows (timer E, doubling up to T2, then every T2
 * once a provisional response came), gives up with timer F, passes the
 * provisional responses and the first final response to the TU, and
 * absorbs retransmitted final responses for timer K.
 *
 * Created by `TransactionLayer.sendRequest()` (and for CANCEL by
 * `ClientInviteTransaction.cancel()`).
 */
export class ClientNonInviteTransaction extends Transaction {
  readonly isInvite = false as const;
  readonly isServer = false as const;
  /** Who hears about responses and failures. */
  user: ClientTransactionUser;
  /** Status of the last response passed to the TU, 0 before any (the response itself is not kept). */
  lastStatus = 0;

  private _state: ClientNonInviteTransactionState = 'Trying';
  /** The request as sent, kept while it may be retransmitted (Trying and Proceeding over UDP). */
  private requestBytes: Uint8Array | undefined;
  private retransmissions = 0;
  private timerE: TimerHandle | undefined;
  private timerF: TimerHandle | undefined;
  private timerK: TimerHandle | undefined;
  private endReason: EndReason;
  private endError: TransportError | undefined;

  constructor(id: string, request: SipRequest, flow: Flow, context: TransactionContext, user: ClientTransactionUser) {
    super(id, request, flow, context);
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new TypeError(`ClientNonInviteTransaction cannot carry ${request.method}`);
    }
    this.user = user;
  }

  get state(): ClientNonInviteTransactionState {
    return this._state;
  }

  /**
   * Sends the request and starts timer E (unreliable flows only) and timer F
   * (§17.1.2.2). A send failure is reported from a zero-delay timer so no
   * callback runs before `sendRequest()` has returned.
   */
  start(): void {
    const bytes = serializeMessage(this.request);
    if (!this.reliable) {
      this.requestBytes = Transaction.retained(bytes);
      this.timerE = this.startTimer('E', this.context.timers.timerE(0));
    }
    this.timerF = this.startTimer('F', this.context.timers.timerF);
    const error = Transaction.send(this.flow, bytes);
    if (error) {
      this.endError = error;
      this.timerE = this.stopTimer(this.timerE);
      this.timerF = this.stopTimer(this.timerF);
      this.timerF = this.startTimer('TransportError', 0);
    }
  }

  /** A response matched this transaction (§17.1.3). Returns true: the transaction takes every response. */
  receiveResponse(response: SipResponse): boolean {
    const status = response.status;
    switch (this._state) {
      case 'Trying':
      case 'Proceeding':
        this.lastStatus = status;
        if (status < 200) {
          if (this._state === 'Trying') this.stateTransition('Proceeding');
          this.user.onResponse(response, this);
        } else {
          this.stateTransition('Completed');
          this.user.onResponse(response, this);
          // Timer K is zero over reliable flows (§17.1.2.2).
          if (this.reliable && this.state === 'Completed') this.stateTransition('Terminated');
        }
        return true;
      case 'Completed':
        // §17.1.2.2: retransmitted final responses are absorbed.
        return true;
      case 'Terminated':
        return false;
    }
  }

  /**
   * The reliable flow closed. Before any response the request may never have
   * arrived: a transport error (§17.1.4). After one, the server can answer
   * over a new connection (§18.2.2).
   */
  flowClosed(error: TransportError): void {
    if (this._state === 'Trying') this.fail(error);
  }

  /** Ends the transaction at once without telling the TU why (layer shutdown). */
  terminate(): void {
    if (this._state !== 'Terminated') this.stateTransition('Terminated');
  }

  /** The one place the state changes; refuses moves Figure 6 does not have (TypeError). */
  protected stateTransition(newState: ClientNonInviteTransactionState): void {
    const from = this._state;
    if (!NEXT[from].includes(newState)) {
      throw new TypeError(`non-INVITE client transaction ${this.id}: invalid state transition from ${from} to ${newState}`);
    }
    this._state = newState;
    switch (newState) {
      case 'Proceeding':
        break;
      case 'Completed':
        this.timerE = this.stopTimer(this.timerE);
        this.timerF = this.stopTimer(this.timerF);
        this.requestBytes = undefined;
        if (!this.reliable) this.timerK = this.startTimer('K', this.context.timers.timerK(false));
        break;
      case 'Terminated':
        this.timerE = this.stopTimer(this.timerE);
        this.timerF = this.stopTimer(this.timerF);
        this.timerK = this.stopTimer(this.timerK);
        this.context.transactionTerminated(this);
        if (this.endReason === 'timeout') this.user.onTimeout?.(this);
        else if (this.endReason === 'transport-error' && this.endError) this.user.onTransportError?.(this, this.endError);
        this.user.onTerminated?.(this);
        break;
    }
  }

  protected onTimer(name: TransactionTimerName): void {
    switch (name) {
      case 'E': {
        this.timerE = undefined;
        if ((this._state !== 'Trying' && this._state !== 'Proceeding') || this.requestBytes === undefined) return;
        const error = Transaction.send(this.flow, this.requestBytes);
        if (error) return this.fail(error);
        // §17.1.2.2: doubling up to T2 while Trying; T2 once Proceeding.
        const t = this.context.timers;
        this.timerE = this.startTimer('E', this._state === 'Trying' ? t.timerE(++this.retransmissions) : t.t2);
        return;
      }
      case 'F':
        this.timerF = undefined;
        if (this._state !== 'Trying' && this._state !== 'Proceeding') return;
        this.endReason = 'timeout';
        return this.stateTransition('Terminated');
      case 'TransportError':
        this.timerF = undefined;
        if (this._state === 'Trying' && this.endError) this.fail(this.endError);
        return;
      case 'K':
        this.timerK = undefined;
        if (this._state === 'Completed') this.stateTransition('Terminated');
        return;
    }
  }

  /** Transport error in Trying or Proceeding: inform the TU and end (Figure 6). */
  private fail(error: TransportError): void {
    if (this._state !== 'Trying' && this._state !== 'Proceeding') return;
    this.endReason = 'transport-error';
    this.endError = error;
    this.stateTransition('Terminated');
  }
}
