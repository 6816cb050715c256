import type { SipRequest } from '../message/sip-request.js';
import type { Flow } from '../transport/transport.js';
import type { Clock } from '../util/clock.js';
import type { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import type { ServerInviteTransaction } from './server-invite-transaction.js';
import type { TimerConfig } from './timer-config.js';
import type { ClientTransactionUser, ClientTransaction, ServerTransaction } from './transaction-user.js';

/**
 * What a transaction needs from the layer that owns it. The
 * {@link TransactionLayer} implements it; tests of a single state machine
 * may pass a stub. Kept to the few calls that cross the boundary, so the
 * state machines stay free of maps and transports.
 */
export interface TransactionContext {
  readonly clock: Clock;
  readonly timers: TimerConfig;
  /** The transaction reached 'Terminated': remove it from the maps. */
  transactionTerminated(transaction: ClientTransaction | ServerTransaction): void;
  /**
   * The flow a response to `request` (received on `requestFlow`) goes out
   * on, by RFC 3261 §18.2.2 and RFC 3581 §4. Throws TransportError when no
   * flow can be had.
   */
  responseFlow(request: SipRequest, requestFlow: Flow): Flow;
  /**
   * An ACK matched an INVITE server transaction in 'Accepted': it is an ACK
   * for a 2xx and belongs to the TU (RFC 6026 §7.1).
   */
  passAckToTu(ack: SipRequest, flow: Flow, transaction: ServerInviteTransaction): void;
  /** Sends a CANCEL (already carrying the INVITE's top Via) in a new non-INVITE client transaction (§9.1). */
  sendCancel(cancel: SipRequest, flow: Flow, user: ClientTransactionUser): ClientNonInviteTransaction;
  /** An exception escaped a TU callback that a timer ran; never rethrown into the clock. */
  reportError(error: unknown): void;
}
