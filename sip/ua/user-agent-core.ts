import { DigestClient, type DigestClientCredentials } from '../auth/digest-client.js';
import { dialogKey, initialCSeq } from '../dialog/dialog.js';
import { formatReplaces, parseReplaces, type ReplacesValue } from '../dialog/replaces.js';
import { unescape } from '../grammar/escape.js';
import { NameAddress } from '../grammar/name-address.js';
import { parseUri, type Uri } from '../grammar/uri.js';
import { createResponse } from '../message/create-response.js';
import { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import type { ServerInviteTransaction } from '../transaction/server-invite-transaction.js';
import type { TimerOptions } from '../transaction/timer-config.js';
import { TransactionLayer, type TransactionLayerHandler } from '../transaction/transaction-layer.js';
import type { ServerTransaction } from '../transaction/transaction-user.js';
import type { Endpoint, Flow, Transport } from '../transport/transport.js';
import { type Clock, systemClock } from '../util/clock.js';
import { type SipLogger, noopLogger } from '../util/logger.js';
import { newCallId, newTag, randomToken } from '../util/random.js';
import { IncomingInvite } from './incoming-invite.js';
import { IncomingRequest, type IncomingRequestOwner } from './incoming-request.js';
import { applyBody, applyHeaders, type RequestOptions } from './message-options.js';
import { OutgoingInvite } from './outgoing-invite.js';
import { OutgoingRequest } from './outgoing-request.js';
import { Registration, type RegistrationOptions } from './registration.js';
import type { Session } from './session.js';
import { toNameAddress } from './session.js';
import { defaultTargetResolver, type TargetResolver } from './target-resolver.js';
import { UserAgentError } from './user-agent-error.js';

/** Methods RFC 3261 and the extensions we know define; others are answered 501 (§8.2.1). */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);

/** Header fields a URI may not set in the request it addresses (§19.1.5: they are the UAC's to write). */
const URI_HEADER_BLOCKLIST: ReadonlySet<string> = new Set([
  'via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'route', 'record-route', 'contact', 'content-length', 'content-type', 'body',
  'authorization', 'proxy-authorization',
]);

