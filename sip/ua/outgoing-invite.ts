import { Dialog } from '../dialog/dialog.js';
import { createResponse } from '../message/create-response.js';
import type { HeaderInit } from '../message/sip-message.js';
import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import type { ClientInviteTransaction } from '../transaction/client-invite-transaction.js';
import type { ClientTransaction, ClientTransactionUser } from '../transaction/transaction-user.js';
import { type Flow, type TransportError, isSecure } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { cloneRequest } from './clone-request.js';
import { LazyOutcome } from './lazy-outcome.js';
import { toUserAgentError } from './outgoing-request.js';
import { Session } from './session.js';
import type { UserAgentCore } from './user-agent-core.js';
import { UserAgentError } from './user-agent-error.js';

export interface OutgoingInviteEvents {
  /** Every provisional response (100 included). */
  progress: SipResponse;
  /** A 1xx with a new To tag created an early dialog (§12.1.2): its session, in state `early`. */
  early: Session;
  /**
   * A 2xx with a To tag not seen in a 2xx before: its session, confirmed
   * and already ACKed (unless `manualAck`). Fired once per answering UAS —
   * several times when a forking proxy relays several 2xx (design brief,
   * flow 3); every session is kept.
   */
  accepted: Session;
  /** The final non-2xx response (after digest retries, and after all branches of a forking proxy). */
  rejected: SipResponse;
  /** No final response: timeout (`SIP_ERR_REQUEST_TIMEOUT`) or transport failure (`SIP_ERR_TRANSPORT`). */
  failed: UserAgentError;
  /**
   * The INVITE transaction ended (64*T1 after the first 2xx, RFC 6026 §7.2,
   * or after the final non-2xx): no further 2xx will make a session.
   */
  completed: void;
}

/**
 * `'calling'` until a response, `'proceeding'` after a 1xx, `'accepted'`
 * after the first 2xx, `'rejected'` after a final non-2xx, `'failed'`
 * without a final response.
 */
export type OutgoingInviteState = 'calling' | 'proceeding' | 'accepted' | 'rejected' | 'failed';

/** Options of {@link OutgoingInvite.cancel}. */
export interface CancelInviteOptions {
  /** A Reason header value for the CANCEL (RFC 3326), e.g. `SIP;cause=487;text="user hung up"`. */
  reason?: string;
  headers?: HeaderInit;
}

/**
 * An INVITE we sent outside any dialog (`core.invite()`) and everything it
 * led to: provisional responses, early dialogs, and one {@link Session} per
 * 2xx with a distinct To tag — all kept, each ACKed by the core (§13.2.2.4;
 * unlike JsSIP, which hangs up all but the first). A 401/407 is answered
 * once per challenge with the core's credentials.
 *
 * Event form and Promise form, for the same facts:
 *
 * ```ts
 * const call = core.invite('sip:bookstore@portal.test', { body, contentType: REQUEST_JSON,
 *   headers: [['Request-Disposition', 'no-cancel']] });
 * call.on('accepted', (session) => shelves.push(JSON.parse(session.inviteResponse!.bodyText).url));
 * const first = await call.session; // first 2xx's session; rejects with SIP_ERR_REJECTED on 486...
 * ```
 */
export class OutgoingInvite extends TypedEmitter<OutgoingInviteEvents> implements ClientTransactionUser {
  /** The current INVITE as sent (with Via and credentials), once sent. */
  request: SipRequest | undefined;
  /** The client transaction of the current attempt. */
  transaction: ClientInviteTransaction | undefined;
  private _state: OutgoingInviteState = 'calling';
  private _completed = false;
  private _cancelRequested = false;
  private cancelOptions: CancelInviteOptions | undefined;
  private cancelGuard: TimerHandle | undefined;
  private contact: string | undefined;
  private flow: Flow | undefined;
  /** Every dialog of this INVITE by remote tag, early and confirmed. */
  private readonly dialogs = new Map<string, Session>();
  private readonly confirmed: Session[] = [];
  private readonly finalOutcome = new LazyOutcome<SipResponse>();
  private readonly sessionOutcome = new LazyOutcome<Session>();
  private readonly core: UserAgentCore;

