import { type Dialog, type DialogRole, type DialogState } from '../dialog/dialog.js';
import { escapeReplacesForUri, replacesFromUriHeaders, type ReplacesValue } from '../dialog/replaces.js';
import { NameAddress, parseNameAddress } from '../grammar/name-address.js';
import { parseUri, type Uri } from '../grammar/uri.js';
import type { HeaderInit } from '../message/sip-message.js';
import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { serializeMessage } from '../message/serializer.js';
import type { ServerInviteTransaction } from '../transaction/server-invite-transaction.js';
import type { ServerTransaction } from '../transaction/transaction-user.js';
import type { Flow } from '../transport/transport.js';
import type { TimerHandle } from '../util/clock.js';
import { TypedEmitter } from '../util/typed-emitter.js';
import { IncomingInfo } from './incoming-info.js';
import type { IncomingInvite } from './incoming-invite.js';
import { IncomingRefer } from './incoming-refer.js';
import { IncomingRequest, type IncomingRequestOwner } from './incoming-request.js';
import { LazyOutcome } from './lazy-outcome.js';
import { applyBody, applyHeaders, type BodyOptions, type RequestOptions } from './message-options.js';
import { OutgoingRefer } from './outgoing-refer.js';
import { OutgoingRequest, toUserAgentError } from './outgoing-request.js';
import type { UserAgentCore } from './user-agent-core.js';
import { UserAgentError } from './user-agent-error.js';

/** Why a session ended. */
export type SessionEndReason =
  /** A BYE ended it; `by` says who sent it. */
  | 'bye'
  /** An early dialog ended by a non-2xx final response to its INVITE (§12.3). */
  | 'rejected'
  /** The INVITE was cancelled (UAS early dialog), or we cancelled and hung up a 2xx that crossed the CANCEL (UAC). */
  | 'cancelled'
  /** UAS: no ACK for our 2xx within 64*T1; a BYE was sent (§13.3.1.4). */
  | 'ack-timeout'
  /** A request in the dialog got 408 or no response (§12.2.1.2); a BYE was sent. */
  | 'request-timeout'
  /** A request in the dialog got 481: the peer no longer knows the dialog (§12.2.1.2). */
  | 'dialog-gone'
  /** A request in the dialog could not be sent at all. */
  | 'transport-error'
  /** UAC early dialog: the INVITE ended without a 2xx from this peer (another fork answered, §13.2.2.4). */
  | 'invite-ended'
  /** The user-agent core was closed. */
  | 'closed';

/** Who ended a session and why; the payload of `terminated`. */
export interface SessionTermination {
  by: 'local' | 'remote';
  reason: SessionEndReason;
  /** The BYE, CANCEL or response that ended it, when there is one. */
  message?: SipRequest | SipResponse;
}

/**
 * Events of a {@link Session}. The `IncomingRequest` ones must be answered
 * by a listener (now or later); with no listener the core answers as noted.
 */
export interface SessionEvents {
  /** UAS: the ACK for our 2xx to the INVITE or a re-INVITE (it may carry a body). */
  ack: SipRequest;
  /** A re-INVITE (§14.2). Default: 200 with no body. Glare is answered 491 before this event. */
  reinvite: IncomingRequest;
  /** An UPDATE (RFC 3311). Default: 200 with no body. */
  update: IncomingRequest;
  /** An INFO whose Info-Package we announced, or legacy INFO (RFC 6086). Default: 200. */
  info: IncomingInfo;
  /** A REFER (RFC 3515). Default: 603 Declined. */
  refer: IncomingRefer;
  /** A NOTIFY that is not for one of our REFERs. Default: 200. */
  notify: IncomingRequest;
  /** A BYE (§15.1.2). Answer it (a 2xx may carry a body, e.g. the final charges); default 200. `terminated` follows. */
  bye: IncomingRequest;
  /** Any other request in the dialog (MESSAGE, OPTIONS...). Default: 200 for OPTIONS, 405 or 501 otherwise. */
  request: IncomingRequest;
  /** The session ended. Emitted once. */
  terminated: SessionTermination;
}

/** Options of {@link Session.info}. */
export interface InfoOptions extends RequestOptions {
  /** The Info Package (RFC 6086); omit for legacy INFO. */
  package?: string;
  /**
   * Send even when the peer did not announce the package in Recv-Info
   * (RFC 6086 §4.2.1 forbids it; for peers that omit Recv-Info). Default false.
   */
  ignoreRecvInfo?: boolean;
}

/** Options of {@link Session.refer}. */
export interface ReferOptions extends BodyOptions {
  /** Ask the target to replace this dialog (attended transfer, RFC 3891 §7 via Refer-To `?Replaces=`). */
  replaces?: Session | ReplacesValue;
  /** False sends `Refer-Sub: false` (RFC 4488): no NOTIFY expected. Default true. */
  subscribe?: boolean;
  /** Add `Referred-By` with our identity (RFC 3892). Default true. */
  referredBy?: boolean;
  headers?: HeaderInit;
}

/** Options of {@link Session.notify}. */
export interface NotifyOptions extends RequestOptions {
  /** The Event value (`refer;id=7`). */
  event: string;
  /** The Subscription-State value (`active;expires=60`, `terminated;reason=noresource`). */
  subscriptionState: string;
}

