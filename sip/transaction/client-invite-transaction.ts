import type { HeaderInit } from '../message/sip-message.js';
import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { serializeMessage } from '../message/serializer.js';
import type { Flow, TransportError } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import type { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import { createCancel } from './create-cancel.js';
import { createNon2xxAck } from './create-non-2xx-ack.js';
import { Transaction, type TransactionTimerName } from './transaction.js';
import type { TransactionContext } from './transaction-context.js';
import { type ClientTransactionUser, IGNORING_CLIENT_USER } from './transaction-user.js';

/** States of the INVITE client transaction (RFC 3261 §17.1.1, Figure 5 as corrected by RFC 6026 §7.2). */
export type ClientInviteTransactionState = 'Calling' | 'Proceeding' | 'Accepted' | 'Completed' | 'Terminated';

/**
 * Legal moves. Every state may end in 'Terminated' because the layer can be
 * closed at any time; everything else is RFC 6026 Figure 5.
 */
const NEXT: Record<ClientInviteTransactionState, readonly ClientInviteTransactionState[]> = {
  Calling: ['Proceeding', 'Accepted', 'Completed', 'Terminated'],
  Proceeding: ['Accepted', 'Completed', 'Terminated'],
  Accepted: ['Terminated'],
  Completed: ['Terminated'],
  Terminated: [],
};

/** Options of {@link ClientInviteTransaction.cancel}. */
export interface CancelOptions {
  /** Extra header lines of the CANCEL (e.g. a Reason, RFC 3326). */
  headers?: HeaderInit;
  /** Who hears the CANCEL's own responses; by default nobody. */
  user?: ClientTransactionUser;
}

/** What {@link ClientInviteTransaction.cancel} did. */
export type CancelOutcome =
  /** The CANCEL went out in its own non-INVITE client transaction. */
  | 'sent'
  /** No provisional response yet: the CANCEL goes out when one arrives (§9.1). */
  | 'pending'
  /** A final response was received (or the transaction ended): nothing to cancel (§9.1). */
  | 'too-late';

type EndReason = 'timeout' | 'transport-error' | undefined;

/**
 * The INVITE client transaction (RFC 3261 §17.1.1 with RFC 6026 §7.2). It
 * retransmits the INVITE over unreliable flows (timer A) until a response
 * comes or timer B fires; passes provisional responses to the TU; sends the
 * ACK for a non-2xx final response itself and absorbs its retransmissions
 * (timer D); and passes every 2xx to the TU, which acknowledges 2xx itself,
 * for as long as timer M runs in 'Accepted'.
 *
 * Created by `TransactionLayer.sendInvite()`, which adds the Via and sends.
 */
export class ClientInviteTransaction extends Transaction {
  readonly isInvite = true as const;
  readonly isServer = false as const;
  /** Who hears about responses and failures. May be replaced (e.g. when a dialog takes over). */
  user: ClientTransactionUser;
  /** Status of the last response passed to the TU, 0 before any (the response itself is not kept). */
  lastStatus = 0;
  /** The CANCEL's transaction once the CANCEL was sent. */
  cancelTransaction: ClientNonInviteTransaction | undefined;

  private _state: ClientInviteTransactionState = 'Calling';
  /** The INVITE as sent, kept while it may be retransmitted (Calling over UDP). */
  private requestBytes: Uint8Array | undefined;
  private ackBytes: Uint8Array | undefined;
  private retransmissions = 0;
  private timerA: TimerHandle | undefined;
  private timerB: TimerHandle | undefined;
  private timerD: TimerHandle | undefined;
  private timerM: TimerHandle | undefined;
  private pendingCancel: CancelOptions | undefined;
  private endReason: EndReason;
  private endError: TransportError | undefined;

  constructor(id: string, request: SipRequest, flow: Flow, context: TransactionContext, user: ClientTransactionUser) {
    super(id, request, flow, context);
    if (request.method !== 'INVITE') throw new TypeError(`ClientInviteTransaction needs an INVITE, got ${request.method}`);
    this.user = user;
  }

  get state(): ClientInviteTransactionState {
    return this._state;
  }

  /** True once `cancel()` was called and a CANCEL was sent or is waiting for a provisional response. */
  get cancelRequested(): boolean {
    return this.pendingCancel !== undefined || this.cancelTransaction !== undefined;
  }

  /**
   * Sends the INVITE and starts timer A (unreliable flows only) and timer B
   * (§17.1.1.2). The layer calls it once, after the transaction is in its
   * map. A send failure is reported to the TU from a zero-delay timer, so
   * that no callback runs before `sendInvite()` has returned.
   */
  start(): void {
    const bytes = serializeMessage(this.request);
    if (!this.reliable) {
      this.requestBytes = Transaction.retained(bytes);
      this.timerA = this.startTimer('A', this.context.timers.timerA(0));
    }
    this.timerB = this.startTimer('B', this.context.timers.timerB);
    const error = Transaction.send(this.flow, bytes);
    if (error) {
      this.endError = error;
      this.timerA = this.stopTimer(this.timerA);
      this.timerB = this.stopTimer(this.timerB);
      this.timerB = this.startTimer('TransportError', 0);
    }
  }

  /**
   * A response matched this transaction (§17.1.3). Returns false when the
   * transaction does not take it (a 2xx after a non-2xx final response), so
   * the layer hands it on as a stray response.
   */
  receiveResponse(response: SipResponse): boolean {
    const status = response.status;
    switch (this._state) {
      case 'Calling':
      case 'Proceeding':
        this.lastStatus = status;
        if (status < 200) {
          // §17.1.1.2: a provisional response moves Calling to Proceeding and stops retransmissions.
          if (this._state === 'Calling') this.stateTransition('Proceeding');
          this.user.onResponse(response, this);
        } else if (status < 300) {
          // RFC 6026 §7.2: a 2xx moves to Accepted and goes to the TU, which sends the ACK.
          this.stateTransition('Accepted');
          this.user.onResponse(response, this);
        } else {
          // §17.1.1.2: 300-699 is acknowledged by the transaction, then passed up.
          const ack = createNon2xxAck(this.request, response);
          this.ackBytes = Transaction.retained(serializeMessage(ack));
          const error = Transaction.send(this.flow, this.ackBytes);
          this.stateTransition('Completed');
          this.user.onResponse(response, this);
          if (error) this.fail(error);
          // Timer D is zero over reliable flows (§17.1.1.2).
          else if (this.reliable && this.state === 'Completed') this.stateTransition('Terminated');
        }
        return true;
      case 'Accepted':
        // RFC 6026 §7.2: every further 2xx (retransmission or another fork) goes to the TU.
        if (status >= 200 && status < 300) {
          this.lastStatus = status;
          this.user.onResponse(response, this);
        }
        return true;
      case 'Completed':
        // §17.1.1.2: a retransmitted final response gets the ACK again and is not passed up.
        if (status >= 300) {
          if (this.ackBytes) {
            const error = Transaction.send(this.flow, this.ackBytes);
            if (error) this.fail(error);
          }
          return true;
        }
        return status < 200;
      case 'Terminated':
        return false;
    }
  }

  /**
   * Asks to cancel the INVITE (§9.1). Before any provisional response the
   * CANCEL waits ("MUST NOT be sent" until then); after a final response it
   * is a no-op. The CANCEL goes out in its own non-INVITE client transaction
   * over the INVITE's flow, found afterwards in {@link cancelTransaction}.
   */
  cancel(options?: CancelOptions): CancelOutcome {
    if (this.cancelTransaction) return 'sent';
    switch (this._state) {
      case 'Calling':
        this.pendingCancel ??= options ?? {};
        return 'pending';
      case 'Proceeding':
        this.sendCancel(options ?? {});
        return 'sent';
      default:
        return 'too-late';
    }
  }

  /**
   * The reliable flow this transaction sends on closed. Before any response
   * the INVITE may never have arrived, so that is a transport error
   * (§17.1.4); afterwards the server can still answer over a new connection
   * (§18.2.2), so nothing changes.
   */
  flowClosed(error: TransportError): void {
    if (this._state === 'Calling') this.fail(error);
  }

  /** Ends the transaction at once without telling the TU why (layer shutdown). */
  terminate(): void {
    if (this._state !== 'Terminated') this.stateTransition('Terminated');
  }

  /**
   * The one place the state changes. Refuses moves that RFC 6026 Figure 5
   * does not have (a programming error: TypeError), stops the timers of the
   * state left and starts those of the state entered.
   */
  protected stateTransition(newState: ClientInviteTransactionState): void {
    const from = this._state;
    if (!NEXT[from].includes(newState)) {
      throw new TypeError(`INVITE client transaction ${this.id}: invalid state transition from ${from} to ${newState}`);
    }
    if (from === 'Calling') {
      this.timerA = this.stopTimer(this.timerA);
      this.timerB = this.stopTimer(this.timerB);
      this.requestBytes = undefined;
    }
    this._state = newState;
    switch (newState) {
      case 'Proceeding':
        if (this.pendingCancel) {
          const options = this.pendingCancel;
          this.pendingCancel = undefined;
          this.sendCancel(options);
        }
        break;
      case 'Accepted':
        this.pendingCancel = undefined;
        this.timerM = this.startTimer('M', this.context.timers.timerM);
        break;
      case 'Completed':
        this.pendingCancel = undefined;
        if (!this.reliable) this.timerD = this.startTimer('D', this.context.timers.timerD(false));
        break;
      case 'Terminated':
        this.pendingCancel = undefined;
        this.timerA = this.stopTimer(this.timerA);
        this.timerB = this.stopTimer(this.timerB);
        this.timerD = this.stopTimer(this.timerD);
        this.timerM = this.stopTimer(this.timerM);
        this.context.transactionTerminated(this);
        if (this.endReason === 'timeout') this.user.onTimeout?.(this);
        else if (this.endReason === 'transport-error' && this.endError) this.user.onTransportError?.(this, this.endError);
        this.user.onTerminated?.(this);
        break;
    }
  }

  protected onTimer(name: TransactionTimerName): void {
    switch (name) {
      case 'A': {
        // §17.1.1.2: retransmit and double the interval; timer B bounds the whole.
        if (this._state !== 'Calling' || this.requestBytes === undefined) return;
        const error = Transaction.send(this.flow, this.requestBytes);
        if (error) return this.fail(error);
        this.timerA = this.startTimer('A', this.context.timers.timerA(++this.retransmissions));
        return;
      }
      case 'B':
        this.timerB = undefined;
        if (this._state !== 'Calling') return;
        this.endReason = 'timeout';
        return this.stateTransition('Terminated');
      case 'TransportError':
        this.timerB = undefined;
        if (this._state === 'Calling' && this.endError) this.fail(this.endError);
        return;
      case 'D':
        this.timerD = undefined;
        if (this._state === 'Completed') this.stateTransition('Terminated');
        return;
      case 'M':
        this.timerM = undefined;
        if (this._state === 'Accepted') this.stateTransition('Terminated');
        return;
    }
  }

  /** Transport error in Calling or Completed: inform the TU and end (Figure 5). */
  private fail(error: TransportError): void {
    if (this._state !== 'Calling' && this._state !== 'Completed') return;
    this.endReason = 'transport-error';
    this.endError = error;
    this.stateTransition('Terminated');
  }

  private sendCancel(options: CancelOptions): void {
    const cancel = createCancel(this.request, { headers: options.headers });
    this.cancelTransaction = this.context.sendCancel(cancel, this.flow, options.user ?? IGNORING_CLIENT_USER);
  }
}