  /** @internal Made by `core.invite()`. */
  constructor(
    core: UserAgentCore,
    /** The INVITE without Via or Contact; credentials accumulate on it. */
    readonly template: SipRequest,
    private readonly manualAck: boolean,
    private readonly recvInfo: readonly string[],
  ) {
    super((error, type) => core.logger.error({ err: error, event: type }, 'OutgoingInvite listener threw'));
    this.core = core;
  }

  get state(): OutgoingInviteState {
    return this._state;
  }

  /** True once the INVITE transaction has ended (`completed` was emitted). */
  get completed(): boolean {
    return this._completed;
  }

  /** True once `cancel()` was called. */
  get cancelRequested(): boolean {
    return this._cancelRequested;
  }

  /** The confirmed sessions so far, in the order their 2xx arrived. */
  get sessions(): readonly Session[] {
    return this.confirmed;
  }

  /** The first final response (2xx or not); rejects with a UserAgentError when there is none (timeout, transport). */
  get finalResponse(): Promise<SipResponse> {
    return this.finalOutcome.get();
  }

  /**
   * The session of the first 2xx. Rejects with `SIP_ERR_REJECTED` (the
   * response in `error.response`, 487 after a cancel), or the timeout or
   * transport error.
   */
  get session(): Promise<Session> {
    return this.sessionOutcome.get();
  }

  /**
   * Cancels the INVITE (§9.1). Before any provisional response the CANCEL
   * waits for one (§9.1); after the final response it does nothing and
   * returns false. The INVITE then ends with 487, reported as `rejected`.
   * A 2xx that crosses the CANCEL is ACKed and hung up with BYE, and no
   * session is reported. If no final response comes within 64*T1 of the
   * CANCEL, the INVITE is given up (`failed`, `SIP_ERR_REQUEST_TIMEOUT`).
   */
  cancel(options?: CancelInviteOptions): boolean {
    if (this._state !== 'calling' && this._state !== 'proceeding') return false;
    if (this._cancelRequested) return true;
    this._cancelRequested = true;
    this.cancelOptions = options;
    if (this.transaction) this.sendCancel(this.transaction);
    return true;
  }

  /** @internal Resolves the next hop and sends the first attempt. */
  start(): void {
    this.core.trackInvite(this);
    // Answer the last challenge of the realm again with the next nonce
    // count, saving the 401 round trip (RFC 7616 §3.3; `preemptiveAuth`).
    this.core.digest?.authorizePreemptively(this.template);
    this.sendVia(undefined);
  }

  // ---- ClientTransactionUser -------------------------------------------------------

  /** @internal */
  onResponse(response: SipResponse, transaction: ClientTransaction): void {
    if (transaction !== this.transaction) return;
    const status = response.status;
    if (status < 200) return this.receiveProvisional(response);
    if (status < 300) return this.receive2xx(response, transaction);
    if ((status === 401 || status === 407) && !this._cancelRequested && this.retryWithCredentials(response, transaction)) return;
    this.finish('rejected', response);
    this.endEarlyDialogs('rejected', 'remote', response);
    this.emit('rejected', response);
  }

  /** @internal */
  onTimeout(transaction: ClientTransaction): void {
    if (transaction !== this.transaction) return;
    this.fail(new UserAgentError('SIP_ERR_REQUEST_TIMEOUT', 'no final response to the INVITE (timer B)'));
  }

  /** @internal */
  onTransportError(transaction: ClientTransaction, error: TransportError): void {
    if (transaction !== this.transaction) return;
    this.fail(new UserAgentError('SIP_ERR_TRANSPORT', `the INVITE could not be delivered: ${error.message}`));
  }

  /** @internal */
  onTerminated(transaction: ClientTransaction): void {
    if (transaction !== this.transaction) return;
    this.complete();
  }

