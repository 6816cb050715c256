import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/transaction-user.js';
import { type Flow, TransportError } from '../transport/transport.js';
import { cloneRequest } from './clone-request.js';
import { LazyOutcome } from './lazy-outcome.js';
import type { UserAgentCore } from './user-agent-core.js';
import { UserAgentError } from './user-agent-error.js';

/** How the owner of an {@link OutgoingRequest} takes part in it. Every member is optional. */
export interface OutgoingRequestHooks {
  /** Each copy of the request just before it goes out on `flow` (e.g. to add a Contact that names the flow). */
  prepare?(request: SipRequest, flow: Flow): void;
  /**
   * The CSeq number of the retry after a 401/407 (RFC 3261 §22.2: same
   * Call-ID, CSeq incremented). Default: the last one plus one. A dialog
   * passes its own counter so that its local sequence number stays right.
   */
  nextCSeq?(): number;
  /** Every provisional response. */
  onProvisional?(response: SipResponse): void;
  /**
   * INVITE only: every 2xx the transaction passes up, retransmissions
   * included, with the request it answers; the owner sends the ACK
   * (§13.2.2.4).
   */
  on2xx?(response: SipResponse, request: SipRequest): void;
}

/**
 * One request the core sends and waits for, through as many client
 * transactions as digest authentication takes (RFC 3261 §22.2: a 401/407
 * is answered once per challenge by the core's `DigestClient`, with the
 * same Call-ID and From tag and the next CSeq). Used for out-of-dialog
 * requests, requests in a dialog and re-INVITEs; the dialog-creating
 * INVITE has its own class, `OutgoingInvite`, for forking.
 *
 * `response` resolves with the final response (2xx or not) and rejects
 * with a {@link UserAgentError}: `SIP_ERR_REQUEST_TIMEOUT` (timer B/F),
 * `SIP_ERR_TRANSPORT` (no route, send failure, closed connection).
 */
export class OutgoingRequest implements ClientTransactionUser {
  /** The request as last sent (with its Via), once sent. */
  request: SipRequest | undefined;
  /** The client transaction of the last attempt. */
  transaction: ClientTransaction | undefined;
  private readonly outcome = new LazyOutcome<SipResponse>();
  private readonly core: UserAgentCore;
  private readonly hooks: OutgoingRequestHooks;
  private readonly preferredFlow: Flow | undefined;

  constructor(
    core: UserAgentCore,
    /** The request without Via; copies of it are sent, and it collects credentials across retries. */
    readonly template: SipRequest,
    preferredFlow?: Flow,
    hooks: OutgoingRequestHooks = {},
  ) {
    this.core = core;
    this.preferredFlow = preferredFlow;
    this.hooks = hooks;
  }

  /** The final response; see the class comment for rejections. */
  get response(): Promise<SipResponse> {
    return this.outcome.get();
  }

  /** True once a final response, a timeout or a transport error ended it. */
  get settled(): boolean {
    return this.outcome.settled;
  }

  /** Resolves the next hop and sends the first attempt. Never throws: failures reject `response`. */
  start(): this {
    // In-dialog requests carry no credentials; out-of-dialog ones reuse the
    // last challenge of the realm (RFC 7616 §3.3; `preemptiveAuth`).
    if (!this.template.to.tag) this.core.digest?.authorizePreemptively(this.template);
    this.sendVia(this.preferredFlow);
    return this;
  }

  onResponse(response: SipResponse, transaction: ClientTransaction): void {
    if (transaction !== this.transaction) return;
    const status = response.status;
    if (status < 200) {
      this.hooks.onProvisional?.(response);
      return;
    }
    if (status < 300 && this.template.method === 'INVITE') {
      this.hooks.on2xx?.(response, transaction.request);
      this.outcome.resolve(response);
      return;
    }
    if ((status === 401 || status === 407) && !this.outcome.settled && this.retryWithCredentials(response, transaction)) return;
    this.outcome.resolve(response);
  }

  onTimeout(transaction: ClientTransaction): void {
    if (transaction !== this.transaction) return;
    this.fail(new UserAgentError('SIP_ERR_REQUEST_TIMEOUT', `no final response to ${this.template.method} (timer ${transaction.isInvite ? 'B' : 'F'})`));
  }

  onTransportError(transaction: ClientTransaction, error: TransportError): void {
    if (transaction !== this.transaction) return;
    this.fail(new UserAgentError('SIP_ERR_TRANSPORT', `${this.template.method} could not be delivered: ${error.message}`));
  }

  /** Rejects `response` (used by the core when it closes). */
  fail(error: unknown): void {
    this.outcome.reject(toUserAgentError(error, this.template.method));
  }

  private retryWithCredentials(challenge: SipResponse, transaction: ClientTransaction): boolean {
    const digest = this.core.digest;
    if (!digest || !digest.authorize(this.template, challenge)) return false;
    const seq = this.hooks.nextCSeq ? this.hooks.nextCSeq() : this.template.cseq.seq + 1;
    this.template.setHeader('CSeq', seq + ' ' + this.template.method);
    this.sendVia(transaction.flow.isOpen ? transaction.flow : this.preferredFlow);
    return true;
  }

  private sendVia(preferred: Flow | undefined): void {
    let resolved: Flow | Promise<Flow>;
    try {
      resolved = this.core.resolveFlow(this.template, preferred);
    } catch (e) {
      this.fail(e);
      return;
    }
    if (resolved instanceof Promise) resolved.then((flow) => this.send(flow), (e: unknown) => this.fail(e));
    else this.send(resolved);
  }

  private send(flow: Flow): void {
    if (this.outcome.settled) return;
    try {
      const wire = cloneRequest(this.template);
      this.hooks.prepare?.(wire, flow);
      this.request = wire;
      const layer = this.core.transactions;
      this.transaction = wire.method === 'INVITE' ? layer.sendInvite(wire, flow, this) : layer.sendRequest(wire, flow, this);
    } catch (e) {
      this.fail(e);
    }
  }
}

/**
 * Maps what can go wrong while sending to the error the application sees:
 * a TransportError becomes `SIP_ERR_TRANSPORT`; anything else that is not
 * already a UserAgentError (a TypeError is a bug) is passed on unchanged.
 */
export function toUserAgentError(error: unknown, method: string): unknown {
  if (error instanceof TransportError) return new UserAgentError('SIP_ERR_TRANSPORT', `${method} could not be sent: ${error.message}`);
  return error;
}
