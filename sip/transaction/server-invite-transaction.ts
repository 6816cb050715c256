import { createResponse } from '../message/create-response.js';
import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { serializeMessage } from '../message/serializer.js';
import { type Flow, TransportError } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { Transaction, type TransactionTimerName } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import { isRfc2543Key } from './transaction-key.js';
import type { ServerTransactionUser } from './transaction-user.js';

/** States of the INVITE server transaction (RFC 3261 §17.2.1, Figure 7 as corrected by RFC 6026 §7.1). */
export type ServerInviteTransactionState = 'Proceeding' | 'Accepted' | 'Completed' | 'Confirmed' | 'Terminated';

/** Legal moves (RFC 6026 Figure 7); every state may also end at once when the layer closes. */
const NEXT: Record<ServerInviteTransactionState, readonly ServerInviteTransactionState[]> = {
  Proceeding: ['Accepted', 'Completed', 'Terminated'],
  Accepted: ['Terminated'],
  Completed: ['Confirmed', 'Terminated'],
  Confirmed: ['Terminated'],
  Terminated: [],
};

type EndReason = 'timeout' | 'transport-error' | undefined;

/**
 * The INVITE server transaction (RFC 3261 §17.2.1 with RFC 6026 §7.1).
 * The layer creates it for a new INVITE and hands it to the TU, which
 * answers with {@link respond}. It sends 100 Trying on its own when the TU
 * is slow, resends the last response when the INVITE is retransmitted,
 * retransmits a non-2xx final response over unreliable flows (timer G)
 * until the ACK comes (timer H bounds the wait, timer I absorbs ACK
 * retransmissions), and after a 2xx stays 'Accepted' for timer L: INVITE
 * retransmissions are absorbed, 2xx from the TU (its own retransmissions,
 * or a proxy's further forks) are sent, and ACKs go to the TU.
 */
export class ServerInviteTransaction extends Transaction {
  readonly isInvite = true as const;
  readonly isServer = true as const;
  /** Who hears about failures; requests and ACKs reach the TU through the layer's handler. */
  user: ServerTransactionUser | undefined;
  /**
   * Status of the last response sent, 0 before any. The response itself is
   * not kept: an accepted transaction lives 32 s and holds only what it
   * still needs.
   */
  lastStatus = 0;
  /** To tag of the last response, kept only for RFC 2543 ACK matching (§17.2.3). */
  lastToTag: string | undefined;

  private _state: ServerInviteTransactionState = 'Proceeding';
  private lastBytes: Uint8Array | undefined;
  private retransmissions = 0;
  private timerTrying: TimerHandle | undefined;
  private timerG: TimerHandle | undefined;
  private timerH: TimerHandle | undefined;
  private timerI: TimerHandle | undefined;
  private timerL: TimerHandle | undefined;
  private endReason: EndReason;
  private endError: TransportError | undefined;

  constructor(id: string, request: SipRequest, flow: Flow, context: TransactionContext) {
    super(id, request, flow, context);
    if (request.method !== 'INVITE') throw new TypeError(`ServerInviteTransaction needs an INVITE, got ${request.method}`);
  }

  get state(): ServerInviteTransactionState {
    return this._state;
  }

  /**
   * Starts the automatic 100 Trying (§17.2.1) unless the TU has answered
   * already or it is turned off. The layer calls it after the TU's
   * `onRequest` returned, so a TU that answers at once costs no timer.
   */
  armAutoTrying(): void {
    const delay = this.context.timers.autoTrying;
    if (delay === false || this._state !== 'Proceeding' || this.lastStatus !== 0) return;
    if (delay === 0) this.sendTrying();
    else this.timerTrying = this.startTimer('Trying', delay);
  }

  /**
   * Sends a response from the TU (§17.2.1). 1xx keeps 'Proceeding', 2xx
   * moves to 'Accepted', 300-699 to 'Completed'. In 'Accepted' only 2xx may
   * follow (RFC 6026 §7.1). Returns false when the response could not be
   * sent or the transaction has ended (the TU then sends a late 2xx
   * statelessly, RFC 6026 §8.4). A response the state does not allow is a
   * programming error: TypeError.
   */
  respond(response: SipResponse): boolean {
    const status = response.status;
    if (!Number.isInteger(status) || status < 100 || status > 699) {
      throw new TypeError(`status ${status} is not a SIP status code`);
    }
    switch (this._state) {
      case 'Proceeding': {
        this.timerTrying = this.stopTimer(this.timerTrying);
        const error = this.sendResponse(response);
        if (status >= 300) this.stateTransition('Completed');
        else if (status >= 200) this.stateTransition('Accepted');
        if (error) this.fail(error);
        return error === undefined;
      }
      case 'Accepted': {
        if (status < 200 || status >= 300) {
          throw new TypeError(`INVITE server transaction ${this.id} has sent a 2xx; only 2xx may follow, not ${status}`);
        }
        const error = this.sendResponse(response);
        if (error) this.fail(error);
        return error === undefined;
      }
      case 'Completed':
      case 'Confirmed':
        throw new TypeError(`INVITE server transaction ${this.id} has sent a final ${this.lastStatus} response; cannot send ${status}`);
      case 'Terminated':
        return false;
    }
  }

