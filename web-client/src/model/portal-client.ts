import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { ReplacesValue } from '../../../sip/dialog/replaces.js';
import { WebSocketTransport, type ReconnectOptions, type WebSocketConstructor } from '../../../sip/transport/websocket-transport.js';
import type { IncomingRefer } from '../../../sip/ua/incoming-refer.js';
import type { Registration } from '../../../sip/ua/registration.js';
import type { Session } from '../../../sip/ua/session.js';
import { UserAgentCore } from '../../../sip/ua/user-agent-core.js';
import { catalogueFromJson, type CatalogueService } from './catalogue-service.js';
import { describeInviteFailure, describeRegistrationFailure, noAnswer, relayUnreachable } from './describe-failure.js';
import { OpeningRequest } from './opening-request.js';
import type { PortalProblem } from './portal-problem.js';
import { chargeFromBody } from './received-charge.js';
import { RelayHttp, RelayHttpError } from './relay-http.js';
import { serviceDescriptorOf } from './service-descriptor.js';
import { ServiceSession } from './service-session.js';
import { describeTermination } from './session-end.js';
import { SiprelayMediaTypes } from './siprelay-media-types.js';

/**
 * Where the portal stands with the relay:
 * `signed-out` → `signing-in` (WebSocket, then REGISTER with digest) →
 * `online`; after a drop `reconnecting` (the transport retries with
 * backoff) → `restoring` (registering again over the new connection and
 * checking the sessions) → `online`; `offline` when registering again
 * failed.
 */
export type ConnectionState = 'signed-out' | 'signing-in' | 'online' | 'reconnecting' | 'restoring' | 'offline';

/** A card on the board: a service being opened (or that failed), or a session. */
export type BoardItem = OpeningRequest | ServiceSession;

/** The signed-in user. */
export interface PortalUser {
  readonly username: string;
  readonly domain: string;
  /** `sip:alice@portal.test`. */
  readonly aor: string;
}

/** Options of {@link PortalClient}. */
export interface PortalClientOptions {
  /** The relay's SIP WebSocket, `ws://localhost:8080/sip`. */
  wsUrl: string;
  /** The relay's HTTP API; `''` for the page's origin. */
  httpBase: string;
  /** The SIP domain users and services belong to when the username names none. */
  domain: string;
  /** Default `globalThis.WebSocket` (Node tests pass `ws`'s). */
  WebSocket?: WebSocketConstructor;
  fetch?: typeof fetch;
  /** Reconnect backoff; default the transport's (1 s, ×2, up to 30 s, jitter 0.2); `false` to stay down. */
  reconnect?: ReconnectOptions | boolean;
  /** Seconds asked for in REGISTER. Default 600. */
  registerExpires?: number;
  /** Wall clock for the pane timers; default `Date.now`. */
  now?: () => number;
  /** Monotonic clock for the click-to-paint budget; default `performance.now`. */
  perfNow?: () => number;
}

/** How a new INVITE continues an existing session (design brief flow 8). */
interface TransferLink {
  readonly from: ServiceSession;
  /** RFC 3891 Replaces (the REFER asked for it), else RFC 4538 Target-Dialog (both go on). */
  readonly replaces?: ReplacesValue;
  /** The Referred-By value of a REFER (RFC 3892). */
  readonly referredBy?: string;
  /** Report the new session's outcome to the REFER's sender (RFC 3515 NOTIFY). */
  readonly report?: (status: number) => void;
  /** Hang up `from` once the new session is up (a user's "move"). */
  readonly endFrom?: boolean;
}

/** Options of {@link PortalClient.open}. */
export interface OpenOptions {
  /** Fork to every application server with `Request-Disposition: no-cancel` and keep each answer (RFC 3841). */
  compare?: boolean;
  /** `performance.now()` of the click; default now. */
  clickedAt?: number;
}

const DEFAULT_EXPIRES = 600;
/** How long a session check after a reconnect may take. */
const RECOVERY_CHECK_MS = 8000;

