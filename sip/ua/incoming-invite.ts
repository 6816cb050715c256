import { Dialog } from '../dialog/dialog.js';
import type { ReplacesValue } from '../dialog/replaces.js';
import { createResponse } from '../message/create-response.js';
import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import type { ServerInviteTransaction } from '../transaction/server-invite-transaction.js';
import type { ServerTransaction, ServerTransactionUser } from '../transaction/transaction-user.js';
import { type Flow, type TransportError, isSecure } from '../transport/transport.js';
import { newTag } from '../util/random.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { applyBody, applyHeaders, type ResponseOptions } from './message-options.js';
import { Session } from './session.js';
import type { UserAgentCore } from './user-agent-core.js';
import { UserAgentError } from './user-agent-error.js';

/** `'pending'` until the final response; `'cancelled'` when CANCEL (or BYE on the early dialog) came first. */
export type IncomingInviteState = 'pending' | 'accepted' | 'rejected' | 'cancelled';

export interface IncomingInviteEvents {
  /**
   * The INVITE was cancelled before the final answer: by CANCEL (§9.2), or
   * by a BYE on its early dialog (§15.1.2). The core has answered 487
   * Request Terminated; `request` is the CANCEL or BYE.
   */
  cancelled: { request: SipRequest };
}

/** Options of {@link IncomingInvite.accept}. */
export interface AcceptOptions extends ResponseOptions {
  /** Status of the 2xx. Default 200. */
  status?: number;
  /** Info Packages we accept INFO for in this session (Recv-Info, RFC 6086). Default: the core's `recvInfo`. */
  recvInfo?: readonly string[];
}

/**
 * An INVITE outside any dialog, handed to the core's `onInvite` hook (RFC
 * 3261 §13.3). The application answers it once: `accept()` (2xx, which
 * makes the {@link Session}), or `reject()` (300–699), after any number of
 * `progress()` responses. Until then, a CANCEL ends it with 487 and the
 * `cancelled` event.
 *
 * ```ts
 * core.onInvite = async (invite) => {
 *   invite.progress(180);
 *   const service = JSON.parse(invite.request.bodyText);
 *   if (!inStock(service)) return invite.reject(486);
 *   const session = invite.accept({ body: JSON.stringify({ url }), contentType: SERVICE_JSON });
 *   session.on('terminated', …);
 * };
 * ```
 */
export class IncomingInvite extends TypedEmitter<IncomingInviteEvents> implements ServerTransactionUser {
  /** Our To tag for every response to this INVITE (§8.2.6.2), and so our dialog's local tag. */
  readonly localTag: string = newTag();
  /** The dialog this INVITE replaces (RFC 3891), when it carries a Replaces header that matched one. */
  readonly replaces: ReplacesValue | undefined;
  /** The session named by `replaces`; the core answered 481 when there was none. The application ends it. */
  readonly replacedSession: Session | undefined;
  private _state: IncomingInviteState = 'pending';
  private _session: Session | undefined;
  private readonly core: UserAgentCore;

  /** @internal Made by the core. */
  constructor(
    core: UserAgentCore,
    readonly request: SipRequest,
    readonly transaction: ServerInviteTransaction,
    /** The flow the INVITE came in on. */
    readonly flow: Flow,
    replaces?: { value: ReplacesValue; session: Session },
  ) {
    super((error, type) => core.logger.error({ err: error, event: type }, 'IncomingInvite listener threw'));
    this.core = core;
    this.replaces = replaces?.value;
    this.replacedSession = replaces?.session;
  }

  get state(): IncomingInviteState {
    return this._state;
  }

  /** The session: early after a `progress()` with status above 100, confirmed after `accept()`. */
  get session(): Session | undefined {
    return this._session;
  }

  /**
   * Sends a provisional response (100–199; default 180 Ringing). Above 100
   * it carries our To tag and Contact and creates the early dialog and its
   * session (§12.1.1, §13.3.1.1). Ignored after a CANCEL; `SIP_ERR_INVALID_STATE`
   * after the final answer.
   */
  progress(status = 180, options?: ResponseOptions): void {
    if (!Number.isInteger(status) || status < 100 || status > 199) throw new TypeError(`progress needs a status in 100..199, got ${status}`);
    if (!this.assertPending('progress')) return;
    const response = this.build(status, options);
    if (status > 100) {
      const session = (this._session ??= this.createSession('early'));
      this.addDialogHeaders(response, session);
      session.setInviteResponse(response);
    }
    this.transaction.respond(response);
  }