  /**
   * The INVITE arrived again (§17.2.1): in 'Proceeding' the most recent
   * provisional response is resent, in 'Completed' the final response;
   * 'Accepted' and 'Confirmed' absorb it.
   */
  receiveRequest(_request: SipRequest): void {
    if ((this._state === 'Proceeding' || this._state === 'Completed') && this.lastBytes) {
      const error = this.resend();
      if (error) this.fail(error);
    }
  }

  /**
   * An ACK matched this transaction. For a non-2xx final response it moves
   * 'Completed' to 'Confirmed' (§17.2.1); in 'Accepted' it acknowledges a
   * 2xx and goes to the TU (RFC 6026 §7.1); otherwise it is absorbed.
   */
  receiveAck(ack: SipRequest, flow: Flow): void {
    if (this._state === 'Completed') {
      this.stateTransition('Confirmed');
      if (this.reliable && this.state === 'Confirmed') this.stateTransition('Terminated');
    } else if (this._state === 'Accepted') {
      this.context.passAckToTu(ack, flow, this);
    }
  }

  /** Ends the transaction at once without telling the TU why (layer shutdown). */
  terminate(): void {
    if (this._state !== 'Terminated') this.stateTransition('Terminated');
  }

  /** The one place the state changes; refuses moves RFC 6026 Figure 7 does not have (TypeError). */
  protected stateTransition(newState: ServerInviteTransactionState): void {
    const from = this._state;
    if (!NEXT[from].includes(newState)) {
      throw new TypeError(`INVITE server transaction ${this.id}: invalid state transition from ${from} to ${newState}`);
    }
    if (from === 'Proceeding') this.timerTrying = this.stopTimer(this.timerTrying);
    if (from === 'Completed') {
      this.timerG = this.stopTimer(this.timerG);
      this.timerH = this.stopTimer(this.timerH);
    }
    this._state = newState;
    const t = this.context.timers;
    switch (newState) {
      case 'Accepted':
        // RFC 6026 §7.1: timer L, every transport.
        this.timerL = this.startTimer('L', t.timerL);
        break;
      case 'Completed':
        if (!this.reliable) this.timerG = this.startTimer('G', t.timerG(0));
        this.timerH = this.startTimer('H', t.timerH);
        break;
      case 'Confirmed':
        this.lastBytes = undefined;
        // Timer I is zero over reliable flows; receiveAck ends the transaction then.
        if (!this.reliable) this.timerI = this.startTimer('I', t.timerI(false));
        break;
      case 'Terminated':
        this.timerTrying = this.stopTimer(this.timerTrying);
        this.timerG = this.stopTimer(this.timerG);
        this.timerH = this.stopTimer(this.timerH);
        this.timerI = this.stopTimer(this.timerI);
        this.timerL = this.stopTimer(this.timerL);
        this.context.transactionTerminated(this);
        if (this.endReason === 'timeout') this.user?.onTimeout?.(this);
        else if (this.endReason === 'transport-error' && this.endError) this.user?.onTransportError?.(this, this.endError);
        this.user?.onTerminated?.(this);
        break;
    }
  }

  protected onTimer(name: TransactionTimerName): void {
    switch (name) {
      case 'Trying':
        this.timerTrying = undefined;
        if (this._state === 'Proceeding' && this.lastStatus === 0) this.sendTrying();
        return;
      case 'G': {
        // §17.2.1: resend the final response, interval doubling up to T2.
        this.timerG = undefined;
        if (this._state !== 'Completed') return;
        const error = this.resend();
        if (error) return this.fail(error);
        this.timerG = this.startTimer('G', this.context.timers.timerG(++this.retransmissions));
        return;
      }
      case 'H':
        // §17.2.1: the ACK never came; a transaction failure for the TU.
        this.timerH = undefined;
        if (this._state !== 'Completed') return;
        this.endReason = 'timeout';
        return this.stateTransition('Terminated');
      case 'I':
        this.timerI = undefined;
        if (this._state === 'Confirmed') this.stateTransition('Terminated');
        return;
      case 'L':
        this.timerL = undefined;
        if (this._state === 'Accepted') this.stateTransition('Terminated');
        return;
    }
  }

  private sendTrying(): void {
    const error = this.sendResponse(createResponse(this.request, 100));
    if (error) this.fail(error);
  }

  private sendResponse(response: SipResponse): TransportError | undefined {
    this.lastStatus = response.status;
    if (isRfc2543Key(this.id)) this.lastToTag = response.to.tag;
    const bytes = serializeMessage(response);
    // Kept for resending on INVITE retransmissions and timer G; a 2xx is
    // never resent by the transaction (RFC 6026 §7.1), so it is not kept.
    this.lastBytes = response.status >= 200 && response.status < 300 ? undefined : Transaction.retained(bytes);
    return this.sendResponseBytes(bytes);
  }

  /** Sends the last kept response again. */
  private resend(): TransportError | undefined {
    return this.lastBytes === undefined ? undefined : this.sendResponseBytes(this.lastBytes);
  }

  /**
   * A response could not be sent (§17.2.4). RFC 6026 Figure 7: in
   * 'Proceeding' and 'Accepted' the TU is told and the state stays (the TU
   * may retry, and a 2xx is its to retransmit); in 'Completed' the
   * transaction ends.
   */
  private fail(error: TransportError): void {
    if (this._state === 'Completed') {
      this.endReason = 'transport-error';
      this.endError = error;
      this.stateTransition('Terminated');
    } else if (this._state === 'Proceeding' || this._state === 'Accepted') {
      this.user?.onTransportError?.(this, error);
    }
  }
}