  /** @internal Ends it at once (core closing). */
  abort(error: UserAgentError): void {
    if (this._state === 'calling' || this._state === 'proceeding') this.fail(error);
    this.complete();
  }

  // ---- responses ----------------------------------------------------------------

  private receiveProvisional(response: SipResponse): void {
    if (this._state === 'calling') this._state = 'proceeding';
    this.emit('progress', response);
    const tag = response.to.tag;
    if (response.status === 100 || !tag || this._state !== 'proceeding') return;
    const known = this.dialogs.get(tag);
    if (known) {
      if (known.state === 'early') {
        known.dialog.updateFromResponse(response);
        known.setInviteResponse(response);
      }
      return;
    }
    if (!response.hasHeader('contact')) return; // §12.1.2 needs a remote target; no early dialog without one.
    const session = this.createSession(response);
    if (!session) return;
    this.emit('early', session);
  }

  private receive2xx(response: SipResponse, transaction: ClientTransaction): void {
    const tag = response.to.tag;
    if (!tag) {
      this.core.logger.warn({ callId: response.callId }, 'a 2xx to INVITE without To tag was dropped');
      return;
    }
    const request = transaction.request;
    const existing = this.dialogs.get(tag);
    if (existing && (existing.state === 'confirmed' || (existing.state === 'terminated' && (existing.inviteResponse?.status ?? 0) >= 200))) {
      // A retransmission of a 2xx we have seen: ACK it again (§13.2.2.4).
      existing.receiveInvite2xx(response, request, this.manualAck);
      return;
    }
    // A 2xx we do not want: the application cancelled, or hung up this branch's early dialog.
    const unwanted = this._cancelRequested || existing !== undefined && existing.state === 'terminated';
    let session: Session | undefined;
    if (existing && existing.state === 'early') {
      session = existing;
      session.dialog.updateFromResponse(response);
      session.setInviteResponse(response);
    } else {
      session = this.createSession(response);
      if (!session) return;
    }
    session.receiveInvite2xx(response, request, this.manualAck && !unwanted);
    if (this._state !== 'accepted') this.finish('accepted', response);
    if (unwanted) {
      // ACK, then BYE (§15): the dialog exists at the UAS until we end it.
      session.bye().catch((e: unknown) => (session as Session).reportError(e, 'BYE of an unwanted 2xx failed'));
      this.sessionOutcome.reject(new UserAgentError('SIP_ERR_CANCELLED', 'the INVITE was cancelled; a 2xx that crossed the CANCEL was hung up', response));
      return;
    }
    this.confirmed.push(session);
    this.sessionOutcome.resolve(session);
    this.emit('accepted', session);
  }

  /** A session for the dialog `response` creates; undefined (and logged) when the response cannot make one. */
  private createSession(response: SipResponse): Session | undefined {
    const request = this.request as SipRequest;
    let dialog: Dialog;
    try {
      const secure = isSecure((this.flow as Flow).protocol) && request.uri.scheme === 'sips';
      dialog = Dialog.createUac(request, response, secure);
    } catch (e) {
      this.core.logger.warn({ err: e, status: response.status }, 'a response to INVITE could not create a dialog');
      return undefined;
    }
    const session = new Session(this.core, {
      dialog,
      inviteRequest: request,
      inviteResponse: response,
      flow: this.flow as Flow,
      localContact: this.contact as string,
      recvInfo: this.recvInfo,
    });
    this.dialogs.set(dialog.remoteTag, session);
    this.core.addSession(session);
    return session;
  }

  // ---- sending --------------------------------------------------------------------

  private retryWithCredentials(challenge: SipResponse, transaction: ClientTransaction): boolean {
    const digest = this.core.digest;
    if (!digest || !digest.authorize(this.template, challenge)) return false;
    // §22.2: same Call-ID and From tag, next CSeq.
    this.template.setHeader('CSeq', this.template.cseq.seq + 1 + ' INVITE');
    this.sendVia(transaction.flow.isOpen ? transaction.flow : undefined);
    return true;
  }