/** Options of a re-INVITE or UPDATE we send. */
export interface ModifyOptions extends RequestOptions {
  /**
   * Retry after a 491 with the RFC 3261 §14.1 timer, at most this many
   * times; then the 491 is the result. Default: the core's `maxGlareRetries`.
   */
  glareRetries?: number;
}

/** @internal What a session is made of; built by `IncomingInvite` and `OutgoingInvite`. */
export interface SessionInit {
  dialog: Dialog;
  inviteRequest: SipRequest;
  inviteResponse?: SipResponse;
  flow: Flow;
  localContact: string;
  recvInfo: readonly string[];
  incomingInvite?: IncomingInvite;
}

/** UAS: a 2xx retransmitted until its ACK comes (§13.3.1.4). */
interface AckWait {
  cseq: number;
  response: SipResponse;
  transaction: ServerInviteTransaction;
  interval: number;
  retransmit: TimerHandle;
  deadline: TimerHandle;
}

/** Methods that refresh the remote target (RFC 3261 §12.2, RFC 3311, RFC 6665 §4.1.1 for SUBSCRIBE/NOTIFY). */
const TARGET_REFRESH: ReadonlySet<string> = new Set(['INVITE', 'UPDATE', 'SUBSCRIBE', 'NOTIFY', 'REFER']);

/**
 * One dialog of an INVITE, on either side: the UAC gets one per 2xx To tag
 * (forked answers each make their own, all kept — design brief, flow 3),
 * the UAS one per INVITE it answers with a tag. It carries the requests of
 * the dialog both ways and ends with a BYE from either side.
 *
 * ```ts
 * session.on('info', (info) => { record(info.request.bodyText); info.accept(); });
 * session.on('terminated', ({ by, reason }) => log(by, reason));
 * await session.update({ body: JSON.stringify({ service: 'beer' }), contentType: REQUEST_JSON });
 * await session.bye();
 * ```
 */
export class Session extends TypedEmitter<SessionEvents> implements IncomingRequestOwner {
  readonly dialog: Dialog;
  /** The INVITE that created the dialog (as sent, for the UAC; as received, for the UAS). */
  readonly inviteRequest: SipRequest;
  /** The Contact we put in this dialog's target refresh requests and responses. */
  readonly localContact: string;
  private readonly core: UserAgentCore;
  private readonly incomingInvite: IncomingInvite | undefined;
  private _inviteResponse: SipResponse | undefined;
  private _flow: Flow;
  private _recvInfo: readonly string[];
  private _remoteRecvInfo: readonly string[] | undefined;
  private _termination: SessionTermination | undefined;

  private ackWait: AckWait | undefined;
  private lastAck: { cseq: number; bytes: Uint8Array; flow: Flow } | undefined;
  private unsentAck: { cseq: number; request: SipRequest } | undefined;
  private queuedBye: { options: RequestOptions | undefined; outcome: LazyOutcome<SipResponse> } | undefined;
  private outgoingInvite: OutgoingRequest | undefined;
  private outgoingUpdate: OutgoingRequest | undefined;
  private incomingReinvite: IncomingRequest | undefined;
  private incomingUpdate: IncomingRequest | undefined;
  private readonly pending = new Set<IncomingRequest>();
  private readonly refers: OutgoingRefer[] = [];
  private listenerThrew = false;
  private readonly retransmitFn = (): void => this.retransmit2xx();
  private readonly ackTimeoutFn = (): void => this.ackTimedOut();

  /** @internal Sessions are made by `IncomingInvite` and `OutgoingInvite`. */
  constructor(core: UserAgentCore, init: SessionInit) {
    super();
    this.core = core;
    this.dialog = init.dialog;
    this.inviteRequest = init.inviteRequest;
    this._inviteResponse = init.inviteResponse;
    this._flow = init.flow;
    this.localContact = init.localContact;
    this._recvInfo = init.recvInfo;
    this.incomingInvite = init.incomingInvite;
    this.updateRemoteRecvInfo(init.dialog.role === 'uas' ? init.inviteRequest : init.inviteResponse);
  }

  // ---- state -----------------------------------------------------------------

  /** `dialog.id`: Call-ID, local tag and remote tag. */
  get id(): string {
    return this.dialog.id;
  }

  get role(): DialogRole {
    return this.dialog.role;
  }

  get state(): DialogState {
    return this.dialog.state;
  }

  /** UAC: the 1xx/2xx that created or confirmed the dialog (its body is the answer). UAS: the last 1xx/2xx we sent to the INVITE. */
  get inviteResponse(): SipResponse | undefined {
    return this._inviteResponse;
  }

  /** The peer's identity (From for the UAS, To for the UAC), with its tag. */
  get remoteIdentity(): NameAddress {
    return this.dialog.remoteIdentity;
  }

  get localIdentity(): NameAddress {
    return this.dialog.localIdentity;
  }

  /** The flow the dialog last used; reused while it is an open connection. */
  get flow(): Flow {
    return this._flow;
  }

