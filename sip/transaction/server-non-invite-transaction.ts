import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { serializeMessage } from '../message/serializer.js';
import { type Flow, TransportError } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { Transaction, type TransactionTimerName } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import type { ServerTransactionUser } from './transaction-user.js';

/** States of the non-INVITE server transaction (RFC 3261 §17.2.2, Figure 8). */
export type ServerNonInviteTransactionState = 'Trying' | 'Proceeding' | 'Completed' | 'Terminated';

/** Legal moves (Figure 8); every state may also end at once when the layer closes. */
const NEXT: Record<ServerNonInviteTransactionState, readonly ServerNonInviteTransactionState[]> = {
  Trying: ['Proceeding', 'Completed', 'Terminated'],
  Proceeding: ['Completed', 'Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

/**
 * The non-INVITE server transaction (RFC 3261 §17.2.2). The layer creates it
 * for every new request other than INVITE and ACK (CANCEL included) and
 * hands it to the TU, which answers with {@link respond}. Retransmitted
 * requests are absorbed before the first response and answered with the
 * last response after it; after the final response the transaction stays
 * 'Completed' for timer J (zero over reliable flows).
 */
export class ServerNonInviteTransaction extends Transaction {
  readonly isInvite = false as const;
  readonly isServer = true as const;
  /** Who hears about failures. */
  user: ServerTransactionUser | undefined;
  /** Status of the last response sent, 0 before any. */
  lastStatus = 0;

  private _state: ServerNonInviteTransactionState = 'Trying';
  private lastBytes: Uint8Array | undefined;
  private timerJ: TimerHandle | undefined;
  private endError: TransportError | undefined;

  constructor(id: string, request: SipRequest, flow: Flow, context: TransactionContext) {
    super(id, request, flow, context);
    if (request.method === 'INVITE' || request.method === 'ACK') {
      throw new TypeError(`ServerNonInviteTransaction cannot carry ${request.method}`);
    }
  }

  get state(): ServerNonInviteTransactionState {
    return this._state;
  }

  /**
   * Sends a response from the TU (§17.2.2): 1xx moves to (or keeps)
   * 'Proceeding', 200-699 moves to 'Completed'. Returns false when it could
   * not be sent or the transaction has ended. A response after the final
   * one is a programming error: TypeError.
   */
  respond(response: SipResponse): boolean {
    const status = response.status;
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      throw new TypeError(`status ${status} is not a SIP status code`);
    }
    switch (this._state) {
      case 'Trying':
      case 'Proceeding': {
        this.lastStatus = status;
        this.lastBytes = Transaction.retained(serializeMessage(response));
        const error = this.resend();
        if (status >= 200) this.stateTransition('Completed');
        else if (this._state === 'Trying') this.stateTransition('Proceeding');
        if (error) {
          this.fail(error);
          return false;
        }
        // Timer J is zero over reliable flows (§17.2.2).
        if (this.reliable && this.state === 'Completed') this.stateTransition('Terminated');
        return true;
      }
      case 'Completed':
        throw new TypeError(`non-INVITE server transaction ${this.id} has sent a final ${this.lastStatus} response; cannot send ${status}`);
      case 'Terminated':
        return false;
    }
  }

  /**
   * The request arrived again (§17.2.2): absorbed in 'Trying', answered with
   * the last response in 'Proceeding' and 'Completed'.
   */
  receiveRequest(_request: SipRequest): void {
    if (this._state === 'Proceeding' || this._state === 'Completed') {
      const error = this.resend();
      if (error) this.fail(error);
    }
  }

  /** Ends the transaction at once without telling the TU why (layer shutdown). */
  terminate(): void {
    if (this._state !== 'Terminated') this.stateTransition('Terminated');
  }

  /** The one place the state changes; refuses moves Figure 8 does not have (TypeError). */
  protected stateTransition(newState: ServerNonInviteTransactionState): void {
    const from = this._state;
    if (!NEXT[from].includes(newState)) {
      throw new TypeError(`non-INVITE server transaction ${this.id}: invalid state transition from ${from} to ${newState}`);
    }
    this._state = newState;
    switch (newState) {
      case 'Completed':
        if (!this.reliable) this.timerJ = this.startTimer('J', this.context.timers.timerJ(false));
        break;
      case 'Terminated':
        this.timerJ = this.stopTimer(this.timerJ);
        this.context.transactionTerminated(this);
        if (this.endError) this.user?.onTransportError?.(this, this.endError);
        this.user?.onTerminated?.(this);
        break;
    }
  }

  protected onTimer(name: TransactionTimerName): void {
    if (name === 'J') {
      this.timerJ = undefined;
      if (this._state === 'Completed') this.stateTransition('Terminated');
    }
  }

  /** Sends the last response again, by §18.2.2. */
  private resend(): TransportError | undefined {
    return this.lastBytes === undefined ? undefined : this.sendResponseBytes(this.lastBytes);
  }

  /** §17.2.2: a transport error in 'Proceeding' or 'Completed' informs the TU and ends the transaction. */
  private fail(error: TransportError): void {
    if (this._state === 'Terminated') return;
    this.endError = error;
    this.stateTransition('Terminated');
  }
}