  private sendVia(preferred: Flow | undefined): void {
    let resolved: Flow | Promise<Flow>;
    try {
      resolved = this.core.resolveFlow(this.template, preferred);
    } catch (e) {
      this.fail(toUserAgentError(e, 'INVITE'));
      return;
    }
    if (resolved instanceof Promise) resolved.then((flow) => this.send(flow), (e: unknown) => this.fail(toUserAgentError(e, 'INVITE')));
    else this.send(resolved);
  }

  private send(flow: Flow): void {
    if (this._state !== 'calling' && this._state !== 'proceeding') return;
    if (this._cancelRequested && !this.transaction) {
      // Cancelled before anything went out: end as a 487 would, without sending.
      const response = createResponse(this.template, 487);
      this.finish('rejected', response);
      this.emit('rejected', response);
      this.complete();
      return;
    }
    try {
      const wire = cloneRequest(this.template);
      if (this.flow !== flow || this.contact === undefined) this.contact = this.core.contactFor(flow);
      this.flow = flow;
      wire.setHeader('Contact', this.contact);
      this.request = wire;
      this.transaction = this.core.transactions.sendInvite(wire, flow, this);
      if (this._cancelRequested) this.sendCancel(this.transaction);
    } catch (e) {
      this.fail(toUserAgentError(e, 'INVITE'));
    }
  }

  private sendCancel(transaction: ClientInviteTransaction): void {
    const headers: Array<readonly [string, string]> = [...(this.cancelOptions?.headers ?? [])];
    if (this.cancelOptions?.reason) headers.push(['Reason', this.cancelOptions.reason]);
    transaction.cancel({ headers });
    // §9.1: without a final response 64*T1 after the CANCEL, the INVITE is given up.
    this.cancelGuard ??= this.core.clock.setTimeout(() => {
      this.cancelGuard = undefined;
      if (this._state !== 'calling' && this._state !== 'proceeding') return;
      this.fail(new UserAgentError('SIP_ERR_REQUEST_TIMEOUT', 'no final response to the cancelled INVITE within 64*T1'));
      this.transaction?.terminate();
    }, 64 * this.core.transactions.timers.t1);
  }

  // ---- endings ----------------------------------------------------------------------

  private finish(state: 'accepted' | 'rejected' | 'failed', response: SipResponse | undefined): void {
    this._state = state;
    if (this.cancelGuard) {
      this.core.clock.clearTimeout(this.cancelGuard);
      this.cancelGuard = undefined;
    }
    if (response) this.finalOutcome.resolve(response);
    if (state === 'rejected' && response) {
      this.sessionOutcome.reject(new UserAgentError('SIP_ERR_REJECTED', `INVITE rejected with ${response.status} ${response.reason}`, response));
    }
  }

  private fail(error: unknown): void {
    if (this._state !== 'calling' && this._state !== 'proceeding') return;
    const e = error instanceof UserAgentError ? error : new UserAgentError('SIP_ERR_TRANSPORT', String(error));
    this.finish('failed', undefined);
    this.finalOutcome.reject(e);
    this.sessionOutcome.reject(e);
    this.endEarlyDialogs('transport-error', 'local', undefined);
    this.emit('failed', e);
    if (!this.transaction) this.complete();
  }

  /** §12.3 / §13.2.2.4: early dialogs without a 2xx end with the INVITE. */
  private endEarlyDialogs(reason: 'rejected' | 'transport-error' | 'invite-ended', by: 'local' | 'remote', response: SipResponse | undefined): void {
    for (const session of this.dialogs.values()) {
      if (session.state === 'early') session.terminate({ by, reason, message: response });
    }
  }

  private complete(): void {
    if (this._completed) return;
    this._completed = true;
    this.endEarlyDialogs('invite-ended', 'remote', undefined);
    this.core.untrackInvite(this);
    this.emit('completed', undefined);
  }
}