/**
 * The portal's state and its conversation with the relay: one WebSocket
 * (`WebSocketTransport`), one user-agent core (`sip/ua`) that registers with
 * the user's digest credentials and opens service sessions, the user token
 * from the 200 to REGISTER for the HTTP API, the service catalogue, and the
 * board of sessions. It has no DOM code: the Lit elements read it through a
 * context and are told of every change by {@link subscribe}.
 *
 * The password is handed to the core's digest client and kept only there,
 * in memory, for the life of the sign-in (re-registration after a
 * reconnect needs it); nothing is written to storage. Signing out drops it.
 *
 * @example
 * ```ts
 * const client = new PortalClient({ wsUrl: 'ws://localhost:8080/sip', httpBase: '', domain: 'portal.test' });
 * client.subscribe(() => render());
 * await client.signIn('alice', 'alice-secret');
 * client.open('bookstore', { query: 'dune' }, { compare: true });
 * ```
 */
export class PortalClient {
  readonly http: RelayHttp;
  private readonly options: PortalClientOptions;
  private readonly now: () => number;
  private readonly perfNow: () => number;
  private readonly listeners = new Set<() => void>();

  private _state: ConnectionState = 'signed-out';
  private _user: PortalUser | undefined;
  private _token: string | undefined;
  private _problem: PortalProblem | undefined;
  private _catalogue: CatalogueService[] | undefined;
  private _catalogueProblem: string | undefined;
  private _items: BoardItem[] = [];
  private _retry: { attempt: number; at: number } | undefined;
  private _connectionNote: string | undefined;
  private seq = 0;
  private transport: WebSocketTransport | undefined;
  private core: UserAgentCore | undefined;
  private registration: Registration | undefined;
  private unsubscribers: Array<() => void> = [];
  /** What to say when our own BYE ends a session for a reason other than "hang up" (a move). */
  private readonly localEndTexts = new WeakMap<ServiceSession, string>();

  constructor(options: PortalClientOptions) {
    if (!options || typeof options.wsUrl !== 'string' || typeof options.domain !== 'string') {
      throw new TypeError('PortalClient needs wsUrl and domain');
    }
    this.options = options;
    this.http = new RelayHttp(options.httpBase, options.fetch);
    this.now = options.now ?? (() => Date.now());
    this.perfNow = options.perfNow ?? (() => performance.now());
  }

  // ---- what the elements read -------------------------------------------------------------

  get state(): ConnectionState {
    return this._state;
  }

  get user(): PortalUser | undefined {
    return this._user;
  }

  /** The user token (`Siprelay-User-Token`) for `/api/v1/me/...`, while signed in. */
  get token(): string | undefined {
    return this._token;
  }

  /** Why signing in (or registering again) failed. */
  get problem(): PortalProblem | undefined {
    return this._problem;
  }

  get catalogue(): readonly CatalogueService[] | undefined {
    return this._catalogue;
  }

  get catalogueProblem(): string | undefined {
    return this._catalogueProblem;
  }

  /** Cards of the board in the order they were opened (compared sessions side by side). */
  get items(): readonly BoardItem[] {
    return this._items;
  }

  /** While reconnecting: the attempt and when (`Date.now()`) it will be made. */
  get retry(): { attempt: number; at: number } | undefined {
    return this._retry;
  }

  /** A line about the connection (what happened at the last reconnect). */
  get connectionNote(): string | undefined {
    return this._connectionNote;
  }

  get wsUrl(): string {
    return this.options.wsUrl;
  }

  /** Calls `listener` after every change; returns the function that unsubscribes. */
  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- signing in and out -------------------------------------------------------------------

