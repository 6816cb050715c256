import { createResponse } from '../message/create-response.js';
import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import type { ServerTransaction } from '../transaction/transaction-user.js';
import type { Flow } from '../transport/transport.js';
import { newTag } from '../util/random.js';
import { applyBody, applyHeaders, type ResponseOptions } from './message-options.js';
import { UserAgentError } from './user-agent-error.js';

/** Who completes and observes the answers to an {@link IncomingRequest}: the session it arrived in, or the core. */
export interface IncomingRequestOwner {
  /** Completes `response` before it is sent (Contact on a 2xx to a target refresh, Allow on 405...). */
  completeResponse(incoming: IncomingRequest, response: SipResponse): void;
  /** `response` was handed to the transaction. */
  responseSent(incoming: IncomingRequest, response: SipResponse): void;
}

/**
 * A request the application answers: an out-of-dialog request given to the
 * core's `onRequest` hook, or a request inside a session (`reinvite`,
 * `update`, `info`, `refer`, `notify`, `bye`, `request` events). Answer it
 * once with a final status, synchronously or later; provisional responses
 * may come first. When nobody listens to the event, the core gives the
 * answer RFC 3261 and the extension expect (documented on each event).
 *
 * When the core had to answer on its own first (487 to a re-INVITE after
 * its CANCEL, §9.2, or to pending requests when a BYE arrives, §15.1.2),
 * later answers from the application are ignored; `answeredByCore` tells.
 * Answering twice is a bug and throws `SIP_ERR_INVALID_STATE`.
 */
export class IncomingRequest {
  private _final: SipResponse | undefined;
  private _byCore = false;
  /** The To tag of our responses when the request had none (§8.2.6.2), the same on every response. */
  private readonly toTag: string | undefined;

  constructor(
    private readonly owner: IncomingRequestOwner,
    readonly request: SipRequest,
    readonly transaction: ServerTransaction,
    /** The flow the request came in on. */
    readonly flow: Flow,
  ) {
    this.toTag = request.to.tag ? undefined : newTag();
  }

  get method(): string {
    return this.request.method;
  }

  /** True once a final response was sent. */
  get answered(): boolean {
    return this._final !== undefined;
  }

  /** The final response sent, if any. */
  get finalResponse(): SipResponse | undefined {
    return this._final;
  }

  /** True when the core sent the final response itself (see the class comment). */
  get answeredByCore(): boolean {
    return this._byCore;
  }

  /**
   * Sends a response with `status` (100–699). A provisional one may be
   * followed by others; a final one ends the request. TypeError for a
   * status out of range; `SIP_ERR_INVALID_STATE` after the final answer.
   */
  respond(status: number, options?: ResponseOptions): void {
    if (!Number.isInteger(status) || status < 100 || status > 699) throw new TypeError(`${status} is not a SIP status code`);
    if (this._final) {
      if (this._byCore) return;
      throw new UserAgentError('SIP_ERR_INVALID_STATE', `${this.method} was already answered with ${this._final.status}`);
    }
    this.send(this.build(status, options));
  }

  /** Answers 200 OK. */
  accept(options?: ResponseOptions): void {
    this.respond(200, options);
  }

  /** Answers with a final non-2xx status (300–699); TypeError otherwise. */
  reject(status: number, options?: ResponseOptions): void {
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new TypeError(`reject needs a status in 300..699, got ${status}`);
    this.respond(status, options);
  }

  /**
   * Answers on the core's behalf unless already answered (487 after CANCEL
   * or BYE, 500 when a handler threw, the default answers). Returns whether
   * it answered.
   * @internal
   */
  respondByCore(status: number, options?: ResponseOptions): boolean {
    if (this._final) return false;
    this._byCore = status >= 200;
    this.send(this.build(status, options));
    return true;
  }

  private build(status: number, options: ResponseOptions | undefined): SipResponse {
    const response = createResponse(this.request, status, { reason: options?.reason, toTag: this.toTag });
    applyHeaders(response, options?.headers);
    applyBody(response, options);
    this.owner.completeResponse(this, response);
    return response;
  }

  private send(response: SipResponse): void {
    if (response.status >= 200) this._final = response;
    this.transaction.respond(response);
    this.owner.responseSent(this, response);
  }
}