  /** Info Packages we accept INFO for (Recv-Info we sent), lower case. */
  get recvInfo(): readonly string[] {
    return this._recvInfo;
  }

  /** Info Packages the peer accepts (its last Recv-Info), lower case; undefined when it never sent one. */
  get remoteRecvInfo(): readonly string[] | undefined {
    return this._remoteRecvInfo;
  }

  /** Why the session ended, once it has. */
  get termination(): SessionTermination | undefined {
    return this._termination;
  }

  /** UAS: true while our 2xx to an INVITE waits for its ACK. */
  get awaitingAck(): boolean {
    return this.ackWait !== undefined;
  }

  // ---- requests we send ----------------------------------------------------

  /**
   * Ends the session with a BYE (§15.1.1). The session is `terminated` as
   * soon as the BYE goes out; the Promise gives the BYE's final response
   * (whose body may carry the peer's final charges). A UAS that has not yet
   * received the ACK for its 2xx sends the BYE after the ACK comes or the
   * ACK wait times out (§15: "MUST NOT send a BYE on a confirmed dialog
   * until it has received an ACK"). Rejects with `SIP_ERR_SESSION_TERMINATED`
   * when already ended, `SIP_ERR_INVALID_STATE` on a UAS early dialog
   * (reject the `IncomingInvite` instead).
   */
  bye(options?: RequestOptions): Promise<SipResponse> {
    if (this.dialog.state === 'terminated') return Promise.reject(this.terminatedError('BYE'));
    if (this.dialog.role === 'uas' && this.dialog.state === 'early') {
      return Promise.reject(new UserAgentError('SIP_ERR_INVALID_STATE', 'a UAS ends an early dialog by rejecting the INVITE, not with BYE'));
    }
    if (this.queuedBye) return this.queuedBye.outcome.get();
    if (this.ackWait) {
      this.queuedBye = { options, outcome: new LazyOutcome<SipResponse>() };
      return this.queuedBye.outcome.get();
    }
    return this.sendBye(options, { by: 'local', reason: 'bye' });
  }

  /**
   * Sends a re-INVITE (§14.1) and, for its 2xx, the ACK. Resolves with the
   * final response: 2xx means the peer accepted the change (the remote
   * target is refreshed from its Contact), anything else leaves the session
   * as it was — except 481 and 408, which end it (§12.2.1.2). A 491 (glare)
   * is retried after the §14.1 timer. Rejects with `SIP_ERR_REQUEST_PENDING`
   * while another INVITE transaction is in progress in either direction,
   * `SIP_ERR_INVALID_STATE` on an early dialog.
   */
  async reinvite(options: ModifyOptions = {}): Promise<SipResponse> {
    return this.withGlareRetries('INVITE', options);
  }

  /**
   * Sends an UPDATE (RFC 3311), allowed in early and confirmed dialogs.
   * Same results as {@link reinvite}; no ACK.
   */
  async update(options: ModifyOptions = {}): Promise<SipResponse> {
    return this.withGlareRetries('UPDATE', options);
  }

  /**
   * Sends an INFO (RFC 6086) carrying `package` in Info-Package. Rejects
   * with `SIP_ERR_INFO_PACKAGE` when the peer did not announce the package
   * in Recv-Info (§4.2.1), unless `ignoreRecvInfo`.
   */
  async info(options: InfoOptions = {}): Promise<SipResponse> {
    const pkg = options.package?.trim().toLowerCase();
    const headers: Array<readonly [string, string]> = [];
    if (pkg !== undefined) {
      if (!options.ignoreRecvInfo && !(this._remoteRecvInfo ?? []).includes(pkg)) {
        throw new UserAgentError('SIP_ERR_INFO_PACKAGE', `the peer did not announce Info Package ${pkg} in Recv-Info`);
      }
      headers.push(['Info-Package', options.package as string]);
    }
    if (options.headers) headers.push(...options.headers);
    return this.sendRequest('INFO', { body: options.body, contentType: options.contentType, multipart: options.multipart, headers });
  }

  /**
   * Sends a NOTIFY in the dialog (RFC 6665 §4.2.2 shape: Event and
   * Subscription-State). Used by `ReferNotifier`; available for other
   * event packages the application implements.
   */
  notify(options: NotifyOptions): Promise<SipResponse> {
    const headers: Array<readonly [string, string]> = [
      ['Event', options.event],
      ['Subscription-State', options.subscriptionState],
      ...(options.headers ?? []),
    ];
    return this.sendRequest('NOTIFY', { body: options.body, contentType: options.contentType, multipart: options.multipart, headers });
  }