  /**
   * Answers 2xx and returns the confirmed session (§13.3.1.4). The core
   * retransmits the 2xx until the ACK comes (`session.on('ack')`), and ends
   * the session with a BYE if none comes within 64*T1. Throws
   * `SIP_ERR_CANCELLED` when the INVITE was cancelled first,
   * `SIP_ERR_INVALID_STATE` when already answered.
   */
  accept(options: AcceptOptions = {}): Session {
    const status = options.status ?? 200;
    if (!Number.isInteger(status) || status < 200 || status > 299) throw new TypeError(`accept needs a 2xx status, got ${status}`);
    if (this._state === 'cancelled') throw new UserAgentError('SIP_ERR_CANCELLED', 'the INVITE was cancelled before it was accepted');
    this.assertPending('accept');
    const session = this._session ?? this.createSession('confirmed');
    this._session = session;
    if (options.recvInfo) session.setRecvInfo(options.recvInfo);
    if (session.dialog.state === 'early') session.dialog.stateTransition('confirmed');
    const response = this.build(status, options);
    this.addDialogHeaders(response, session);
    this.core.decorateResponse(this.request, response);
    if (session.recvInfo.length && !response.hasHeader('recv-info')) response.setHeader('Recv-Info', session.recvInfo.join(', '));
    this._state = 'accepted';
    session.setInviteResponse(response);
    this.transaction.respond(response);
    session.awaitAck(response, this.transaction);
    return session;
  }

  /**
   * Answers with a final non-2xx status (300–699), e.g. 486 Busy Here or
   * 404; ends the early session if there was one. Ignored after a CANCEL;
   * `SIP_ERR_INVALID_STATE` when already answered.
   */
  reject(status: number, options?: ResponseOptions): void {
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new TypeError(`reject needs a status in 300..699, got ${status}`);
    if (!this.assertPending('reject')) return;
    const response = this.build(status, options);
    this.core.decorateResponse(this.request, response);
    this._state = 'rejected';
    this.transaction.respond(response);
    this._session?.terminate({ by: 'local', reason: 'rejected', message: response });
  }

  /**
   * @internal A CANCEL matched this INVITE (the core answered it 200), or a
   * BYE arrived on its early dialog (§15.1.2): answer 487 and tell the
   * application. A CANCEL also ends the early session; for a BYE the
   * session does that itself.
   */
  cancelBy(request: SipRequest): void {
    if (this._state !== 'pending') return;
    this._state = 'cancelled';
    this.transaction.respond(this.build(487, undefined));
    if (request.method === 'CANCEL') this._session?.terminate({ by: 'remote', reason: 'cancelled', message: request });
    this.emit('cancelled', { request });
  }

  // ---- ServerTransactionUser ----------------------------------------------------

  /** @internal */
  onTransportError(_transaction: ServerTransaction, error: TransportError): void {
    this.core.logger.warn({ err: error, callId: this.request.callId }, 'a response to an INVITE could not be sent');
  }

  /** @internal */
  onTerminated(_transaction: ServerTransaction): void {
    this.core.forgetIncomingInvite(this);
  }

  // ---- helpers ----------------------------------------------------------------------

  /** True when still pending; false (ignore the call) after a CANCEL; throws after a final answer. */
  private assertPending(what: string): boolean {
    if (this._state === 'pending') return true;
    if (this._state === 'cancelled') return false;
    throw new UserAgentError('SIP_ERR_INVALID_STATE', `cannot ${what}: the INVITE was already ${this._state}`);
  }

  private build(status: number, options: ResponseOptions | undefined): SipResponse {
    const response = createResponse(this.request, status, { reason: options?.reason, toTag: this.localTag });
    applyHeaders(response, options?.headers);
    applyBody(response, options);
    return response;
  }

  /** §12.1.1: a dialog-creating response copies Record-Route in order and carries our Contact. */
  private addDialogHeaders(response: SipResponse, session: Session): void {
    for (const line of this.request.headerLines('record-route')) response.addHeader('Record-Route', line);
    response.setHeader('Contact', session.localContact);
  }

  private createSession(state: 'early' | 'confirmed'): Session {
    const secure = isSecure(this.flow.protocol) && this.request.uri.scheme === 'sips';
    const dialog = Dialog.createUas(this.request, this.localTag, state, secure);
    const session = new Session(this.core, {
      dialog,
      inviteRequest: this.request,
      flow: this.flow,
      localContact: this.core.contactFor(this.flow),
      recvInfo: this.core.recvInfo,
      incomingInvite: this,
    });
    this.core.addSession(session);
    return session;
  }
}