/** Default `Allow`: the methods the core handles itself or hands to the application. */
export const DEFAULT_ALLOW: readonly string[] = ['INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'INFO', 'UPDATE', 'REFER', 'NOTIFY'];
/** Default `Supported`: Replaces is parsed and matched (RFC 3891), `Refer-Sub: false` honoured (RFC 4488). */
export const DEFAULT_SUPPORTED: readonly string[] = ['replaces', 'norefersub'];
export const DEFAULT_USER_AGENT = 'siprelay';
export const DEFAULT_MAX_GLARE_RETRIES = 3;

/** Options of {@link UserAgentCore}. Invalid options throw TypeError at construction. */
export interface UserAgentCoreOptions {
  /** The transport; the core's transaction layer becomes its listener. */
  transport: Transport;
  /** Our address of record, written in From (§8.1.1.3): `sip:alice@portal.test` or `"Alice" <sip:alice@portal.test>`. */
  aor: string;
  /**
   * Our Contact (a SIP URI or name-addr), used for every flow. Default: one
   * per transport protocol from the transport's local address
   * (`sip:alice@192.0.2.1:5060;transport=tcp`); over WebSocket a random
   * user at the transport's `.invalid` host with `transport=ws` (RFC 7118
   * §5.2), since a browser has no reachable address.
   */
  contact?: string;
  /** Credentials to answer 401/407 with (RFC 3261 §22), or a ready `DigestClient`. */
  credentials?: DigestClientCredentials | DigestClient;
  /**
   * With plain `credentials`: answer the last challenge of a realm again,
   * with the next nonce count, on later requests outside a dialog, so that
   * each INVITE does not first collect a 401 (RFC 7616 §3.3). A refused
   * preemptive answer is followed by one ordinary retry. Default true.
   */
  preemptiveAuth?: boolean;
  /**
   * Outbound proxy (§8.1.2): every request outside a dialog carries
   * `Route: <proxy;lr>` and goes to it. The browser names the relay here.
   */
  outboundProxy?: string;
  /** Where requests go: next-hop URI to flow or endpoint. Default {@link defaultTargetResolver} (RFC 3263 without DNS). */
  resolveTarget?: TargetResolver;
  /** `User-Agent` of our requests; empty string for none. Default `siprelay`. */
  userAgent?: string;
  /** Option tags for `Supported`, and accepted in `Require` (§8.2.2.3: others get 420). Default {@link DEFAULT_SUPPORTED}. */
  supported?: readonly string[];
  /** Methods for `Allow` (405/501 responses, OPTIONS, INVITE and its 2xx). Default {@link DEFAULT_ALLOW}. */
  allow?: readonly string[];
  /** Info Packages sessions accept INFO for by default (Recv-Info, RFC 6086). Default none. */
  recvInfo?: readonly string[];
  /** Transaction timers (T1, T2, T4...). Default RFC 3261 values. */
  timers?: TimerOptions;
  /** Time source. Default the system clock. */
  clock?: Clock;
  logger?: SipLogger;
  /** Retries of a re-INVITE or UPDATE after 491 (§14.1 timer). Default 3. */
  maxGlareRetries?: number;
  /** Most server transactions at once (see TransactionLayerOptions). */
  maxServerTransactions?: number;
  /** Receives INVITEs outside any dialog; without it they get 405. */
  onInvite?: (invite: IncomingInvite) => void;
  /**
   * Receives other requests outside any dialog (REGISTER, OPTIONS, MESSAGE,
   * SUBSCRIBE...); the application answers each. Without it, OPTIONS gets
   * 200 with Allow and Supported (§11.2), known methods 405, others 501.
   */
  onRequest?: (request: IncomingRequest) => void;
}

/** Options of {@link UserAgentCore.invite}. */
export interface InviteOptions extends RequestOptions {
  /** The To value; default the target URI. */
  to?: string;
  /** Info Packages this session accepts INFO for; default the core's `recvInfo`. */
  recvInfo?: readonly string[];
  /** A Replaces header (RFC 3891), e.g. `incomingRefer.replaces`. */
  replaces?: ReplacesValue;
  /** Leave the ACK of each 2xx to `session.ack()` (an answer in the ACK). Default false. */
  manualAck?: boolean;
}

/** Options of {@link UserAgentCore.request}. */
export interface OutOfDialogRequestOptions extends RequestOptions {
  /** The To value; default the target URI. */
  to?: string;
  /** Add our Contact. Default true for REGISTER, SUBSCRIBE, REFER and NOTIFY. */
  contact?: boolean;
}

/**
 * The user-agent core (RFC 3261 §8, §12–15): UAC and UAS over one
 * {@link TransactionLayer}, which it creates and is the handler of.
 * Isomorphic: the relay, the application-server SDK and the browser portal
 * all run it, over Node transports or the browser's WebSocket.
 *
 * ```ts
 * const core = new UserAgentCore({ transport, aor: 'sip:alice@portal.test',
 *   credentials: { username: 'alice', password: 'alice-secret' }, outboundProxy: 'sip:portal.test;transport=ws' });
 * const call = core.invite('sip:wine@portal.test', { body: '{}', contentType: 'application/vnd.siprelay.request+json' });
 * const session = await call.session;
 * ```
 */
export class UserAgentCore {
  readonly transactions: TransactionLayer;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: SipLogger;
  /** Our address of record, without tag. */
  readonly identity: NameAddress;
  /** @internal */
  readonly digest: DigestClient | undefined;
  readonly recvInfo: readonly string[];
  readonly maxGlareRetries: number;
  /** Receives INVITEs outside any dialog; see {@link UserAgentCoreOptions.onInvite}. */
  onInvite: ((invite: IncomingInvite) => void) | undefined;
  /** Receives other requests outside any dialog; see {@link UserAgentCoreOptions.onRequest}. */
  onRequest: ((request: IncomingRequest) => void) | undefined;

  private readonly resolver: TargetResolver;
  private readonly outboundProxy: NameAddress | undefined;
  private readonly fixedContact: string | undefined;
  private readonly contacts = new Map<string, string>();
  private readonly userAgent: string;
  /** Option tags we support (Supported), lower case. */
  readonly supported: readonly string[];
  /** Methods we allow (Allow), upper case. */
  readonly allow: readonly string[];
  private readonly allowValue: string;
  private readonly sessions = new Map<string, Session>();
  /** Out-of-dialog INVITEs being answered, by Call-ID, From tag and CSeq, for merged-request detection (§8.2.2.2). */
  private readonly incomingInvites = new Map<string, IncomingInvite>();
  private readonly byTransaction = new WeakMap<ServerInviteTransaction, IncomingInvite>();
  private readonly outgoingInvites = new Set<OutgoingInvite>();
  private readonly registrations = new Set<Registration>();
  private readonly owner: IncomingRequestOwner;
  private closed = false;

  constructor(options: UserAgentCoreOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('UserAgentCoreOptions must be an object');
    if (typeof options.aor !== 'string') throw new TypeError('UserAgentCoreOptions.aor must be a SIP URI or name-addr string');
    try {
      this.identity = toNameAddress(options.aor);
    } catch (e) {
      throw new TypeError(`UserAgentCoreOptions.aor: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.identity.tag = undefined;
    if (options.contact !== undefined) {
      try {
        this.fixedContact = toNameAddress(options.contact).toString();
      } catch (e) {
        throw new TypeError(`UserAgentCoreOptions.contact: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (options.outboundProxy !== undefined) {
      let proxy: NameAddress;
      try {
        proxy = toNameAddress(options.outboundProxy);
      } catch (e) {
        throw new TypeError(`UserAgentCoreOptions.outboundProxy: ${e instanceof Error ? e.message : String(e)}`);
      }
      if (proxy.uri.kind !== 'sip') throw new TypeError('UserAgentCoreOptions.outboundProxy must be a SIP or SIPS URI');
      // We route loosely through it (§16.12, RFC 3261 routing): lr is implied.
      if (!proxy.uri.lr) proxy.uri.params.set('lr');
      this.outboundProxy = proxy;
    }
    const creds = options.credentials;
    this.digest =
      creds === undefined
        ? undefined
        : creds instanceof DigestClient
          ? creds
          : new DigestClient(creds, { preemptive: options.preemptiveAuth ?? true });
    if (options.resolveTarget !== undefined && typeof options.resolveTarget !== 'function') throw new TypeError('UserAgentCoreOptions.resolveTarget must be a function');
    this.resolver = options.resolveTarget ?? defaultTargetResolver;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.supported = tokens('supported', options.supported ?? DEFAULT_SUPPORTED).map((t) => t.toLowerCase());
    this.allow = tokens('allow', options.allow ?? DEFAULT_ALLOW).map((m) => m.toUpperCase());
    this.allowValue = this.allow.join(', ');
    this.recvInfo = tokens('recvInfo', options.recvInfo ?? []).map((t) => t.toLowerCase());
    const retries = options.maxGlareRetries ?? DEFAULT_MAX_GLARE_RETRIES;
    if (!Number.isInteger(retries) || retries < 0) throw new TypeError(`UserAgentCoreOptions.maxGlareRetries must be a non-negative integer, got ${String(retries)}`);
    this.maxGlareRetries = retries;
    if (options.onInvite !== undefined && typeof options.onInvite !== 'function') throw new TypeError('UserAgentCoreOptions.onInvite must be a function');
    if (options.onRequest !== undefined && typeof options.onRequest !== 'function') throw new TypeError('UserAgentCoreOptions.onRequest must be a function');
    this.onInvite = options.onInvite;
    this.onRequest = options.onRequest;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.transport = options.transport;
    this.owner = { completeResponse: (incoming, response) => this.decorateResponse(incoming.request, response), responseSent: () => {} };
    this.transactions = new TransactionLayer({
      transport: options.transport,
      handler: new CoreHandler(this),
      clock: this.clock,
      timers: options.timers,
      maxServerTransactions: options.maxServerTransactions,
      onError: (e) => this.logger.error({ err: e }, 'user-agent core error in a transaction callback'),
    });
  }

  /** Number of live sessions (early and confirmed). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /** The session with this dialog id (Call-ID, local tag, remote tag), if it is live. */
  findSession(callId: string, localTag: string, remoteTag: string): Session | undefined {
    return this.sessions.get(dialogKey(callId, localTag, remoteTag));
  }

  // ---- UAC -----------------------------------------------------------------------

  /**
   * Sends an INVITE outside any dialog (§13.2.1) to `target` and returns
   * the {@link OutgoingInvite} that reports what follows. Never throws for
   * network reasons (they arrive as `failed`); a malformed target or option
   * throws TypeError, a closed core `SIP_ERR_CLOSED`.
   */
  invite(target: string | Uri, options: InviteOptions = {}): OutgoingInvite {
    this.assertOpen();
    const template = this.createRequest('INVITE', target, options.to);
    if (options.replaces) template.setHeader('Replaces', formatReplaces(options.replaces));
    const recvInfo = options.recvInfo ? tokens('recvInfo', options.recvInfo).map((t) => t.toLowerCase()) : this.recvInfo;
    if (recvInfo.length) template.addHeader('Recv-Info', recvInfo.join(', '));
    applyHeaders(template, options.headers);
    applyBody(template, options);
    this.decorateRequest(template);
    const outgoing = new OutgoingInvite(this, template, options.manualAck ?? false, recvInfo);
    outgoing.start();
    return outgoing;
  }

  /**
   * Sends a request other than INVITE, ACK and CANCEL outside any dialog
   * (OPTIONS, MESSAGE, REGISTER, SUBSCRIBE...) and resolves with its final
   * response, after one digest retry per challenge. Rejects with
   * `SIP_ERR_REQUEST_TIMEOUT` or `SIP_ERR_TRANSPORT` when there is none.
   */
  request(method: string, target: string | Uri, options: OutOfDialogRequestOptions = {}): Promise<SipResponse> {
    if (method === 'INVITE' || method === 'ACK' || method === 'CANCEL') throw new TypeError(`use invite() or the transaction layer for ${method}`);
    if (!/^[A-Za-z0-9.!%*_+`'~-]+$/.test(method)) throw new TypeError(`${JSON.stringify(method)} is not a method name`);
    this.assertOpen();
    const template = this.createRequest(method, target, options.to);
    applyHeaders(template, options.headers);
    applyBody(template, options);
    this.decorateRequest(template);
    const wantsContact = options.contact ?? (method === 'REGISTER' || method === 'SUBSCRIBE' || method === 'REFER' || method === 'NOTIFY');
    const out = new OutgoingRequest(this, template, undefined, wantsContact ? { prepare: (req, flow) => req.setHeader('Contact', this.contactFor(flow)) } : {});
    return out.start().response;
  }

  /** A {@link Registration} of our address of record (RFC 3261 §10); call `register()` on it. */
  register(options: RegistrationOptions = {}): Registration {
    this.assertOpen();
    const registration = new Registration(this, options);
    this.registrations.add(registration);
    return registration;
  }

  /**
   * Ends every session and pending INVITE without signalling (`terminated`
   * with reason `closed`), stops registrations' refreshes, closes the
   * transaction layer and the transport. BYE or unregister first for a
   * polite exit.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new UserAgentError('SIP_ERR_CLOSED', 'the user-agent core was closed');
    for (const r of this.registrations) r.dispose();
    this.registrations.clear();
    for (const o of [...this.outgoingInvites]) o.abort(error);
    for (const s of [...this.sessions.values()]) s.terminate({ by: 'local', reason: 'closed' });
    await this.transactions.close();
  }

  // ---- shared with sessions and requests (package-internal) --------------------------------

  /**
   * A new request outside any dialog (§8.1.1), without Via or Contact:
   * Request-URI, Route to the outbound proxy, Max-Forwards, To, From with a
   * new tag, a new Call-ID, CSeq.
   * @internal
   */
  createRequest(method: string, target: string | Uri, to: string | undefined, callId?: string, cseq?: number): SipRequest {
    let uri: Uri;
    if (typeof target === 'string') {
      try {
        uri = parseUri(target.trim());
      } catch (e) {
        throw new TypeError(`${JSON.stringify(target)} is not a URI: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else uri = target.clone();
    // §19.1.5: headers of the URI become header fields of the request; the Request-URI loses them.
    const fromUri: Array<[string, string]> = [];
    if (uri.kind === 'sip' && uri.headers.length) {
      for (const [n, v] of uri.headers) {
        const name = unescape(n);
        if (!URI_HEADER_BLOCKLIST.has(name.toLowerCase())) fromUri.push([name, unescape(v)]);
      }
      uri.headers = [];
    }
    const request = new SipRequest(method, uri);
    if (this.outboundProxy) request.addHeader('Route', this.outboundProxy.toString());
    request.addHeader('Max-Forwards', '70');
    request.addHeader('To', to === undefined ? new NameAddress(uri.clone()).toString() : toNameAddress(to).toString());
    const from = this.identity.clone();
    from.tag = newTag();
    request.addHeader('From', from.toString());
    request.addHeader('Call-ID', callId ?? newCallId());
    request.addHeader('CSeq', (cseq ?? initialCSeq()) + ' ' + method);
    for (const [n, v] of fromUri) request.addHeader(n, v);
    return request;
  }

  /** Adds User-Agent, and Allow and Supported where RFC 3261 asks for them (§13.2.1, §11). @internal */
  decorateRequest(request: SipRequest): void {
    if (this.userAgent && !request.hasHeader('user-agent')) request.addHeader('User-Agent', this.userAgent);
    const m = request.method;
    if (m === 'INVITE' || m === 'UPDATE' || m === 'OPTIONS' || m === 'REGISTER') {
      if (!request.hasHeader('allow')) request.addHeader('Allow', this.allowValue);
      if (this.supported.length && !request.hasHeader('supported')) request.addHeader('Supported', this.supported.join(', '));
    }
  }

  /** Adds Allow to 405/501 (§8.2.1, §21.5.6) and to 2xx to INVITE and OPTIONS, with Supported (§13.3.1.4, §11.2). @internal */
  decorateResponse(request: SipRequest, response: SipResponse): void {
    const status = response.status;
    const m = request.method;
    const ok = status >= 200 && status < 300 && (m === 'INVITE' || m === 'OPTIONS');
    if ((status === 405 || status === 501 || ok) && !response.hasHeader('allow')) response.addHeader('Allow', this.allowValue);
    if (ok && this.supported.length && !response.hasHeader('supported')) response.addHeader('Supported', this.supported.join(', '));
  }

  /**
   * The flow for `request`: `preferred` while it is an open connection
   * (responses and requests reuse connections, and a WebSocket peer is
   * reachable no other way, RFC 7118 §5), else the target resolver's answer
   * for the next hop (§8.1.2: the first Route when it is a loose router,
   * else the Request-URI). Throws or rejects with TransportError.
   * @internal
   */
  resolveFlow(request: SipRequest, preferred?: Flow): Flow | Promise<Flow> {
    if (this.closed) throw new UserAgentError('SIP_ERR_CLOSED', 'the user-agent core was closed');
    if (preferred && preferred.reliable && preferred.isOpen) return preferred;
    const uri = nextHopUri(request);
    let resolved: Flow | Endpoint | Promise<Flow | Endpoint>;
    try {
      resolved = this.resolver(uri, this.transport);
    } catch (e) {
      if (preferred?.isOpen) return preferred;
      throw e;
    }
    if (resolved instanceof Promise) {
      return resolved.then(
        (r) => this.toFlow(r),
        (e: unknown) => {
          if (preferred?.isOpen) return preferred;
          throw e;
        },
      );
    }
    return this.toFlow(resolved);
  }

  /** Our Contact value for requests and responses that go over `flow`. @internal */
  contactFor(flow: Flow): string {
    if (this.fixedContact) return this.fixedContact;
    const key = flow.protocol;
    const known = this.contacts.get(key);
    if (known) return known;
    const local = this.transport.localAddress(flow.protocol) ?? flow.local;
    let host = local.host;
    if (host.indexOf(':') >= 0 && !host.startsWith('[')) host = '[' + host + ']';
    const port = local.port > 0 ? ':' + local.port : '';
    let contact: string;
    switch (flow.protocol) {
      case 'WS':
      case 'WSS':
        // RFC 7118 §5.2: a browser's Contact is not reachable; `transport=ws` for both.
        contact = `<sip:${randomToken(8).toLowerCase()}@${host}${port};transport=ws>`;
        break;
      case 'UDP':
        contact = `<sip:${this.contactUser()}@${host}${port}>`;
        break;
      default:
        contact = `<sip:${this.contactUser()}@${host}${port};transport=${flow.protocol.toLowerCase()}>`;
    }
    this.contacts.set(key, contact);
    return contact;
  }

  /** Answers a request nobody handled as RFC 3261 says: OPTIONS 200 (§11.2), a known method 405, others 501 (§8.2.1). @internal */
  answerUnhandled(incoming: IncomingRequest): void {
    const m = incoming.method;
    if (m === 'OPTIONS') incoming.respondByCore(200);
    else incoming.respondByCore(KNOWN_METHODS.has(m) ? 405 : 501);
  }

  /** @internal */
  addSession(session: Session): void {
    this.sessions.set(session.id, session);
  }

  /** @internal */
  removeSession(session: Session): void {
    if (this.sessions.get(session.id) === session) this.sessions.delete(session.id);
  }

  /** @internal */
  trackInvite(invite: OutgoingInvite): void {
    this.outgoingInvites.add(invite);
  }

  /** @internal */
  untrackInvite(invite: OutgoingInvite): void {
    this.outgoingInvites.delete(invite);
  }

  /** @internal The INVITE server transaction of `invite` ended. */
  forgetIncomingInvite(invite: IncomingInvite): void {
    const key = mergeKey(invite.request);
    if (this.incomingInvites.get(key) === invite) this.incomingInvites.delete(key);
  }

  /** @internal */
  forgetRegistration(registration: Registration): void {
    this.registrations.delete(registration);
  }

  // ---- inbound (through CoreHandler) ---------------------------------------------------

  /** @internal */
  receiveRequest(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    try {
      this.dispatch(request, transaction, flow);
    } catch (e) {
      this.logger.error({ err: e, method: request.method }, 'request handling failed');
      if (transaction.lastStatus < 200 && transaction.state !== 'Terminated') {
        try {
          new IncomingRequest(this.owner, request, transaction, flow).respondByCore(500);
        } catch {
          // Nothing more can be done for this request.
        }
      }
    }
  }

  /** @internal */
  receiveAck(ack: SipRequest): void {
    const toTag = ack.to.tag;
    const fromTag = ack.from.tag;
    if (!toTag || !fromTag) return;
    this.sessions.get(dialogKey(ack.callId, toTag, fromTag))?.receiveAck(ack);
  }

  /**
   * @internal A response no client transaction took (§18.1.2): a 2xx to an
   * INVITE retransmitted after the transaction ended is ACKed again by its
   * session (§13.2.2.4); anything else is dropped.
   */
  receiveStrayResponse(response: SipResponse): void {
    if (response.status < 200 || response.status >= 300 || response.cseq.method !== 'INVITE') return;
    const fromTag = response.from.tag;
    const toTag = response.to.tag;
    if (!fromTag || !toTag) return;
    const session = this.sessions.get(dialogKey(response.callId, fromTag, toTag));
    if (session) session.receiveInvite2xx(response, session.inviteRequest, false);
  }

  private dispatch(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    const method = request.method;
    if (method === 'CANCEL') return this.receiveCancel(request, transaction, flow);
    const incoming = (): IncomingRequest => new IncomingRequest(this.owner, request, transaction, flow);
    // §8.2.2.3: Require with an option tag we do not support gets 420.
    const unsupported = request.optionTags('require').filter((t) => !this.supported.includes(t));
    if (unsupported.length) {
      incoming().respondByCore(420, { headers: [['Unsupported', unsupported.join(', ')]] });
      return;
    }
    const scheme = request.uri.scheme.toLowerCase();
    if (scheme !== 'sip' && scheme !== 'sips' && scheme !== 'tel') {
      incoming().respondByCore(416); // §8.2.2.1
      return;
    }
    const toTag = request.to.tag;
    if (toTag !== undefined) {
      // §12.2.2: a request in a dialog.
      const fromTag = request.from.tag ?? '';
      const session = this.sessions.get(dialogKey(request.callId, toTag, fromTag));
      if (session) session.receiveRequest(request, transaction, flow);
      else incoming().respondByCore(481);
      return;
    }
    if (method === 'INVITE') return this.receiveInvite(request, transaction as ServerInviteTransaction, flow);
    const handler = this.onRequest;
    const req = incoming();
    if (!handler) {
      this.answerUnhandled(req);
      return;
    }
    try {
      handler(req);
    } catch (e) {
      this.logger.error({ err: e, method }, 'onRequest threw');
      req.respondByCore(500);
    }
  }

  private receiveInvite(request: SipRequest, transaction: ServerInviteTransaction, flow: Flow): void {
    const reply = (status: number, reason?: string): void => {
      new IncomingRequest(this.owner, request, transaction, flow).respondByCore(status, { reason });
    };
    const handler = this.onInvite;
    if (!handler) return reply(405);
    // §8.1.1.8: an INVITE must carry one Contact, the remote target of the dialog.
    let contactOk = false;
    try {
      const c = request.contacts;
      contactOk = c !== '*' && c.length === 1;
    } catch {
      contactOk = false;
    }
    if (!contactOk || !request.from.tag) return reply(400, contactOk ? 'Missing From Tag' : 'Bad Contact');
    // §8.2.2.2: the same request arriving by another path is a merged request.
    const key = mergeKey(request);
    if (this.incomingInvites.has(key)) return reply(482);
    let replaces: { value: ReplacesValue; session: Session } | undefined;
    const replacesHeader = request.header('replaces');
    if (replacesHeader !== undefined) {
      const value = parseReplaces(replacesHeader);
      if (!value) return reply(400, 'Bad Replaces');
      // RFC 3891 §3: to-tag is our local tag, from-tag the remote one; no match is 481.
      const session = this.sessions.get(dialogKey(value.callId, value.toTag, value.fromTag));
      if (!session || (value.earlyOnly && session.state !== 'early')) return reply(session ? 486 : 481);
      replaces = { value, session };
    }
    const invite = new IncomingInvite(this, request, transaction, flow, replaces);
    transaction.user = invite;
    this.incomingInvites.set(key, invite);
    this.byTransaction.set(transaction, invite);
    try {
      handler(invite);
    } catch (e) {
      this.logger.error({ err: e }, 'onInvite threw');
      if (invite.state === 'pending') invite.reject(500);
    }
  }

  private receiveCancel(cancel: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    const inviteTx = this.transactions.findInviteForCancel(cancel);
    const invite = inviteTx ? this.byTransaction.get(inviteTx) : undefined;
    // §9.2: the 200 to the CANCEL SHOULD carry the To tag of the INVITE's responses.
    const toTag = cancel.to.tag ?? invite?.localTag ?? newTag();
    transaction.respond(this.buildResponse(cancel, inviteTx ? 200 : 481, toTag));
    if (!inviteTx) return;
    // §9.2: then the INVITE gets 487 if it is still unanswered.
    if (invite) {
      invite.cancelBy(cancel);
      return;
    }
    // A re-INVITE: its session answers 487 if it has not answered yet.
    const fromTag = cancel.from.tag;
    if (cancel.to.tag && fromTag) this.sessions.get(dialogKey(cancel.callId, cancel.to.tag, fromTag))?.cancelReinvite(inviteTx);
  }

  private buildResponse(request: SipRequest, status: number, toTag: string): SipResponse {
    const response = createResponse(request, status, { toTag });
    this.decorateResponse(request, response);
    return response;
  }

  private toFlow(r: Flow | Endpoint): Flow {
    if ('send' in r) return r;
    return this.transport.flowTo(r);
  }

  private contactUser(): string {
    const uri = this.identity.uri;
    return uri.kind === 'sip' && uri.user ? uri.user : randomToken(8).toLowerCase();
  }

  private assertOpen(): void {
    if (this.closed) throw new UserAgentError('SIP_ERR_CLOSED', 'the user-agent core was closed');
  }
}

/**
 * The transaction layer's handler: one object per core, forwarding to it,
 * so the core's own `onRequest` property stays the application's hook.
 */
class CoreHandler implements TransactionLayerHandler {
  constructor(private readonly core: UserAgentCore) {}

  onRequest(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    this.core.receiveRequest(request, transaction, flow);
  }

  onAck(ack: SipRequest): void {
    this.core.receiveAck(ack);
  }

  onStrayResponse(response: SipResponse): void {
    this.core.receiveStrayResponse(response);
  }
}

/** §8.1.2: the next hop is the first Route when it is a loose router, else the Request-URI (strict routing puts the router there). */
export function nextHopUri(request: SipRequest): Uri {
  const first = request.header('route');
  if (first !== undefined) {
    const routes = request.routes;
    if (routes.length && routes[0].uri.kind === 'sip' && routes[0].uri.lr) return routes[0].uri;
  }
  return request.uri;
}

/** §8.2.2.2: From tag, Call-ID and CSeq identify a request that arrived twice by different paths. */
function mergeKey(request: SipRequest): string {
  return (request.from.tag ?? '') + '\n' + request.callId + '\n' + request.cseq.seq;
}

function tokens(name: string, list: readonly string[]): string[] {
  if (!Array.isArray(list)) throw new TypeError(`UserAgentCoreOptions.${name} must be an array of tokens`);
  for (const t of list) if (typeof t !== 'string' || !/^[A-Za-z0-9.!%*_+`'~-]+$/.test(t)) throw new TypeError(`UserAgentCoreOptions.${name}: ${JSON.stringify(t)} is not a token`);
  return [...list];
}