  /**
   * Sends a REFER (RFC 3515) asking the peer to contact `target` (a URI, or
   * a name-addr string). Returns the {@link OutgoingRefer} that reports the
   * response and the NOTIFYs of the implicit subscription. Throws
   * `SIP_ERR_SESSION_TERMINATED` on an ended session, TypeError for a bad target.
   */
  refer(target: string | Uri | NameAddress, options: ReferOptions = {}): OutgoingRefer {
    if (this.dialog.state === 'terminated') throw this.terminatedError('REFER');
    const referTo = toNameAddress(target);
    if (options.replaces !== undefined) {
      if (referTo.uri.kind !== 'sip') throw new TypeError('Replaces needs a SIP or SIPS Refer-To URI');
      const r: ReplacesValue =
        options.replaces instanceof Session
          ? { callId: options.replaces.dialog.callId, toTag: options.replaces.dialog.remoteTag, fromTag: options.replaces.dialog.localTag, earlyOnly: false }
          : options.replaces;
      referTo.uri.headers = referTo.uri.headers.filter(([n]) => n.toLowerCase() !== 'replaces');
      referTo.uri.headers.push(['Replaces', escapeReplacesForUri(r)]);
    }
    const headers: Array<readonly [string, string]> = [['Refer-To', referTo.toString()]];
    if (options.referredBy !== false) headers.push(['Referred-By', this.core.identity.toString()]);
    if (options.subscribe === false) headers.push(['Refer-Sub', 'false']);
    if (options.headers) headers.push(...options.headers);
    const template = this.dialog.createRequest('REFER', { contact: this.localContact, headers });
    // A body tells the transferee more about what to ask for (e.g. the service details, docs/wire-contracts.md).
    applyBody(template, options);
    this.core.decorateRequest(template);
    const refer = new OutgoingRefer((error, type) => this.core.logger.error({ err: error, event: type }, 'REFER listener threw'), template.cseq.seq);
    this.refers.push(refer);
    const out = new OutgoingRequest(this.core, template, this._flow, {
      nextCSeq: () => {
        const n = this.dialog.nextLocalSeq();
        refer.setId(n);
        return n;
      },
    });
    this.runInDialog(out).then(
      (response) => {
        refer.receiveResponse(response);
        if (refer.state !== 'accepted') this.forgetRefer(refer);
      },
      (error: unknown) => {
        refer.fail(error instanceof UserAgentError ? error : new UserAgentError('SIP_ERR_TRANSPORT', String(error)));
        this.forgetRefer(refer);
      },
    );
    return refer;
  }