  /**
   * Connects to the relay and registers `username` (`alice` or
   * `alice@portal.test`) with `password` (digest, RFC 3261 §22). Resolves
   * when registered; otherwise {@link problem} says why (wrong password,
   * relay unreachable…) and it resolves false.
   */
  async signIn(username: string, password: string): Promise<boolean> {
    if (this._state !== 'signed-out') return false;
    const at = username.trim().lastIndexOf('@');
    const user = at > 0 ? username.trim().slice(0, at) : username.trim();
    const domain = at > 0 ? username.trim().slice(at + 1) : this.options.domain;
    if (!/^[A-Za-z0-9._~!$&'()*+,;=%-]+$/.test(user) || !/^[A-Za-z0-9.-]+$/.test(domain) || password.length === 0) {
      this._problem = { code: 'wrong-credentials', title: 'Username and password needed', detail: 'Type your username (like alice) and your password.' };
      this.changed();
      return false;
    }
    this._problem = undefined;
    this._connectionNote = undefined;
    this.setState('signing-in');

    const transport = new WebSocketTransport({
      url: this.options.wsUrl,
      ...(this.options.WebSocket ? { WebSocket: this.options.WebSocket } : {}),
      reconnect: this.options.reconnect ?? true,
    });
    this.transport = transport;
    const reachable = await firstConnection(transport);
    if (!reachable) {
      await transport.close();
      this.transport = undefined;
      this._problem = relayUnreachable(this.options.wsUrl);
      this.setState('signed-out');
      return false;
    }

    const aor = `sip:${user}@${domain}`;
    const core = new UserAgentCore({
      transport,
      aor,
      credentials: { username: user, password },
      outboundProxy: `sip:${domain};transport=ws`,
      recvInfo: [SiprelayMediaTypes.chargePackage],
      userAgent: 'siprelay-portal',
    });
    // The portal places calls; nobody calls it (a 603 says so, RFC 3261 §21.6.2).
    core.onInvite = (invite) => invite.reject(603);
    this.core = core;
    const registration = core.register({ expires: this.options.registerExpires ?? DEFAULT_EXPIRES, instanceId: newInstanceId(), regId: 1 });
    this.registration = registration;
    this.unsubscribers.push(
      registration.on('registered', ({ response }) => this.registered(response)),
      registration.on('failed', ({ response, error }) => this.registrationFailed(response, error?.code)),
    );
    const first = await registerOnce(registration);
    if (first.ok !== true) {
      this._problem = first.response ? describeRegistrationFailure(first.response) : relayUnreachable(this.options.wsUrl);
      await this.teardown();
      this.setState('signed-out');
      return false;
    }
    this._user = { username: user, domain, aor };
    this.unsubscribers.push(
      transport.on('disconnected', ({ willReconnect }) => this.disconnected(willReconnect)),
      transport.on('reconnecting', ({ attempt, delayMs }) => {
        this._retry = { attempt, at: this.now() + delayMs };
        this.changed();
      }),
      transport.on('connected', () => void this.reconnected()),
    );
    this.setState('online');
    void this.loadCatalogue();
    return true;
  }

  /** Hangs up every live session, unregisters, closes the connection and forgets the credentials. */
  async signOut(): Promise<void> {
    if (this._state === 'signed-out') return;
    const live = this.sessions().filter((s) => s.live);
    await Promise.allSettled(live.map((s) => this.hangUp(s.key)));
    const reg = this.registration;
    if (reg && this.transport?.state === 'connected') await withTimeout(reg.unregister(), 2000).catch(() => undefined);
    await this.teardown();
    this._user = undefined;
    this._token = undefined;
    this._items = [];
    this._catalogue = undefined;
    this._retry = undefined;
    this.setState('signed-out');
  }

  /** Loads (or reloads) the service catalogue. */
  async loadCatalogue(): Promise<void> {
    try {
      this._catalogue = catalogueFromJson(await this.http.getJson('/api/v1/services'));
      this._catalogueProblem = undefined;
    } catch (e) {
      this._catalogueProblem = e instanceof RelayHttpError ? e.message : 'The service catalogue could not be loaded.';
    }
    this.changed();
  }

  // ---- sessions -----------------------------------------------------------------------------

  /**
   * Opens `service`: `INVITE sip:<service>@<domain>` with the details as
   * `application/vnd.siprelay.request+json` and `Recv-Info:
   * siprelay-charge`. With `compare`, `Request-Disposition: no-cancel`
   * asks the relay to fork to every application server of the service and
   * relay each 2xx; each becomes its own session and pane.
   */
  open(service: string, details: Readonly<Record<string, unknown>> | undefined, options: OpenOptions = {}): OpeningRequest | undefined {
    return this.startInvite(service, details, options.compare ?? false, options.clickedAt ?? this.perfNow(), undefined);
  }

  /** Cancels a service still being opened (CANCEL, RFC 3261 §9.1), or dismisses a failed one. */
  cancelOpening(key: string): void {
    const item = this._items.find((i) => i.key === key);
    if (!(item instanceof OpeningRequest)) return;
    if (item.state === 'calling') item.invite.cancel({ reason: 'SIP;cause=487;text="user cancelled"' });
    this.remove(item);
  }

  /**
   * Hangs up (BYE). The 2xx to the BYE may carry the application server's
   * final charges; they are added to the pane.
   */
  async hangUp(key: string): Promise<void> {
    const s = this.sessionByKey(key);
    if (!s || !s.live) return;
    let response: SipResponse | undefined;
    try {
      response = await s.sip.bye();
    } catch {
      // The session is over for us either way; the core says why in `terminated`.
    }
    if (response && response.contentType === SiprelayMediaTypes.charge) {
      const charge = chargeFromBody(response.bodyText, 'bye', this.now());
      if (charge) s.charges.push(charge);
    }
    this.changed();
  }

  /** Removes an ended session's pane (or a failed opening's card). */
  dismiss(key: string): void {
    const item = this._items.find((i) => i.key === key);
    if (!item) return;
    if (item instanceof ServiceSession && item.live) return;
    this.remove(item);
  }

  /**
   * Changes the service details in place (design brief flow 7): a
   * re-INVITE (or UPDATE) with the new details; the 2xx's descriptor
   * replaces the pane's, and the pane reloads. A refusal (488…) leaves the
   * session as it was and says why.
   */
  async change(key: string, details: Readonly<Record<string, unknown>>, method: 'INVITE' | 'UPDATE' = 'INVITE'): Promise<void> {
    const s = this.sessionByKey(key);
    if (!s || !s.live || s.changing) return;
    s.changing = true;
    s.changeProblem = undefined;
    this.changed();
    const options = { body: JSON.stringify(details), contentType: SiprelayMediaTypes.request };
    try {
      const response = method === 'UPDATE' ? await s.sip.update(options) : await s.sip.reinvite(options);
      if (response.isSuccess) {
        s.details = details;
        const descriptor = serviceDescriptorOf(response);
        if (descriptor) s.descriptor = descriptor;
        s.frameRevision++;
      } else {
        s.changeProblem = { ...describeInviteFailure(s.service, response), title: 'Change refused', detail: `${s.displayName} refused the change: ${response.status} ${response.reason}.` };
      }
    } catch (e) {
      const code = (e as { code?: string }).code;
      s.changeProblem = {
        code: code === 'SIP_ERR_REQUEST_PENDING' ? 'refused' : 'connection-lost',
        title: 'Change not made',
        detail: code === 'SIP_ERR_REQUEST_PENDING' ? 'Another change of this session is still going on. Try again in a moment.' : 'The change could not be sent to the service.',
      };
    } finally {
      s.changing = false;
      this.changed();
    }
  }

  /**
   * Moves the user from one session to another service (design brief flow
   * 8): a new INVITE that names the current session with `Target-Dialog`
   * (RFC 4538), so the relay links the two; unless `keepOpen`, the current
   * session is hung up once the new one is up.
   */
  transfer(key: string, service: string, details: Readonly<Record<string, unknown>> | undefined, keepOpen = false): OpeningRequest | undefined {
    const from = this.sessionByKey(key);
    if (!from || !from.live) return undefined;
    return this.startInvite(service, details, false, this.perfNow(), { from, endFrom: !keepOpen });
  }

  // ---- internals ----------------------------------------------------------------------------

  private startInvite(
    service: string,
    details: Readonly<Record<string, unknown>> | undefined,
    compare: boolean,
    clickedAt: number,
    link: TransferLink | undefined,
  ): OpeningRequest | undefined {
    const core = this.core;
    const user = this._user;
    if (!core || !user || (this._state !== 'online' && this._state !== 'restoring')) return undefined;
    const key = this.nextKey();
    const headers: Array<[string, string]> = [];
    if (compare) headers.push(['Request-Disposition', 'no-cancel']);
    if (link?.referredBy) headers.push(['Referred-By', link.referredBy]);
    if (link && !link.replaces) {
      // RFC 4538 §7: the dialog's Call-ID and tags; the relay matches the tags in either order.
      const d = link.from.sip.dialog;
      headers.push(['Target-Dialog', `${d.callId};local-tag=${d.remoteTag};remote-tag=${d.localTag}`]);
    }
    const invite = core.invite(`sip:${service}@${user.domain}`, {
      ...(details !== undefined ? { body: JSON.stringify(details), contentType: SiprelayMediaTypes.request } : {}),
      headers,
      ...(link?.replaces ? { replaces: link.replaces } : {}),
    });
    const opening = new OpeningRequest(key, service, details, clickedAt, compare ? key : undefined, link?.from.key, invite);
    this.insert(opening, link?.from);
    let answered = 0;
    let lastSession: ServiceSession | undefined;
    invite.on('progress', (r) => {
      if (r.status > 100 && opening.state === 'calling') {
        opening.progress = `${r.status} ${r.reason}`;
        this.changed();
      }
    });
    invite.on('accepted', (sip) => {
      answered++;
      const s = this.adopt(sip, service, details, opening, link?.from);
      // The first pane of something the user opened (or moved to) takes focus; a REFER's does not.
      s.takeFocus = answered === 1 && !link?.report;
      if (answered === 1) this.replace(opening, s);
      else this.insertAfter(s, lastSession ?? opening);
      lastSession = s;
      if (link) {
        link.from.linkedTo.push(s);
        link.from.transferNote = `Continued in “${service}”.`;
        link.report?.(200);
        if (link.endFrom && link.from.live) {
          this.localEndTexts.set(link.from, `You moved to “${service}”.`);
          void this.hangUp(link.from.key);
        }
      }
      this.changed();
    });
    invite.on('rejected', (response) => {
      if (answered > 0) return;
      opening.state = 'failed';
      opening.problem = describeInviteFailure(service, response);
      link?.report?.(response.status);
      if (link) link.from.transferNote = `Could not continue in “${service}”: ${response.status} ${response.reason}.`;
      this.changed();
    });
    invite.on('failed', (error) => {
      if (answered > 0) return;
      opening.state = 'failed';
      opening.problem = noAnswer(service, error.code);
      link?.report?.(error.code === 'SIP_ERR_REQUEST_TIMEOUT' ? 408 : 503);
      this.changed();
    });
    this.changed();
    return opening;
  }

  /** Makes the pane model of a confirmed dialog and follows its events. */
  private adopt(
    sip: Session,
    service: string,
    details: Readonly<Record<string, unknown>> | undefined,
    opening: OpeningRequest,
    linkedFrom: ServiceSession | undefined,
  ): ServiceSession {
    const descriptor = sip.inviteResponse ? serviceDescriptorOf(sip.inviteResponse) : undefined;
    const tariff = this._catalogue?.find((c) => c.name === service)?.tariff;
    const s = new ServiceSession(
      this.nextKey(),
      service,
      sip,
      this.now(),
      opening.clickedAt,
      tariff,
      opening.group,
      linkedFrom,
      descriptor,
      details,
    );
    if (!descriptor) {
      s.changeProblem = { code: 'bad-answer', title: 'No address', detail: `${service} answered without a service address, so there is nothing to show.` };
    }
    sip.on('info', (info) => {
      const isCharge = info.package === SiprelayMediaTypes.chargePackage || info.request.contentType === SiprelayMediaTypes.charge;
      if (isCharge) {
        const charge = chargeFromBody(info.request.bodyText, 'info', this.now());
        if (charge) s.charges.push(charge);
      }
      info.accept();
      this.changed();
    });
    sip.on('bye', (bye) => {
      // The contract allows charges in a BYE's body too (docs/wire-contracts.md).
      if (bye.request.contentType === SiprelayMediaTypes.charge) {
        const charge = chargeFromBody(bye.request.bodyText, 'bye', this.now());
        if (charge) s.charges.push(charge);
      }
      bye.accept();
    });
    sip.on('refer', (refer) => this.referred(s, refer));
    sip.on('terminated', (t) => {
      if (!s.end) {
        const end = describeTermination(t, s.displayName, this.now());
        const text = t.by === 'local' && t.reason === 'bye' ? this.localEndTexts.get(s) : undefined;
        s.end = text ? { ...end, text } : end;
      }
      s.connectionLost = false;
      this.changed();
    });
    return s;
  }

  /**
   * The application server hands the user over (REFER in the session,
   * RFC 3515): accept it, open the Refer-To service with the REFER's
   * details, `Referred-By`, and `Target-Dialog` naming this session (or the
   * `Replaces` the Refer-To carries), and report the outcome by NOTIFY.
   */
  private referred(from: ServiceSession, refer: IncomingRefer): void {
    const uri = refer.referTo.uri;
    const user = this._user;
    if (uri.kind !== 'sip' || !uri.userDecoded || !user) {
      refer.reject(400, { reason: 'Refer-To Must Name A Service' });
      return;
    }
    const service = uri.userDecoded;
    let details: Record<string, unknown> | undefined;
    if (refer.request.contentType === SiprelayMediaTypes.request) {
      try {
        const v: unknown = JSON.parse(refer.request.bodyText);
        if (v && typeof v === 'object' && !Array.isArray(v)) details = v as Record<string, unknown>;
      } catch {
        details = undefined;
      }
    }
    const notifier = refer.accept();
    from.transferNote = `${from.displayName} is handing you over to “${service}”…`;
    const referredBy = refer.referredBy?.toString() ?? `<${from.sip.remoteIdentity.uri.toString()}>`;
    const opening = this.startInvite(service, details, false, this.perfNow(), {
      from,
      referredBy,
      ...(refer.replaces ? { replaces: refer.replaces } : {}),
      report: (status) => void notifier.notify(status).catch(() => undefined),
    });
    if (!opening) void notifier.notify(503).catch(() => undefined);
    this.changed();
  }

  private registered(response: SipResponse): void {
    const token = response.header(SiprelayMediaTypes.userTokenHeader);
    if (token) this._token = token;
    this.changed();
  }

  private registrationFailed(response: SipResponse | undefined, code: string | undefined): void {
    // During sign-in the caller reports it; later (a refresh refused) it is shown in the banner.
    if (this._state !== 'online') return;
    this._problem = response ? describeRegistrationFailure(response) : { code: 'connection-lost', title: 'Registration lost', detail: `Registering again failed (${code ?? 'no answer'}).` };
    this.setState('offline');
  }

  private disconnected(willReconnect: boolean): void {
    if (this._state === 'signed-out') return;
    for (const s of this.sessions()) if (s.live) s.connectionLost = true;
    this._connectionNote = undefined;
    this.setState(willReconnect ? 'reconnecting' : 'offline');
  }

  /**
   * The WebSocket is back (a new flow): register again — the old binding
   * died with the old connection (RFC 5626, docs/protocol.md) — then find
   * out what became of each live session with an UPDATE without details
   * (a target refresh the application server answers with its current
   * descriptor). The relay re-binds a session to the new connection when
   * its caller speaks in it again (docs/sessions.md), within
   * `sessions.flowLossGraceSeconds`; a session that cannot be reached any
   * more (ended meanwhile: 481, or 430, or nothing) is over for this page:
   * it is hung up and its pane says so.
   */
  private async reconnected(): Promise<void> {
    if (this._state === 'signed-out' || this._state === 'signing-in') return;
    this._retry = undefined;
    this.setState('restoring');
    const reg = this.registration;
    if (!reg) return;
    const ok = await registerOnce(reg);
    if (this._state !== 'restoring') return;
    if (ok.ok !== true) {
      this._problem = ok.response ? describeRegistrationFailure(ok.response) : relayUnreachable(this.options.wsUrl);
      this.setState('offline');
      return;
    }
    const live = this.sessions().filter((s) => s.live);
    const results = await Promise.all(live.map((s) => this.recover(s)));
    const lost = results.filter((r) => !r).length;
    this._connectionNote =
      live.length === 0
        ? 'Reconnected.'
        : lost === 0
          ? `Reconnected; ${live.length === 1 ? 'your session is' : `all ${live.length} sessions are`} still open.`
          : `Reconnected; ${lost} of ${live.length} session${live.length === 1 ? '' : 's'} could not be recovered.`;
    if (this._state === 'restoring') this.setState('online');
  }

  private async recover(s: ServiceSession): Promise<boolean> {
    s.connectionLost = false;
    let response: SipResponse | undefined;
    try {
      response = await withTimeout(s.sip.update(), RECOVERY_CHECK_MS);
    } catch {
      response = undefined;
    }
    if (response?.isSuccess) {
      s.recoveryNote = 'The connection dropped and came back; the session is still open.';
      const d = serviceDescriptorOf(response);
      if (d) s.descriptor = d;
      this.changed();
      return true;
    }
    if (s.live) {
      const why = response ? `${response.status} ${response.reason}` : 'no answer';
      s.end = {
        by: 'connection',
        at: this.now(),
        text:
          `The connection to the relay dropped and this session could not be reached again (${why}). ` +
          'It was ended while the page was away (the relay ends a session whose browser does not come back in time, ' +
          'and bills it up to the moment the connection dropped) — see History.',
      };
      s.recoveryNote = undefined;
      if (s.sip.state !== 'terminated') await s.sip.bye().catch(() => undefined);
    }
    this.changed();
    return false;
  }

  private async teardown(): Promise<void> {
    for (const u of this.unsubscribers) u();
    this.unsubscribers = [];
    this.registration?.dispose();
    this.registration = undefined;
    const core = this.core;
    this.core = undefined;
    if (core) await core.close().catch(() => undefined);
    const transport = this.transport;
    this.transport = undefined;
    if (transport) await transport.close().catch(() => undefined);
  }

  private sessions(): ServiceSession[] {
    return this._items.filter((i): i is ServiceSession => i instanceof ServiceSession);
  }

  private sessionByKey(key: string): ServiceSession | undefined {
    const i = this._items.find((x) => x.key === key);
    return i instanceof ServiceSession ? i : undefined;
  }

  private insert(item: BoardItem, after: BoardItem | undefined): void {
    const i = after ? this._items.indexOf(after) : -1;
    this._items = i < 0 ? [...this._items, item] : [...this._items.slice(0, i + 1), item, ...this._items.slice(i + 1)];
  }

  private insertAfter(item: BoardItem, after: BoardItem): void {
    this.insert(item, after);
  }

  private replace(old: BoardItem, item: BoardItem): void {
    const i = this._items.indexOf(old);
    this._items = i < 0 ? [...this._items, item] : [...this._items.slice(0, i), item, ...this._items.slice(i + 1)];
  }

  private remove(item: BoardItem): void {
    this._items = this._items.filter((i) => i !== item);
    this.changed();
  }

  private nextKey(): string {
    this.seq++;
    return `p${this.seq}`;
  }

  private setState(state: ConnectionState): void {
    this._state = state;
    this.changed();
  }

  private changed(): void {
    for (const l of this.listeners) {
      try {
        l();
      } catch (e) {
        // A broken view must not break the SIP side.
        console.error('portal listener threw', e);
      }
    }
  }
}

/** Resolves true once the transport is connected, false if its first attempt fails. */
function firstConnection(transport: WebSocketTransport): Promise<boolean> {
  return new Promise((resolve) => {
    const offOk = transport.on('connected', () => {
      offOk();
      offFail();
      resolve(true);
    });
    const offFail = transport.on('disconnected', () => {
      offOk();
      offFail();
      resolve(false);
    });
    transport.connect().catch(() => {
      offOk();
      offFail();
      resolve(false);
    });
  });
}

/** One REGISTER (with its digest retry): ok, or the refusal (or none, for no answer). */
function registerOnce(registration: Registration): Promise<{ ok: true } | { ok: false; response?: SipResponse }> {
  return new Promise((resolve) => {
    const offOk = registration.on('registered', () => {
      offOk();
      offFail();
      resolve({ ok: true });
    });
    const offFail = registration.on('failed', ({ response }) => {
      offOk();
      offFail();
      resolve(response ? { ok: false, response } : { ok: false });
    });
    registration.register().catch(() => {
      // Reported through `failed`.
    });
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('timeout')), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}

/**
 * A `+sip.instance` URN (RFC 5626 §4.1) for this tab: a random UUID (v4)
 * from `crypto.getRandomValues`, which unlike `randomUUID` works outside
 * secure contexts too.
 */
function newInstanceId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

