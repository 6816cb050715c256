import type { NameAddress } from '../grammar/name-address.js';
import type { Uri } from '../grammar/uri.js';
import type { BodyInit, HeaderInit, SipMessage } from '../message/sip-message.js';
import { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';

/** States of a dialog (RFC 3261 §12): created early by a 1xx with a To tag, confirmed by a 2xx. */
export type DialogState = 'early' | 'confirmed' | 'terminated';

/** Which side of the dialog-creating request this UA was. */
export type DialogRole = 'uac' | 'uas';

const NEXT: Record<DialogState, readonly DialogState[]> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

/** The key of a dialog in maps: Call-ID, local tag and remote tag (§12, "dialog ID"). */
export function dialogKey(callId: string, localTag: string, remoteTag: string): string {
  return callId + '\n' + localTag + '\n' + remoteTag;
}

/** What a dialog is made from; see {@link Dialog.createUac} and {@link Dialog.createUas} for the RFC rules. */
export interface DialogInit {
  role: DialogRole;
  state: 'early' | 'confirmed';
  callId: string;
  localTag: string;
  remoteTag: string;
  /** Our From (UAC) or To (UAS) value; its tag is replaced by `localTag`. */
  localIdentity: NameAddress;
  /** The peer's To (UAC) or From (UAS) value; its tag is replaced by `remoteTag`. */
  remoteIdentity: NameAddress;
  remoteTarget: Uri;
  /** Route set in the order requests carry it (§12.1.1, §12.1.2). */
  routeSet: readonly NameAddress[];
  localSeq?: number;
  remoteSeq?: number;
  secure: boolean;
}

/** Options of {@link Dialog.createRequest}. */
export interface InDialogRequestOptions {
  /**
   * CSeq number. Required for ACK and CANCEL (they take the INVITE's);
   * for anything else the dialog's local sequence number is incremented
   * when absent (§12.2.1.1).
   */
  cseq?: number;
  /** Contact value (without `Contact:`); target refresh requests should carry one (§12.2.1.1). */
  contact?: string;
  headers?: HeaderInit;
  body?: BodyInit;
  contentType?: string;
}

const MAX_CSEQ = 0xffffffff;

/**
 * A random initial CSeq (§8.1.1.5: below 2**31), drawn from 1..65535 so
 * that even a long dialog never nears the 2**32 limit.
 */
export function initialCSeq(): number {
  const r = new Uint32Array(1);
  globalThis.crypto.getRandomValues(r);
  return 1 + (r[0] % 0xffff);
}

/**
 * A dialog (RFC 3261 §12): its id (Call-ID, local tag, remote tag), state,
 * local and remote identities, remote target, route set, sequence numbers
 * and `secure` flag, and the rules that use them — building requests in
 * the dialog (§12.2.1.1, strict routing included), checking the order of
 * the peer's requests (§12.2.2) and refreshing the remote target.
 *
 * A dialog knows nothing of transports or transactions; the user-agent
 * core's `Session` drives it.
 */
export class Dialog {
  readonly role: DialogRole;
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** `dialogKey(callId, localTag, remoteTag)`. */
  readonly id: string;
  /** §12.1.1/§12.1.2: request sent or received over TLS to a SIPS Request-URI. */
  readonly secure: boolean;
  /** The identity we write in From (as UAC of a request); carries `localTag`. */
  readonly localIdentity: NameAddress;
  /** The identity we write in To; carries `remoteTag`. */
  readonly remoteIdentity: NameAddress;
  /** Where requests in the dialog go when the route set is empty (§12.1). */
  remoteTarget: Uri;
  private _routeSet: readonly NameAddress[];
  private _state: DialogState;
  private _localSeq: number | undefined;
  private _remoteSeq: number | undefined;

  constructor(init: DialogInit) {
    if (!init.callId || !init.localTag || !init.remoteTag) throw new TypeError('a dialog needs a Call-ID, a local tag and a remote tag');
    this.role = init.role;
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.id = dialogKey(init.callId, init.localTag, init.remoteTag);
    this.secure = init.secure;
    this.localIdentity = init.localIdentity.clone();
    this.localIdentity.tag = init.localTag;
    this.remoteIdentity = init.remoteIdentity.clone();
    this.remoteIdentity.tag = init.remoteTag;
    this.remoteTarget = init.remoteTarget;
    this._routeSet = init.routeSet.map((r) => r.clone());
    this._state = init.state;
    this._localSeq = init.localSeq;
    this._remoteSeq = init.remoteSeq;
  }

  /**
   * The dialog a UAC gets from a 1xx (with To tag, early) or 2xx
   * (confirmed) response to `request` (§12.1.2): route set from the
   * response's Record-Route in reverse order, remote target from its
   * Contact, local sequence number from the request's CSeq, remote
   * sequence number empty. `secure` when the request went over TLS to a
   * SIPS Request-URI — the caller knows the transport. Throws TypeError
   * when the response carries no To tag or no usable Contact, and
   * SipParseError when Record-Route or Contact is malformed.
   */
  static createUac(request: SipRequest, response: SipResponse, secure: boolean): Dialog {
    const remoteTag = response.to.tag;
    if (!remoteTag) throw new TypeError('a response without To tag creates no dialog');
    const localTag = request.from.tag;
    if (!localTag) throw new TypeError('a request without From tag creates no dialog');
    const target = contactUri(response);
    if (!target) throw new TypeError(`the ${response.status} response has no Contact to use as remote target`);
    return new Dialog({
      role: 'uac',
      state: response.status >= 200 ? 'confirmed' : 'early',
      callId: request.callId,
      localTag,
      remoteTag,
      localIdentity: request.from,
      remoteIdentity: response.to,
      remoteTarget: target,
      routeSet: response.recordRoutes.reverse(),
      localSeq: request.cseq.seq,
      remoteSeq: undefined,
      secure,
    });
  }

  /**
   * The dialog a UAS gets when it answers `request` with a 1xx (early) or
   * 2xx (confirmed) carrying `localTag` (§12.1.1): route set from the
   * request's Record-Route in order, remote target from its Contact,
   * remote sequence number from its CSeq, local sequence number empty.
   * `secure` when the request came over TLS to a SIPS Request-URI. Throws
   * TypeError without a Contact, SipParseError for malformed headers.
   */
  static createUas(request: SipRequest, localTag: string, state: 'early' | 'confirmed', secure: boolean): Dialog {
    const remoteTag = request.from.tag;
    if (!remoteTag) throw new TypeError('a request without From tag creates no dialog');
    const target = contactUri(request);
    if (!target) throw new TypeError(`the ${request.method} has no Contact to use as remote target`);
    return new Dialog({
      role: 'uas',
      state,
      callId: request.callId,
      localTag,
      remoteTag,
      localIdentity: request.to,
      remoteIdentity: request.from,
      remoteTarget: target,
      routeSet: request.recordRoutes,
      localSeq: undefined,
      remoteSeq: request.cseq.seq,
      secure,
    });
  }

  get state(): DialogState {
    return this._state;
  }

  get routeSet(): readonly NameAddress[] {
    return this._routeSet;
  }

  /** The local sequence number: CSeq of the last request we sent in the dialog, if any. */
  get localSeq(): number | undefined {
    return this._localSeq;
  }

  /** The remote sequence number: CSeq of the last request the peer sent in the dialog, if any. */
  get remoteSeq(): number | undefined {
    return this._remoteSeq;
  }

  /**
   * The one place the state changes: early → confirmed | terminated,
   * confirmed → terminated. Any other move is a programming error
   * (TypeError); moving to the current state is a no-op.
   */
  stateTransition(to: DialogState): void {
    if (to === this._state) return;
    if (!NEXT[this._state].includes(to)) throw new TypeError(`dialog ${this.id}: invalid state transition from ${this._state} to ${to}`);
    this._state = to;
  }

  /**
   * Increments the local sequence number and returns it; an empty one
   * starts at a random value below 2**31 (§12.2.1.1, §8.1.1.5).
   */
  nextLocalSeq(): number {
    const next = this._localSeq === undefined ? initialCSeq() : this._localSeq + 1;
    if (next > MAX_CSEQ) throw new TypeError(`dialog ${this.id}: CSeq space exhausted`);
    this._localSeq = next;
    return next;
  }

  /**
   * Checks a request from the peer against the remote sequence number
   * (§12.2.2): false when its CSeq is lower (the UAS answers 500);
   * otherwise records it and returns true. ACK and CANCEL carry the
   * INVITE's number and are not checked.
   */
  receiveRequestSeq(request: SipRequest): boolean {
    const m = request.method;
    if (m === 'ACK' || m === 'CANCEL') return true;
    const seq = request.cseq.seq;
    if (this._remoteSeq !== undefined && seq < this._remoteSeq) return false;
    this._remoteSeq = seq;
    return true;
  }

  /**
   * Replaces the remote target with the Contact of a target refresh
   * request or of its 2xx (§12.2.1.2, §12.2.2; re-INVITE, UPDATE RFC 3311
   * §5.1). A message without a single usable Contact changes nothing.
   * Returns whether the target changed.
   */
  refreshRemoteTarget(message: SipMessage): boolean {
    let uri: Uri | undefined;
    try {
      uri = contactUri(message);
    } catch {
      uri = undefined;
    }
    if (!uri) return false;
    this.remoteTarget = uri;
    return true;
  }

  /**
   * A UAC's early dialog meets a later response to the same INVITE (§12.1.2,
   * §13.2.2.4): every 1xx/2xx may update the remote target; a 2xx confirms
   * the dialog and recomputes the route set from its Record-Route.
   */
  updateFromResponse(response: SipResponse): void {
    if (this.role !== 'uac') throw new TypeError('only a UAC dialog is updated from responses to its INVITE');
    this.refreshRemoteTarget(response);
    if (response.status >= 200 && response.status < 300 && this._state === 'early') {
      this._routeSet = response.recordRoutes.reverse();
      this.stateTransition('confirmed');
    }
  }

  /**
   * The URI a request in this dialog is sent toward (§12.2.1.1, §8.1.2):
   * the first route when there is a route set (loose or strict router),
   * otherwise the remote target.
   */
  nextHop(): Uri {
    return this._routeSet.length ? this._routeSet[0].uri : this.remoteTarget;
  }

  /**
   * Builds a request in this dialog (§12.2.1.1), without Via (the
   * transaction layer adds it): To with the remote tag, From with the local
   * tag, the Call-ID, CSeq, Max-Forwards 70, and Request-URI and Route by
   * the route set —
   *
   * - empty: Request-URI is the remote target, no Route;
   * - first route has `lr` (loose router): Request-URI is the remote
   *   target, Route the route set in order;
   * - first route without `lr` (strict router): Request-URI is the first
   *   route's URI without the parameters a Request-URI may not carry, Route
   *   the rest of the route set followed by the remote target.
   *
   * Throws TypeError on a terminated dialog, or for ACK/CANCEL without `cseq`.
   */
  createRequest(method: string, options: InDialogRequestOptions = {}): SipRequest {
    if (this._state === 'terminated') throw new TypeError(`dialog ${this.id} is terminated; no ${method} can be sent in it`);
    let seq: number;
    if (options.cseq !== undefined) seq = options.cseq;
    else if (method === 'ACK' || method === 'CANCEL') throw new TypeError(`${method} takes the CSeq number of its INVITE`);
    else seq = this.nextLocalSeq();

    const routes = this._routeSet;
    let requestUri: Uri;
    let routeValues: string[];
    if (routes.length === 0) {
      requestUri = this.remoteTarget;
      routeValues = [];
    } else if (isLooseRouter(routes[0].uri)) {
      requestUri = this.remoteTarget;
      routeValues = routes.map((r) => r.toString());
    } else {
      // §12.2.1.1: strict router — it finds the next hop in the Request-URI.
      requestUri = stripForRequestUri(routes[0].uri);
      routeValues = routes.slice(1).map((r) => r.toString());
      routeValues.push('<' + this.remoteTarget.toString() + '>');
    }

    const req = new SipRequest(method, requestUri.clone());
    for (const r of routeValues) req.addHeader('Route', r);
    req.addHeader('Max-Forwards', '70');
    req.addHeader('From', this.localIdentity.toString());
    req.addHeader('To', this.remoteIdentity.toString());
    req.addHeader('Call-ID', this.callId);
    req.addHeader('CSeq', seq + ' ' + method);
    if (options.contact !== undefined) req.addHeader('Contact', options.contact);
    if (options.headers) for (const [n, v] of options.headers) req.addHeader(n, v);
    if (options.body !== undefined) {
      req.body = options.body;
      if (options.contentType) req.setHeader('Content-Type', options.contentType);
    }
    return req;
  }
}

/** The URI of the single Contact of `message`, if it has exactly one that is not `*`. */
function contactUri(message: SipMessage): Uri | undefined {
  const contacts = message.contacts;
  if (contacts === '*' || contacts.length === 0) return undefined;
  return contacts[0].uri;
}

function isLooseRouter(uri: Uri): boolean {
  return uri.kind === 'sip' && uri.lr;
}

/**
 * A route URI as a Request-URI (§12.2.1.1: "stripping any parameters that
 * are not allowed in a Request-URI"): §19.1.1 Table 1 forbids `method` and
 * URI headers there.
 */
function stripForRequestUri(uri: Uri): Uri {
  const u = uri.clone();
  if (u.kind === 'sip') {
    u.params.delete('method');
    u.headers = [];
  }
  return u;
}
