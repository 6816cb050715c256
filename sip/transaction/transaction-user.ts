import type { SipResponse } from '../message/sip-response.js';
import type { TransportError } from '../transport/transport.js';
import type { ClientInviteTransaction } from './client-invite-transaction.js';
import type { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import type { ServerInviteTransaction } from './server-invite-transaction.js';
import type { ServerNonInviteTransaction } from './server-non-invite-transaction.js';

/** Either kind of client transaction. */
export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;

/** Either kind of server transaction. */
export type ServerTransaction = ServerInviteTransaction | ServerNonInviteTransaction;

/**
 * The transaction user (RFC 3261 §17: UA core or proxy core) of a client
 * transaction. One object may serve many transactions (a proxy's response
 * context serves every branch), so each callback names the transaction;
 * implement it on a class and no closure is made per request.
 *
 * Callbacks run after the state change they report, so `transaction.state`
 * is already the new state.
 */
export interface ClientTransactionUser {
  /**
   * A response the TU must see: every 1xx; for INVITE every 2xx (also those
   * received in 'Accepted', RFC 6026 §7.2: the TU sends ACK for 2xx itself,
   * §13.2.2.4) and the first non-2xx final response (the transaction has
   * already sent its ACK, §17.1.1.3); for non-INVITE the first final
   * response. Retransmissions the transaction absorbs never arrive here.
   */
  onResponse(response: SipResponse, transaction: ClientTransaction): void;
  /**
   * Timer B (INVITE) or F (non-INVITE) fired before a final response. The TU
   * acts as if it had received 408 (§8.1.3.1); `createResponse(transaction.request, 408)`
   * builds that response when the TU wants one to pass on.
   */
  onTimeout?(transaction: ClientTransaction): void;
  /**
   * The request could not be sent, or the reliable flow closed before any
   * response came (§17.1.4). The TU acts as if it had received 503 (§8.1.3.1).
   */
  onTransportError?(transaction: ClientTransaction, error: TransportError): void;
  /** The transaction reached 'Terminated' and was forgotten by the layer. */
  onTerminated?(transaction: ClientTransaction): void;
}

/**
 * The transaction user of a server transaction, set with
 * `transaction.user = ...` by the TU once it has taken the request. Requests
 * themselves, CANCELs and ACKs for 2xx reach the TU through the layer's
 * {@link TransactionLayerHandler}, so that there is one path for each.
 */
export interface ServerTransactionUser {
  /**
   * Timer H fired: no ACK came for a non-2xx final response to INVITE
   * (§17.2.1, "a transaction failure has occurred").
   */
  onTimeout?(transaction: ServerTransaction): void;
  /** A response could not be sent (§17.2.4). */
  onTransportError?(transaction: ServerTransaction, error: TransportError): void;
  /** The transaction reached 'Terminated' and was forgotten by the layer. */
  onTerminated?(transaction: ServerTransaction): void;
}

/** A client TU that wants nothing back (the CANCEL a proxy sends on a losing branch). */
export const IGNORING_CLIENT_USER: ClientTransactionUser = {
  onResponse(): void {},
};