  /**
   * Sends any other request in the dialog and resolves with its final
   * response (481 and 408 end the session, §12.2.1.2). INVITE, ACK, CANCEL
   * and BYE have their own methods (TypeError).
   */
  async sendRequest(method: string, options: RequestOptions = {}): Promise<SipResponse> {
    if (method === 'INVITE' || method === 'ACK' || method === 'CANCEL' || method === 'BYE') {
      throw new TypeError(`use the session's own method for ${method}`);
    }
    if (!/^[A-Za-z0-9.!%*_+`'~-]+$/.test(method)) throw new TypeError(`${JSON.stringify(method)} is not a method name`);
    if (this.dialog.state === 'terminated') throw this.terminatedError(method);
    const template = this.dialog.createRequest(method, { contact: TARGET_REFRESH.has(method) ? this.localContact : undefined });
    applyHeaders(template, options.headers);
    applyBody(template, options);
    this.core.decorateRequest(template);
    const out = new OutgoingRequest(this.core, template, this._flow, { nextCSeq: () => this.dialog.nextLocalSeq() });
    return this.runInDialog(out);
  }

  /**
   * UAC with `manualAck`: sends the ACK for the 2xx received (§13.2.2.4),
   * with a body when the answer goes there. `SIP_ERR_INVALID_STATE` when
   * there is no 2xx waiting for an ACK.
   */
  ack(options?: RequestOptions): void {
    const pending = this.unsentAck;
    if (!pending) throw new UserAgentError('SIP_ERR_INVALID_STATE', 'no 2xx is waiting for an ACK');
    this.unsentAck = undefined;
    this.sendAck(pending.request, pending.cseq, options);
  }

  // ---- inbound (called by the core) ------------------------------------------------

  /** @internal A request whose To tag, From tag and Call-ID name this dialog (§12.2.2). */
  receiveRequest(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    if (flow.reliable && flow.isOpen) this._flow = flow;
    const method = request.method;
    if (this.dialog.state === 'terminated') {
      new IncomingRequest(this, request, transaction, flow).respondByCore(481);
      return;
    }
    if (!this.dialog.receiveRequestSeq(request)) {
      // §12.2.2: a lower CSeq is out of order.
      new IncomingRequest(this, request, transaction, flow).respondByCore(500, { reason: 'CSeq Out of Order' });
      return;
    }
    switch (method) {
      case 'BYE':
        return this.receiveBye(request, transaction, flow);
      case 'INVITE':
        return this.receiveReinvite(request, transaction, flow);
      case 'UPDATE':
        return this.receiveUpdate(request, transaction, flow);
      case 'INFO':
        return this.receiveInfo(request, transaction, flow);
      case 'REFER':
        return this.receiveRefer(request, transaction, flow);
      case 'NOTIFY':
        return this.receiveNotify(request, transaction, flow);
      default: {
        const incoming = this.track(new IncomingRequest(this, request, transaction, flow));
        this.offer('request', incoming, () => this.core.answerUnhandled(incoming));
      }
    }
  }

  /** @internal An ACK in this dialog (a 2xx ACK: the transaction layer absorbed non-2xx ones). */
  receiveAck(ack: SipRequest): void {
    const wait = this.ackWait;
    if (!wait || ack.cseq.seq !== wait.cseq) return;
    this.stopAckWait();
    this.emit('ack', ack);
    this.sendQueuedBye();
  }

  /**
   * @internal A 2xx to an INVITE of this dialog (§13.2.2.4): ACK it, or
   * resend the ACK when it is a retransmission. `manual` leaves the first
   * ACK to {@link ack}.
   */
  receiveInvite2xx(response: SipResponse, request: SipRequest, manual: boolean): void {
    const cseq = response.cseq.seq;
    if (this.lastAck && this.lastAck.cseq === cseq) {
      this.lastAck.flow.send(this.lastAck.bytes);
      return;
    }
    if ((this.lastAck && this.lastAck.cseq > cseq) || this.unsentAck?.cseq === cseq) return;
    if (this.dialog.state === 'terminated') return;
    // §12.2.1.2: a 2xx to a target refresh request refreshes the remote target; the ACK goes there.
    this.dialog.refreshRemoteTarget(response);
    if (request !== this.inviteRequest) this.updateRemoteRecvInfo(response);
    if (manual) this.unsentAck = { cseq, request };
    else this.sendAck(request, cseq, undefined);
  }

  /** @internal UAS: starts retransmitting `response` until its ACK (§13.3.1.4). */
  awaitAck(response: SipResponse, transaction: ServerInviteTransaction): void {
    this.stopAckWait();
    const clock = this.core.clock;
    const t1 = this.core.transactions.timers.t1;
    this.ackWait = {
      cseq: response.cseq.seq,
      response,
      transaction,
      interval: t1,
      retransmit: clock.setTimeout(this.retransmitFn, t1),
      deadline: clock.setTimeout(this.ackTimeoutFn, 64 * t1),
    };
  }

  /** @internal The response that created or confirmed the dialog changed. */
  setInviteResponse(response: SipResponse): void {
    this._inviteResponse = response;
    if (this.dialog.role === 'uac') this.updateRemoteRecvInfo(response);
  }

  /** @internal Info Packages we accept, as announced in the 2xx. */
  setRecvInfo(packages: readonly string[]): void {
    this._recvInfo = packages.map((p) => p.trim().toLowerCase());
  }

  /**
   * @internal Ends the session without signalling (the signalling, if any,
   * was done by the caller). Emits `terminated` once.
   */
  terminate(termination: SessionTermination): void {
    if (this._termination) return;
    this._termination = termination;
    this.dialog.stateTransition('terminated');
    this.stopAckWait();
    this.unsentAck = undefined;
    this.core.removeSession(this);
    const error = this.terminatedError('request');
    for (const refer of this.refers.splice(0)) refer.fail(error);
    const queued = this.queuedBye;
    this.queuedBye = undefined;
    queued?.outcome.reject(error);
    this.emit('terminated', termination);
  }

  /** @internal A CANCEL for a re-INVITE of the peer (§9.2): 487 unless already answered. */
  cancelReinvite(transaction: ServerTransaction): void {
    const pending = this.incomingReinvite;
    if (pending && pending.transaction === transaction) pending.respondByCore(487);
  }

  /** @internal Reports an error nobody awaits. */
  reportError(error: unknown, message: string): void {
    this.core.logger.warn({ err: error, dialog: this.dialog.id }, message);
  }

  protected override listenerError(error: unknown, type: string): void {
    this.listenerThrew = true;
    this.core.logger.error({ err: error, event: type, dialog: this.dialog.id }, 'session listener threw');
  }

  // ---- IncomingRequestOwner ----------------------------------------------------

  /** @internal */
  completeResponse(incoming: IncomingRequest, response: SipResponse): void {
    this.core.decorateResponse(incoming.request, response);
    const method = incoming.method;
    const status = response.status;
    if (status >= 200 && status < 300 && TARGET_REFRESH.has(method)) response.setHeader('Contact', this.localContact);
    if ((status >= 200 && status < 300 && (method === 'INVITE' || method === 'UPDATE')) || status === 469) {
      // RFC 6086 §5.2.3: Recv-Info in the 2xx to re-INVITE/UPDATE, and in 469 (§4.2.2).
      if (this._recvInfo.length && !response.hasHeader('recv-info')) response.setHeader('Recv-Info', this._recvInfo.join(', '));
    }
  }

  /** @internal */
  responseSent(incoming: IncomingRequest, response: SipResponse): void {
    const status = response.status;
    if (status < 200) return;
    this.pending.delete(incoming);
    const method = incoming.method;
    if (method === 'INVITE') {
      if (this.incomingReinvite === incoming) this.incomingReinvite = undefined;
      if (status < 300) {
        // A target refresh takes effect when it is accepted (RFC 6141 §3.3 / RFC 3261 §12.2.2).
        this.dialog.refreshRemoteTarget(incoming.request);
        this.updateRemoteRecvInfo(incoming.request);
        this.awaitAck(response, incoming.transaction as ServerInviteTransaction);
      }
    } else if (method === 'UPDATE') {
      if (this.incomingUpdate === incoming) this.incomingUpdate = undefined;
      if (status < 300) {
        this.dialog.refreshRemoteTarget(incoming.request);
        this.updateRemoteRecvInfo(incoming.request);
      }
    }
  }

  // ---- inbound handlers --------------------------------------------------------

  private receiveBye(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    // §15.1.2: pending requests get 487; a BYE on a UAS early dialog ends the INVITE with 487.
    for (const p of [...this.pending]) p.respondByCore(487);
    this.pending.clear();
    if (this.dialog.role === 'uas' && this.dialog.state === 'early') this.incomingInvite?.cancelBy(request);
    const incoming = new IncomingRequest(this, request, transaction, flow);
    this.stopAckWait();
    if (this.dialog.state !== 'terminated') this.dialog.stateTransition('terminated');
    this.offer('bye', incoming, () => incoming.accept());
    this.terminate({ by: 'remote', reason: 'bye', message: request });
  }

  private receiveReinvite(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    const incoming = new IncomingRequest(this, request, transaction, flow);
    // §14.2: an INVITE transaction of ours in progress (or the initial one, in an early dialog) is glare: 491.
    if (this.dialog.state !== 'confirmed' || this.outgoingInvite) {
      incoming.respondByCore(491);
      return;
    }
    // §14.2: a second INVITE before we answered the first gets 500 with a Retry-After of 0–10 s.
    if (this.incomingReinvite && !this.incomingReinvite.answered) {
      incoming.respondByCore(500, { headers: [['Retry-After', String(randomInt(11))]] });
      return;
    }
    if (this.ackWait && this.ackWait.cseq < request.cseq.seq) {
      // A newer INVITE shows the peer got our 2xx; its ACK was lost or is late.
      this.stopAckWait();
      if (this.queuedBye) {
        // The application asked to end the session; do that rather than renegotiate.
        this.sendQueuedBye();
        incoming.respondByCore(481);
        return;
      }
    }
    this.incomingReinvite = this.track(incoming);
    this.offer('reinvite', incoming, () => incoming.accept());
  }

  private receiveUpdate(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    const incoming = new IncomingRequest(this, request, transaction, flow);
    // RFC 3311 §5.2: glare with our own UPDATE is 491; a second UPDATE before we answered the first is 500.
    if (this.outgoingUpdate) {
      incoming.respondByCore(491);
      return;
    }
    if (this.incomingUpdate && !this.incomingUpdate.answered) {
      incoming.respondByCore(500, { headers: [['Retry-After', String(randomInt(11))]] });
      return;
    }
    this.incomingUpdate = this.track(incoming);
    this.offer('update', incoming, () => incoming.accept());
  }

  private receiveInfo(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    const header = request.header('info-package');
    let pkg: string | undefined;
    if (header !== undefined) {
      const semi = header.indexOf(';');
      pkg = (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
      if (!this._recvInfo.includes(pkg)) {
        // RFC 6086 §4.2.2: a package we did not announce gets 469, with our Recv-Info.
        new IncomingRequest(this, request, transaction, flow).respondByCore(469, { headers: [['Recv-Info', this._recvInfo.join(', ')]] });
        return;
      }
    }
    const incoming = this.track(new IncomingInfo(this, request, transaction, flow, pkg));
    this.offer('info', incoming, () => incoming.accept());
  }

  private receiveRefer(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    const values = request.headerList('refer-to');
    let referTo: NameAddress | undefined;
    if (values.length === 1) {
      try {
        referTo = parseNameAddress(values[0], 'refer-to');
      } catch {
        referTo = undefined;
      }
    }
    if (!referTo) {
      // RFC 3515 §2.4.1: exactly one Refer-To, else 400.
      new IncomingRequest(this, request, transaction, flow).respondByCore(400, { reason: 'Bad Refer-To' });
      return;
    }
    let referredBy: NameAddress | undefined;
    const rb = request.header('referred-by');
    if (rb !== undefined) {
      try {
        referredBy = parseNameAddress(rb, 'referred-by');
      } catch {
        referredBy = undefined;
      }
    }
    const replaces = referTo.uri.kind === 'sip' ? replacesFromUriHeaders(referTo.uri.headers) : undefined;
    const subscribe = (request.header('refer-sub') ?? '').trim().toLowerCase() !== 'false';
    const incoming = this.track(new IncomingRefer(this, request, transaction, flow, { referTo, referredBy, replaces, subscribe }));
    this.offer('refer', incoming, () => incoming.reject(603));
  }

  private receiveNotify(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    const incoming = this.track(new IncomingRequest(this, request, transaction, flow));
    const event = request.header('event') ?? '';
    const semi = event.indexOf(';');
    const type = (semi < 0 ? event : event.slice(0, semi)).trim().toLowerCase();
    if (type === 'refer') {
      const m = /;\s*id\s*=\s*(\d+)/i.exec(event);
      const id = m ? Number(m[1]) : undefined;
      const refer = this.refers.find((r) => (id === undefined ? r.state !== 'done' : r.id === id));
      if (refer) {
        incoming.accept();
        const notification = refer.receiveNotify(request);
        if (notification.final) this.forgetRefer(refer);
        return;
      }
    }
    // RFC 6665 §4.1.3: a NOTIFY for a subscription we do not have is 481.
    this.offer('notify', incoming, () => (type === 'refer' ? incoming.reject(481) : incoming.accept()));
  }

  // ---- sending ------------------------------------------------------------------

  private async withGlareRetries(method: 'INVITE' | 'UPDATE', options: ModifyOptions): Promise<SipResponse> {
    const retries = options.glareRetries ?? this.core.maxGlareRetries;
    for (let attempt = 0; ; attempt++) {
      const response = await this.modifyOnce(method, options);
      if (response.status !== 491 || attempt >= retries) return response;
      await this.glareDelay();
    }
  }

  private modifyOnce(method: 'INVITE' | 'UPDATE', options: ModifyOptions): Promise<SipResponse> {
    const state = this.dialog.state;
    if (state === 'terminated') return Promise.reject(this.terminatedError(method));
    if (method === 'INVITE') {
      if (state !== 'confirmed') return Promise.reject(new UserAgentError('SIP_ERR_INVALID_STATE', 're-INVITE needs a confirmed dialog; use UPDATE in an early one'));
      // §14.1: no INVITE transaction while another is in progress in either direction.
      if (this.outgoingInvite || this.ackWait || this.unsentAck || (this.incomingReinvite && !this.incomingReinvite.answered)) {
        return Promise.reject(new UserAgentError('SIP_ERR_REQUEST_PENDING', 'an INVITE transaction is in progress in this dialog'));
      }
    } else if (this.outgoingUpdate) {
      return Promise.reject(new UserAgentError('SIP_ERR_REQUEST_PENDING', 'an UPDATE is in progress in this dialog'));
    }
    const template = this.dialog.createRequest(method, { contact: this.localContact });
    applyHeaders(template, options.headers);
    applyBody(template, options);
    if (this._recvInfo.length) template.setHeader('Recv-Info', this._recvInfo.join(', '));
    this.core.decorateRequest(template);
    const out = new OutgoingRequest(this.core, template, this._flow, {
      nextCSeq: () => this.dialog.nextLocalSeq(),
      on2xx: method === 'INVITE' ? (response, request) => this.receiveInvite2xx(response, request, false) : undefined,
    });
    if (method === 'INVITE') this.outgoingInvite = out;
    else this.outgoingUpdate = out;
    const done = (): void => {
      if (this.outgoingInvite === out) this.outgoingInvite = undefined;
      if (this.outgoingUpdate === out) this.outgoingUpdate = undefined;
    };
    return this.runInDialog(out).then(
      (response) => {
        done();
        if (response.status < 300 && method === 'UPDATE') {
          this.dialog.refreshRemoteTarget(response);
          this.updateRemoteRecvInfo(response);
        }
        return response;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  /**
   * Starts `out` and applies §12.2.1.2 to its outcome: 481 ends the
   * session, 408 or no response at all ends it with a BYE.
   */
  private runInDialog(out: OutgoingRequest): Promise<SipResponse> {
    out.start();
    const method = out.template.method;
    return out.response.then(
      (response) => {
        if (response.status === 481) this.end({ by: 'remote', reason: 'dialog-gone', message: response }, false);
        else if (response.status === 408) this.end({ by: 'local', reason: 'request-timeout', message: response }, true);
        return response;
      },
      (error: unknown) => {
        if (error instanceof UserAgentError && error.code === 'SIP_ERR_REQUEST_TIMEOUT') this.end({ by: 'local', reason: 'request-timeout' }, true);
        throw toUserAgentError(error, method);
      },
    );
  }

  /** Ends the session after a failed request, with a BYE when asked and still possible. */
  private end(termination: SessionTermination, bye: boolean): void {
    if (this.dialog.state === 'terminated') return;
    if (bye && this.dialog.state === 'confirmed') {
      this.sendBye(undefined, termination).catch((e: unknown) => this.reportError(e, 'BYE after a failed request failed'));
    } else this.terminate(termination);
  }

  private sendBye(options: RequestOptions | undefined, termination: SessionTermination): Promise<SipResponse> {
    const template = this.dialog.createRequest('BYE');
    applyHeaders(template, options?.headers);
    applyBody(template, options);
    this.core.decorateRequest(template);
    this.terminate({ ...termination, message: termination.message ?? template });
    const out = new OutgoingRequest(this.core, template, this._flow, { nextCSeq: () => this.dialog.nextLocalSeq() });
    out.start();
    return out.response;
  }

  private sendQueuedBye(): void {
    const queued = this.queuedBye;
    if (!queued) return;
    this.queuedBye = undefined;
    if (this.dialog.state !== 'confirmed') {
      queued.outcome.reject(this.terminatedError('BYE'));
      return;
    }
    this.sendBye(queued.options, { by: 'local', reason: 'bye' }).then(
      (r) => queued.outcome.resolve(r),
      (e: unknown) => queued.outcome.reject(e),
    );
  }

  /** Builds and sends the ACK for the 2xx to the INVITE with CSeq `cseq` (§13.2.2.4). */
  private sendAck(invite: SipRequest, cseq: number, options: RequestOptions | undefined): void {
    if (this.dialog.state === 'terminated') return;
    // §13.2.2.4 / §22: the ACK carries the INVITE's credentials.
    const headers: Array<readonly [string, string]> = [];
    for (const name of ['authorization', 'proxy-authorization']) for (const v of invite.headerLines(name)) headers.push([name === 'authorization' ? 'Authorization' : 'Proxy-Authorization', v]);
    if (options?.headers) headers.push(...options.headers);
    const ack = this.dialog.createRequest('ACK', { cseq, headers });
    applyBody(ack, options);
    this.core.decorateRequest(ack);
    const send = (flow: Flow): void => {
      this.core.transactions.prependVia(ack, flow);
      const bytes = serializeMessage(ack);
      this.lastAck = { cseq, bytes, flow };
      if (!flow.send(bytes)) this.core.logger.warn({ dialog: this.dialog.id }, 'ACK could not be sent');
    };
    try {
      const flow = this.core.resolveFlow(ack, this._flow);
      if (flow instanceof Promise) flow.then(send, (e: unknown) => this.reportError(e, 'no route for the ACK'));
      else send(flow);
    } catch (e) {
      this.reportError(e, 'no route for the ACK');
    }
  }

  private retransmit2xx(): void {
    const wait = this.ackWait;
    if (!wait) return;
    // §13.3.1.4: "independent of whatever transport protocols are used", since hops further on may be UDP.
    if (wait.transaction.state === 'Accepted') wait.transaction.respond(wait.response);
    wait.interval = Math.min(wait.interval * 2, this.core.transactions.timers.t2);
    wait.retransmit = this.core.clock.setTimeout(this.retransmitFn, wait.interval);
  }

  private ackTimedOut(): void {
    if (!this.ackWait) return;
    this.stopAckWait();
    // §13.3.1.4: no ACK within 64*T1: "the dialog is confirmed, but the session SHOULD be terminated" with a BYE.
    const queued = this.queuedBye;
    this.queuedBye = undefined;
    const sent = this.sendBye(queued?.options, { by: 'local', reason: 'ack-timeout' });
    if (queued) sent.then((r) => queued.outcome.resolve(r), (e: unknown) => queued.outcome.reject(e));
    else sent.catch((e: unknown) => this.reportError(e, 'BYE after ACK timeout failed'));
  }

  private stopAckWait(): void {
    const wait = this.ackWait;
    if (!wait) return;
    this.core.clock.clearTimeout(wait.retransmit);
    this.core.clock.clearTimeout(wait.deadline);
    this.ackWait = undefined;
  }

  /** RFC 3261 §14.1: the owner of the Call-ID (the dialog's UAC) waits 2.1–4 s, the other 0–2 s, in 10 ms steps. */
  private glareDelay(): Promise<void> {
    const ms = this.dialog.role === 'uac' ? 2100 + 10 * randomInt(191) : 10 * randomInt(201);
    return new Promise((resolve) => this.core.clock.setTimeout(resolve, ms));
  }

  // ---- helpers --------------------------------------------------------------------

  /** Emits an answerable request; the default runs when nobody listens, a 500 when a listener threw without answering. */
  private offer<K extends 'reinvite' | 'update' | 'info' | 'refer' | 'notify' | 'bye' | 'request'>(
    type: K,
    incoming: SessionEvents[K],
    fallback: () => void,
  ): void {
    if (this.listenerCount(type) === 0) {
      fallback();
      return;
    }
    this.listenerThrew = false;
    this.emit(type, incoming);
    if (this.listenerThrew) incoming.respondByCore(500);
  }

  private track<T extends IncomingRequest>(incoming: T): T {
    this.pending.add(incoming);
    return incoming;
  }

  private forgetRefer(refer: OutgoingRefer): void {
    const i = this.refers.indexOf(refer);
    if (i >= 0) this.refers.splice(i, 1);
  }

  private updateRemoteRecvInfo(message: SipRequest | SipResponse | undefined): void {
    if (!message || !message.hasHeader('recv-info')) return;
    this._remoteRecvInfo = message.headerList('recv-info').map((p) => {
      const semi = p.indexOf(';');
      return (semi < 0 ? p : p.slice(0, semi)).trim().toLowerCase();
    });
  }

  private terminatedError(what: string): UserAgentError {
    return new UserAgentError('SIP_ERR_SESSION_TERMINATED', `session ${this.dialog.id} has ended; cannot send ${what}`);
  }
}

/** A uniformly random integer in [0, n). */
function randomInt(n: number): number {
  const r = new Uint32Array(1);
  globalThis.crypto.getRandomValues(r);
  return r[0] % n;
}

/** A target given as URI text, name-addr text, Uri or NameAddress, as a NameAddress of its own. */
export function toNameAddress(target: string | Uri | NameAddress): NameAddress {
  if (target instanceof NameAddress) return target.clone();
  if (typeof target !== 'string') return new NameAddress(target.clone());
  try {
    return target.indexOf('<') >= 0 ? parseNameAddress(target) : new NameAddress(parseUri(target.trim()));
  } catch (e) {
    throw new TypeError(`${JSON.stringify(target)} is not a URI or name-addr: ${e instanceof Error ? e.message : String(e)}`);
  }
}
