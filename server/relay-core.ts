import { isSipParseError } from '../sip/errors.js';
import { createResponse } from '../sip/message/create-response.js';
import type { HeaderInit } from '../sip/message/sip-message.js';
import { SipRequest } from '../sip/message/sip-request.js';
import type { SipResponse } from '../sip/message/sip-response.js';
import { serializeMessage } from '../sip/message/serializer.js';
import type { ServerInviteTransaction } from '../sip/transaction/server-invite-transaction.js';
import { TransactionLayer, type TransactionLayerHandler } from '../sip/transaction/transaction-layer.js';
import type { ServerTransaction } from '../sip/transaction/transaction-user.js';
import type { Flow, InboundError, Transport } from '../sip/transport/transport.js';
import { type Clock, systemClock } from '../sip/util/clock.js';
import { noopLogger, type SipLogger } from '../sip/util/logger.js';
import type { RelayConfig } from './config/relay-config-schema.js';
import type { ServiceConfig } from './config/service-config.js';
import { dialogReference } from './core/dialog-reference.js';
import { dialogMilestone, DialogRegistry, partyKey, type RelayedDialog } from './core/dialog-registry.js';
import { dialogFromSnapshot, type DialogSnapshot } from './core/dialog-snapshot.js';
import type { DialogClosedBy, DialogSupervision } from './core/dialog-supervision.js';
import { relayBye } from './core/relay-bye.js';
import { relayRequest } from './core/relay-request.js';
import type { AdmissionVerdict, SessionAdmission } from './core/session-admission.js';
import { newSessionId } from './core/session-id.js';
import {
  applySessionTimerToRequest,
  checkSessionTimerRequest,
  MIN_SESSION_INTERVAL_SECONDS,
  sessionExpiresOf,
  sessionTimerTermsOf2xx,
  type SessionTimerTerms,
} from './core/session-timer.js';
import { NextHopResolver, type HostResolver } from './proxy/next-hop-resolver.js';
import type { ProxyBranch } from './proxy/proxy-branch.js';
import { ProxyCore, type InDialogDirection } from './proxy/proxy-core.js';
import { isProxyError } from './proxy/proxy-error.js';
import type { ForkMode, ProxyTarget } from './proxy/proxy-target.js';
import { RecordRouteSigner, type RouteTokenData } from './proxy/record-route-token.js';
import { RelayAddresses } from './proxy/relay-addresses.js';
import type { ValidationFailure } from './proxy/request-validation.js';
import { ResponseContext, type ResponseContextOwner } from './proxy/response-context.js';
import type {
  AssertionContext,
  AuthenticatedParty,
  Authenticator,
  Binding,
  IdentityAsserter,
  InDialogVerdict,
  LocationService,
  Registrar,
  RoutingEngine,
  ServiceDirectory,
  ServiceTarget,
  SessionChangeDetails,
  SessionObserver,
} from './relay-ports.js';

/** The feature modules the core drives (server/relay-ports.ts). */
export interface RelayCorePorts {
  authenticator: Authenticator;
  registrar: Registrar;
  location: LocationService;
  directory: ServiceDirectory;
  routing: RoutingEngine;
  identity: IdentityAsserter;
  /** Accounting; optional (no records kept without it). */
  observer?: SessionObserver;
  /**
   * Session supervision (session timers, maximum duration, restart
   * recovery: server/sessions/); optional (no timers without it).
   */
  supervision?: DialogSupervision;
  /** Admission of new sessions (the credit check, 402); optional (everyone is admitted). */
  admission?: SessionAdmission;
}

/** Options of {@link RelayCore}. Every limit has a documented default. */
export interface RelayCoreOptions extends RelayCorePorts {
  /** The relay's transports; the core's transaction layer becomes their listener. */
  transport: Transport;
  /** Validated configuration: domains, timers, limits are read from it. */
  config: RelayConfig;
  /** Time source of every timer. Default the system clock. */
  clock?: Clock;
  logger?: SipLogger;
  /**
   * Secret of the Record-Route tokens (≥ 16 bytes). Default random per
   * process: in-dialog requests of dialogs made before a restart are then
   * refused (403). Give a stable one to keep dialogs across restarts.
   */
  recordRouteSecret?: Uint8Array | string;
  /** Other names and addresses of this relay (NAT address, interface addresses of a wildcard listener). */
  aliases?: readonly string[];
  /** Name resolution for next hops. Default the system resolver. */
  resolveHost?: HostResolver;
  /** Most server transactions at once (TransactionLayerOptions). Default the layer's (500 000). */
  maxServerTransactions?: number;
  /** Most live relayed dialogs; past it new sessions get 503. Default 200 000. */
  maxDialogs?: number;
  /** Retry-After of the 503 sent while draining. Default 30 s. */
  drainRetryAfterSeconds?: number;
  /**
   * Retry-After of the 503 for a service at its `maxSessions` (and for
   * the relay at `maxDialogs`). Default `drainRetryAfterSeconds`.
   */
  busyRetryAfterSeconds?: number;
  /** Timer C override in ms (default `config.timers.timerCSeconds`). */
  timerCMs?: number;
  /** `balance` no-answer failover, ms. Default 5 000 (ProxyCoreOptions.noAnswerMs). */
  noAnswerMs?: number;
  /** Random source for `balance` ties (tests). */
  random?: () => number;
  /** Receives exceptions from ports and callbacks; default: logged at error. */
  onError?: (error: unknown) => void;
}

/** A live dialog as reported for shutdown (`liveDialogs()`). */
export type LiveDialog = Readonly<RelayedDialog>;

const RELAY: InDialogVerdict = { action: 'relay' };

/** A request the relay sends itself could not be sent at all (no route, transport error). */
const NOT_SENT = -1;

/** Methods the relay knows; an unknown one out of dialog gets 501, a known one it does not serve 405. */
const KNOWN_METHODS: ReadonlySet<string> = new Set([
  'INVITE', 'ACK', 'CANCEL', 'BYE', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
]);
/** Out-of-dialog methods routed to services (and, from application servers, to users). */
const SERVICE_METHODS: ReadonlySet<string> = new Set(['INVITE', 'MESSAGE', 'SUBSCRIBE', 'REFER', 'OPTIONS']);
/** Methods that create dialogs the relay must stay in (§16.6 step 4). */
const DIALOG_CREATING: ReadonlySet<string> = new Set(['INVITE', 'SUBSCRIBE', 'REFER']);

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, MESSAGE, SUBSCRIBE, NOTIFY, REFER, INFO, UPDATE, PRACK';
const ACCEPT = 'application/sdp, application/vnd.siprelay.request+json, multipart/mixed';
/** Option tags the relay understands: outbound (its registrar, RFC 5626), Replaces and Target-Dialog (it links sessions by them). */
const SUPPORTED = 'outbound, replaces, tdialog';

/** Per context: what kind of request it forwards. */
type ContextData = ServiceContext | LocationContext | InDialogContext;

interface ServiceContext {
  kind: 'service';
  party: AuthenticatedParty;
  service: string;
  facts: Record<string, string | number | boolean>;
  forkGroup: string;
  linkedFrom: string | undefined;
  /** The session an INVITE with Replaces (RFC 3891) replaces: the relay ends it once the new one starts. */
  replaces: string | undefined;
  requestedAt: number;
  /** The Session-Expires the forwarded INVITE asks for (RFC 4028); 0 for other methods. */
  sessionExpires: number;
  /** The INVITE holds a place toward the session limits until its first dialog exists or it ends. */
  reserved: boolean;
}

interface LocationContext {
  kind: 'location';
  party: AuthenticatedParty;
  forkGroup: string;
}

interface InDialogContext {
  kind: 'in-dialog';
  dialog: RelayedDialog | undefined;
  /** Which side sent the request. */
  by: 'caller' | 'callee';
}

/** Per branch of a service or location request. */
interface BranchData {
  target: ServiceTarget | undefined;
  sessionId: string;
  /** Holds one unit of the target's load until a session ends or the attempt fails. */
  countsLoad: boolean;
  /** Dialogs this branch has produced (a second one gets its own session id). */
  dialogs: number;
}

/**
 * The relay's request pipeline (docs/architecture.md) over one
 * transaction layer and the proxy core: validation → Route processing →
 * in-dialog requests loose-routed by their signed Record-Route token →
 * out-of-dialog requests authenticated, routed to a service (or, from an
 * application server, to a user's registered contacts), identity
 * asserted per branch, forked by the service's mode; session milestones
 * reported to the {@link SessionObserver}, awaited where the observer
 * returns a promise ("store first, then relay").
 *
 * It is the {@link TransactionLayerHandler} of the layer it creates.
 */
export class RelayCore implements TransactionLayerHandler, ResponseContextOwner {
  readonly transactions: TransactionLayer;
  readonly proxy: ProxyCore;
  readonly addresses: RelayAddresses;
  readonly dialogs: DialogRegistry;
  readonly clock: Clock;
  readonly logger: SipLogger;
  private readonly ports: RelayCorePorts;
  private readonly observer: SessionObserver | undefined;
  private readonly supervision: DialogSupervision | undefined;
  private readonly admission: SessionAdmission | undefined;
  private readonly maxBranches: number;
  private readonly maxSessionsPerUser: number | null;
  private readonly minSessionExpires: number;
  private readonly drainRetryAfter: number;
  private readonly busyRetryAfter: number;
  /** Service INVITEs admitted and not yet answered, per service and per party (the session limits count them). */
  private readonly pendingByService = new Map<string, number>();
  private readonly pendingByParty = new Map<string, number>();
  private readonly onErrorOption: ((error: unknown) => void) | undefined;
  private _draining = false;
  /** Out-of-dialog requests between arrival and their context's end (or their local answer). */
  private inFlight = 0;
  private idleWaiters: Array<() => void> = [];

  constructor(options: RelayCoreOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('RelayCoreOptions must be an object');
    const { transport, config } = options;
    if (!transport || typeof transport.listen !== 'function') throw new TypeError('RelayCoreOptions.transport must be a Transport');
    if (!config || !Array.isArray(config.domains)) throw new TypeError('RelayCoreOptions.config must be a validated RelayConfig');
    for (const name of ['authenticator', 'registrar', 'location', 'directory', 'routing', 'identity'] as const) {
      if (!options[name] || typeof options[name] !== 'object') throw new TypeError(`RelayCoreOptions.${name} is required`);
    }
    const drain = options.drainRetryAfterSeconds ?? 30;
    if (!Number.isInteger(drain) || drain < 0) throw new TypeError('RelayCoreOptions.drainRetryAfterSeconds must be a non-negative integer');
    const busy = options.busyRetryAfterSeconds ?? drain;
    if (!Number.isInteger(busy) || busy < 0) throw new TypeError('RelayCoreOptions.busyRetryAfterSeconds must be a non-negative integer');
    for (const name of ['supervision', 'admission'] as const) {
      if (options[name] !== undefined && (options[name] === null || typeof options[name] !== 'object')) throw new TypeError(`RelayCoreOptions.${name} must be an object`);
    }
    this.ports = options;
    this.observer = options.observer;
    this.supervision = options.supervision;
    this.admission = options.admission;
    this.busyRetryAfter = busy;
    this.maxSessionsPerUser = config.limits.maxSessionsPerUser ?? null;
    this.minSessionExpires = Math.max(MIN_SESSION_INTERVAL_SECONDS, config.timers.minSessionExpiresSeconds ?? MIN_SESSION_INTERVAL_SECONDS);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.onErrorOption = options.onError;
    this.drainRetryAfter = drain;
    this.maxBranches = config.limits.maxBranchesPerRequest;
    const t = config.timers;
    this.transactions = new TransactionLayer({
      transport,
      handler: this,
      clock: this.clock,
      timers: { t1: t.t1Ms, t2: t.t2Ms, t4: t.t4Ms, timerC: options.timerCMs ?? t.timerCSeconds * 1000 },
      maxServerTransactions: options.maxServerTransactions,
      onError: (e) => this.reportError(e),
    });
    this.addresses = new RelayAddresses(transport, { domains: config.domains, aliases: options.aliases });
    this.proxy = new ProxyCore({
      transactions: this.transactions,
      addresses: this.addresses,
      signer: new RecordRouteSigner(options.recordRouteSecret),
      resolver: new NextHopResolver({ protocols: transport.protocols, resolveHost: options.resolveHost, clock: this.clock }),
      timerCMs: options.timerCMs,
      noAnswerMs: options.noAnswerMs,
      random: options.random,
      logger: this.logger,
      onError: (e) => this.reportError(e),
    });
    this.dialogs = new DialogRegistry(options.maxDialogs);
  }

  // ---- shutdown ---------------------------------------------------------------------

  /** True after {@link drain}. */
  get draining(): boolean {
    return this._draining;
  }

  /**
   * Stops taking new out-of-dialog requests: they get 503 with
   * Retry-After (§21.5.4). Requests in dialogs, CANCEL and ACK still flow,
   * so sessions can end and in-flight transactions finish.
   */
  drain(): void {
    this._draining = true;
  }

  /** Out-of-dialog requests still being handled (authenticating, forking, or waiting for a final response). */
  get inFlightRequests(): number {
    return this.inFlight;
  }

  /** Resolves once no out-of-dialog request is in flight (see {@link inFlightRequests}). */
  whenIdle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** The dialogs the relay relayed a 2xx for and has not seen end: what shutdown must end. */
  liveDialogs(): LiveDialog[] {
    return this.dialogs.snapshot().filter((d) => d.state !== 'refused');
  }

  /**
   * Ends a live dialog from the relay itself — shutdown, session timer,
   * maximum duration, credit, operator (server/sessions/): a BYE to each
   * side, built as the other side would send it ({@link relayBye}), over
   * the flow the dialog's token names or to the side's remote target
   * along its part of the route set. The dialog is forgotten at once
   * (requests that cross the BYEs are still routed by their token, but
   * report nothing; the supervision hears `closed`) and no `ended`
   * milestone is reported: whoever ends the session records why
   * (accounting's `end(sessionId, by, reason)`). Resolves with the final
   * status of each BYE: 0 when it could not be built (no Contact), 430
   * when the side's flow has closed, 408 when no answer came, 503 when it
   * could not be sent.
   *
   * `reason`: a Reason header value (RFC 3326), e.g.
   * `SIP;cause=503;text="shutdown: the relay is shutting down"`.
   */
  endDialog(dialog: LiveDialog | string, options: { reason?: string } = {}): Promise<{ caller: number; callee: number }> {
    const d = typeof dialog === 'string' ? this.dialogs.bySessionId(dialog) : this.dialogs.find(dialog.callId, dialog.callerTag, dialog.calleeTag);
    if (d === undefined) return Promise.resolve({ caller: 0, callee: 0 });
    this.forget(d, 'relay');
    const reason = options.reason;
    // A BYE that could not be sent at all stands as a transport error (§16.9: 503).
    const bye = (toward: 'caller' | 'callee') => this.sendRelayRequest(d, toward, 'BYE', { reason, cseq: 'next' }).then((s) => (s === NOT_SENT ? 503 : s));
    return Promise.all([bye('caller'), bye('callee')]).then(([caller, callee]) => ({ caller, callee }));
  }

  /**
   * Asks one side of a live dialog whether it still has it: an OPTIONS in
   * the dialog (RFC 3261 §11, §12.2), built like the relay's own BYE but
   * with a CSeq that never runs ahead of the side the relay speaks for
   * (see {@link relayRequest}). Resolves with the final status: any answer
   * but 481 (§12.2.1.2: the dialog is gone) means the side is there; 408
   * no answer, 430 its flow has closed, 503 it could not be sent, 0 no
   * Contact to send to, or it could not be sent (no route, connection
   * refused): the side cannot be reached. A 503 is the side's own answer.
   */
  probeDialog(dialog: LiveDialog | string, toward: 'caller' | 'callee'): Promise<number> {
    const d = typeof dialog === 'string' ? this.dialogs.bySessionId(dialog) : this.dialogs.find(dialog.callId, dialog.callerTag, dialog.calleeTag);
    if (d === undefined) return Promise.resolve(481);
    return this.sendRelayRequest(d, toward, 'OPTIONS', { cseq: 'current' }).then((s) => (s === NOT_SENT ? 0 : s));
  }

  /**
   * Puts a dialog rebuilt from its snapshot (server/core/dialog-snapshot.ts)
   * back into the registry after a restart, before the transport starts:
   * its in-dialog requests are then routed and reported as before, and
   * `endDialog` and `probeDialog` reach both sides (UDP and TCP peers by
   * address; a WebSocket client once it sends over its new connection).
   * Undefined when the snapshot does not hold together or the dialog is
   * known already.
   */
  restoreDialog(snapshot: DialogSnapshot, started: boolean): LiveDialog | undefined {
    const d = dialogFromSnapshot(snapshot, started);
    if (d === undefined || this.dialogs.bySessionId(d.sessionId) !== undefined) return undefined;
    return this.dialogs.add(d) ? d : undefined;
  }

  /** Forgets a dialog: out of the registry, its target's load released, the supervision told. */
  private forget(dialog: RelayedDialog, by: DialogClosedBy): void {
    if (!this.dialogs.remove(dialog)) return;
    this.releaseLoad(dialog);
    const supervision = this.supervision;
    if (supervision !== undefined && dialog.kind === 'service') {
      try {
        supervision.closed(dialog, by);
      } catch (e) {
        this.reportError(e);
      }
    }
  }

  /**
   * The flow toward one side of a dialog: the side's own flow when it has
   * one; for a restored dialog, only while that flow is open — else the
   * side is reached at its address (its remote target, as any proxy would).
   * Resolves with the final status, 0 when there was no Contact to send
   * to, {@link NOT_SENT} when the request could not be sent.
   */
  private sideFlowId(dialog: RelayedDialog, toward: 'caller' | 'callee'): string | undefined {
    const flowId = toward === 'caller' ? dialog.callerFlowId : dialog.calleeFlowId;
    if (flowId === undefined || !dialog.restored) return flowId;
    const f = this.transactions.transport.flowById(flowId);
    return f !== undefined && f.isOpen ? flowId : undefined;
  }

  private sendRelayRequest(dialog: RelayedDialog, toward: 'caller' | 'callee', method: 'BYE' | 'OPTIONS', options: { reason?: string; cseq: 'next' | 'current' }): Promise<number> {
    const addresses = this.addresses;
    const request = relayRequest(dialog, toward, method, (uri) => uri.user !== undefined && uri.lr && addresses.isLocalUri(uri), options);
    if (request === undefined) return Promise.resolve(0);
    const flowId = this.sideFlowId(dialog, toward);
    const transport = this.transactions.transport;
    let flow: Flow | Promise<Flow>;
    try {
      if (flowId !== undefined) {
        const f = transport.flowById(flowId);
        if (f === undefined || !f.isOpen) return Promise.resolve(430);
        flow = f;
      } else {
        const hop = this.proxy.resolver.resolve(this.proxy.nextHopUri(request));
        flow = hop instanceof Promise ? hop.then((ep) => transport.flowTo(ep)) : transport.flowTo(hop);
      }
    } catch (e) {
      this.logger.debug({ err: e, sessionId: dialog.sessionId, toward, method }, 'relay request not sent');
      // A side reachable only over a flow that is gone (a `.invalid` WebSocket Contact, RFC 7118 §5.2) has lost it.
      return Promise.resolve(isProxyError(e) && e.code === 'PROXY_ERR_UNRESOLVABLE' && this.nextHopIsInvalid(request) ? 430 : NOT_SENT);
    }
    return Promise.resolve(flow).then(
      (f) =>
        new Promise<number>((resolve) => {
          try {
            this.transactions.sendRequest(request, f, {
              onResponse: (r) => {
                if (r.status >= 200) resolve(r.status);
              },
              onTimeout: () => resolve(408),
              onTransportError: () => resolve(NOT_SENT),
              onTerminated: () => resolve(408),
            });
          } catch (e) {
            // The layer is closing: nothing can be sent any more.
            this.logger.debug({ err: e, sessionId: dialog.sessionId, toward, method }, 'relay request not sent');
            resolve(NOT_SENT);
          }
        }),
      (e: unknown) => {
        this.logger.debug({ err: e, sessionId: dialog.sessionId, toward, method }, 'relay request not sent');
        return NOT_SENT;
      },
    );
  }

  private nextHopIsInvalid(request: SipRequest): boolean {
    try {
      const uri = this.proxy.nextHopUri(request);
      return uri.kind === 'sip' && uri.hostname.endsWith('.invalid');
    } catch {
      return false;
    }
  }

  /** Ends every transaction and closes the transport (TransactionLayer.close). */
  close(): Promise<void> {
    return this.transactions.close();
  }

  private begin(): void {
    this.inFlight++;
  }

  private done(): void {
    if (--this.inFlight > 0) return;
    this.inFlight = 0;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  // ---- TransactionLayerHandler ----------------------------------------------------------

  onRequest(request: SipRequest, tx: ServerTransaction, flow: Flow): void {
    const method = request.method;
    if (method === 'CANCEL') return this.handleCancel(request, tx);
    const toTag = request.to.tag;
    const toRelay = toTag === undefined && this.isAddressedToRelay(request);
    const localOptions = toRelay && method === 'OPTIONS';
    // §16.3: scheme, escaped URI headers, Max-Forwards, Proxy-Require.
    const failure = this.proxy.validate(request, localOptions);
    if (failure !== undefined) return this.fail(tx, request, failure);
    // §16.4: Route processing.
    let routing;
    try {
      routing = this.proxy.processRoutes(request);
    } catch (e) {
      if (!isSipParseError(e)) throw e;
      return this.reply(tx, request, 400, 'Bad Route');
    }
    // §16.3 step 4: loops.
    const loopToken = this.proxy.loopToken(request);
    if (this.proxy.isLooped(request, loopToken)) return this.reply(tx, request, 482);
    if (toTag !== undefined) return this.inDialog(request, tx, flow, routing.token, loopToken);
    if (this._draining) return this.reply(tx, request, 503, undefined, [['Retry-After', String(this.drainRetryAfter)]]);
    if (localOptions) return this.answerOptions(tx, request);
    if (method === 'REGISTER') {
      this.begin();
      this.register(request, tx, flow).then(
        () => this.done(),
        (e: unknown) => this.failed(e, tx, request),
      );
      return;
    }
    if (SERVICE_METHODS.has(method)) {
      this.begin();
      this.outOfDialog(request, tx, flow, loopToken).catch((e: unknown) => this.failed(e, tx, request));
      return;
    }
    // Requests that exist only inside dialogs, or that the relay does not serve.
    if (method === 'BYE' || method === 'INFO' || method === 'UPDATE' || method === 'PRACK' || method === 'NOTIFY') {
      return this.reply(tx, request, 481);
    }
    if (KNOWN_METHODS.has(method)) return this.reply(tx, request, 405, undefined, [['Allow', ALLOW]]);
    return this.reply(tx, request, 501, undefined, [['Allow', ALLOW]]);
  }

  onAck(ack: SipRequest, flow: Flow, _tx?: ServerInviteTransaction): void {
    // An ACK for a 2xx is its own transaction and has no response (§17.1.1.3): anything wrong drops it.
    if (ack.maxForwards === 0) return;
    if (ack.to.tag === undefined) return;
    let routing;
    try {
      routing = this.proxy.processRoutes(ack);
    } catch {
      return;
    }
    if (routing.token === undefined) return;
    const data = this.proxy.verifyToken(routing.token, ack.callId);
    if (data === undefined) {
      this.logger.info({ flow: flow.id, remote: flow.remote, callId: ack.callId }, 'ACK with a forged or foreign Record-Route token dropped');
      return;
    }
    const loopToken = this.proxy.loopToken(ack);
    if (this.proxy.isLooped(ack, loopToken)) return;
    const dialog = this.dialogs.find(ack.callId, ack.from.tag, ack.to.tag);
    const direction = this.directionOf(data, flow, ack, dialog);
    const target: ProxyTarget = { flowId: direction.flowId };
    this.ports.identity.stripClientIdentity(ack);
    if (dialog !== undefined && dialog.kind === 'service' && direction.toward === 'callee') {
      if (dialog.state === 'starting') return; // its `started` is being stored; the UAC resends the ACK with the 2xx
      if (dialog.state === 'answered' && ack.cseq.seq === dialog.inviteCSeq) {
        dialog.state = 'starting';
        const started = this.callObserver('started', dialog);
        if (started === undefined) {
          this.dialogStarted(dialog);
          this.forwardAck(ack, target, loopToken);
        } else {
          started.then(
            (ok) => {
              if (ok) {
                this.dialogStarted(dialog);
                this.forwardAck(ack, target, loopToken);
              } else if (dialog.state === 'starting') dialog.state = 'answered';
            },
            (e: unknown) => this.reportError(e),
          );
        }
        return;
      }
    }
    this.forwardAck(ack, target, loopToken);
  }

  onStrayResponse(response: SipResponse, _flow: Flow): void {
    // RFC 6026 §8.4 / §16.7: only 2xx to INVITE are forwarded without a transaction, and only for
    // dialogs the relay knows (a 2xx of an attempt the relay gave up on must not open a session
    // it has no record of; the UAS ends it when no ACK comes, §13.3.1.4).
    if (response.status < 200 || response.status >= 300 || response.cseq.method !== 'INVITE') return;
    const dialog = this.dialogs.find(response.callId, response.from.tag, response.to.tag);
    if (dialog === undefined) return;
    const fromTag = response.from.tag;
    const flowId = fromTag === dialog.callerTag ? dialog.callerFlowId : dialog.calleeFlowId;
    const flow = flowId === undefined ? undefined : this.transactions.transport.flowById(flowId);
    if (response.cseq.seq === dialog.inviteCSeq) addSessionExpires(response, dialog);
    this.proxy.forwardStrayResponse(response, flow);
  }

  onParseError(inbound: InboundError): void {
    const { error, flow } = inbound;
    const partial = error.partial;
    if (error.status === 0 || !(partial instanceof SipRequest) || partial.method === 'ACK') return;
    if (!partial.hasHeader('via') || !partial.hasHeader('call-id') || !partial.hasHeader('cseq')) return;
    // RFC 4475 §3.1.2.18 (mismatch02): an unknown method whose CSeq names another is best answered
    // 501, "especially at proxies"; a known method with a mismatched CSeq is malformed (400).
    const status = error.code === 'SIP_ERR_CSEQ_METHOD' && !KNOWN_METHODS.has(partial.method) ? 501 : error.status;
    let response: SipResponse;
    try {
      response = createResponse(partial, status, status === 501 ? { headers: [['Allow', ALLOW]] } : undefined);
    } catch {
      return;
    }
    // Back to the source only: a Via that did not parse must not steer replies elsewhere.
    flow.send(serializeMessage(response));
  }

  onFlowClosed(flow: Flow): void {
    this.ports.location.flowClosed(flow.id);
    this.ports.directory.flowClosed?.(flow.id);
    // Sessions whose caller was on this connection cannot reach it until it
    // comes back (a browser reconnects and sends in the dialog again).
    if (!flow.reliable || this.supervision?.callerFlowLost === undefined) return;
    for (const dialog of this.dialogs.snapshot()) {
      if (dialog.callerFlowId === flow.id) this.supervision.callerFlowLost(dialog);
    }
  }

  // ---- CANCEL (§16.10) -------------------------------------------------------------------

  private handleCancel(cancel: SipRequest, tx: ServerTransaction): void {
    const invite = this.transactions.findInviteForCancel(cancel);
    if (invite === undefined) {
      // §16.10 would forward it statelessly; the relay forwards nothing it did not authenticate,
      // and without a matching INVITE there is nothing of its own to cancel.
      return this.reply(tx, cancel, 481);
    }
    // "the proxy MUST respond to the CANCEL with a 200 (OK)" — and then cancel.
    this.reply(tx, cancel, 200);
    const user = invite.user;
    if (user instanceof ResponseContext) user.cancel();
    else if (invite.lastStatus < 200) {
      // Still authenticating or routing: no branch exists yet, so the relay answers 487 itself.
      invite.respond(createResponse(invite.request, 487, { toTag: localTag() }));
    }
  }

  // ---- in-dialog requests ------------------------------------------------------------------

  private inDialog(request: SipRequest, tx: ServerTransaction, flow: Flow, token: string | undefined, loopToken: string): void {
    if (token === undefined) {
      // Not routed through a Record-Route of this relay: nothing reaches an application server
      // without having been authorized, so only a request for the relay itself is told it has no dialog.
      if (this.isAddressedToRelay(request)) return this.reply(tx, request, 481);
      return this.reply(tx, request, 403, 'Not Routed By This Relay');
    }
    const data = this.proxy.verifyToken(token, request.callId);
    if (data === undefined) {
      this.logger.info({ flow: flow.id, remote: flow.remote, method: request.method, callId: request.callId }, 'in-dialog request with a forged or foreign Record-Route token refused');
      return this.reply(tx, request, 403, 'Not Routed By This Relay');
    }
    const method = request.method;
    if (method === 'INVITE' || method === 'UPDATE') {
      // RFC 4028 §8.1: a session refresh asking for less than the relay's minimum is refused.
      const timer = checkSessionTimerRequest(request, this.minSessionExpires);
      if (timer.action === 'too-small') return this.reply(tx, request, 422, undefined, [['Min-SE', String(timer.minSe)]]);
      if (timer.action === 'malformed') return this.reply(tx, request, 400, 'Bad Session-Expires');
    }
    const dialog = this.dialogs.find(request.callId, request.from.tag, request.to.tag);
    const direction = this.directionOf(data, flow, request, dialog);
    const by = direction.toward === 'callee' ? 'caller' : 'callee';
    // Identity is the relay's to assert, inside dialogs too (issue 3 item 7).
    this.ports.identity.stripClientIdentity(request);
    if (dialog !== undefined) {
      const seq = request.cseq.seq;
      // A side's new request carries its current CSeq: from now on the relay knows it (relayRequest).
      if (by === 'caller') {
        if (seq > dialog.callerCSeq) dialog.callerCSeq = seq;
        dialog.callerCSeqStale = false;
      } else {
        if (seq > dialog.calleeCSeq) dialog.calleeCSeq = seq;
        dialog.calleeCSeqStale = false;
      }
      if (dialog.resumePending) this.resume(dialog);
    }
    // §16.2: a stateful proxy answers an INVITE with 100 itself; the far end's 100 is not relayed.
    if (request.method === 'INVITE') tx.respond(createResponse(request, 100));
    const ctxData: InDialogContext = { kind: 'in-dialog', dialog, by };
    const observer = this.observer;
    if (dialog !== undefined && dialog.kind === 'service' && observer?.inDialogRequest !== undefined) {
      let verdict: Promise<InDialogVerdict> | void;
      try {
        verdict = observer.inDialogRequest(request, dialogMilestone(dialog), by);
      } catch (e) {
        this.reportError(e);
        verdict = undefined;
      }
      if (verdict !== undefined && typeof verdict.then === 'function') {
        verdict.then(
          (v) => this.afterVerdict(v, request, tx, flow, direction.flowId, ctxData, loopToken),
          (e: unknown) => {
            this.reportError(e);
            this.afterVerdict(RELAY, request, tx, flow, direction.flowId, ctxData, loopToken);
          },
        );
        return;
      }
    }
    this.forwardInDialog(request, tx, flow, direction.flowId, ctxData, loopToken);
  }

  /**
   * Which way an in-dialog request or ACK goes. By its Record-Route token
   * (RFC 5626 §5.3: from the caller's flow toward the callee, from
   * anywhere else toward the caller over the caller's flow) — except in a
   * dialog restored after a restart, whose token names flows of the
   * previous process: there the From tag tells the sender (§12.2.1.1),
   * whose side is re-bound to the flow the request came over, and the
   * other side is reached over its own flow while that one is open, else
   * at its address.
   */
  private directionOf(data: RouteTokenData, flow: Flow, message: SipRequest, dialog: RelayedDialog | undefined): InDialogDirection {
    if (dialog === undefined) return this.proxy.inDialogDirection(data, flow);
    if (!dialog.restored) {
      if (flow.id === dialog.callerFlowId) return { toward: 'callee', flowId: dialog.calleeFlowId ?? data.calleeFlowId };
      if (flow.id !== data.callerFlowId && flow.reliable && message.from.tag === dialog.callerTag && flow.id !== dialog.calleeFlowId) {
        // The caller is back on a new connection (a browser that reconnected):
        // the request carries the dialog's signed Route, so the dialog is
        // re-bound to the connection it came over, as an edge proxy recovers
        // a flow (RFC 5626 §4.2).
        dialog.callerFlowId = flow.id;
        this.supervision?.callerFlowRegained?.(dialog);
        return { toward: 'callee', flowId: dialog.calleeFlowId ?? data.calleeFlowId };
      }
      const toward = this.proxy.inDialogDirection(data, flow);
      return toward.toward === 'caller' ? { toward: 'caller', flowId: dialog.callerFlowId } : toward;
    }
    if (message.from.tag === dialog.callerTag) {
      dialog.callerFlowId = flow.id;
      return { toward: 'callee', flowId: this.sideFlowId(dialog, 'callee') };
    }
    // A callee reached at its address stays so; one reached over its flow (a registered application server) gets the new one.
    if (dialog.calleeFlowId !== undefined) dialog.calleeFlowId = flow.id;
    return { toward: 'caller', flowId: this.sideFlowId(dialog, 'caller') };
  }

  /** A restored dialog's first request since the restart: it carries on (the supervision adopts its session). */
  private resume(dialog: RelayedDialog): void {
    dialog.resumePending = false;
    if (this.supervision === undefined || dialog.kind !== 'service') return;
    try {
      this.supervision.resumed(dialog);
    } catch (e) {
      this.reportError(e);
    }
  }

  private afterVerdict(
    verdict: InDialogVerdict,
    request: SipRequest,
    tx: ServerTransaction,
    flow: Flow,
    flowId: string | undefined,
    data: InDialogContext,
    loopToken: string,
  ): void {
    // A CANCEL (of a re-INVITE) may have answered it meanwhile.
    if (tx.lastStatus >= 200) return;
    if (verdict.action === 'respond') {
      this.reply(tx, request, verdict.status, verdict.reason, verdict.headers);
      // The relay answered the sender itself and still shows the request to the other side, whose
      // answer it absorbs (the transaction is answered already): a stored charge INFO (docs/wire-contracts.md).
      if (verdict.forward === true) this.forwardInDialog(request, tx, flow, flowId, data, loopToken);
      return;
    }
    this.forwardInDialog(request, tx, flow, flowId, data, loopToken);
  }

  private forwardInDialog(request: SipRequest, tx: ServerTransaction, flow: Flow, flowId: string | undefined, data: InDialogContext, loopToken: string): void {
    const context = this.proxy.createContext(tx, request, flow, this, 'single', { loopToken, recordRoute: false });
    context.data = data;
    context.start([{ flowId }]);
  }

  private forwardAck(ack: SipRequest, target: ProxyTarget, loopToken: string): void {
    try {
      const sent = this.proxy.forwardStateless(ack, target, loopToken);
      if (sent !== undefined) sent.catch((e: unknown) => this.ackNotForwarded(ack, e));
    } catch (e) {
      this.ackNotForwarded(ack, e);
    }
  }

  private ackNotForwarded(ack: SipRequest, e: unknown): void {
    if (isProxyError(e)) this.logger.debug({ err: e, callId: ack.callId }, 'ACK not forwarded');
    else this.reportError(e);
  }

  // ---- out-of-dialog requests ----------------------------------------------------------------

  private async register(request: SipRequest, tx: ServerTransaction, flow: Flow): Promise<void> {
    const uri = request.uri;
    // §10.3 step 1: the relay registers only for its own domains and addresses (as the registrar answers, 404).
    if (uri.kind !== 'sip' || !this.addresses.isServedHost(uri.host)) return this.reply(tx, request, 404, 'Not A Domain Of This Registrar');
    const outcome = await this.ports.authenticator.authenticate(request, flow, 'www');
    if (tx.lastStatus >= 200) return;
    if (outcome.kind === 'respond') return this.respond(tx, outcome.response);
    const response = await this.ports.registrar.register(request, flow, outcome.party);
    this.respond(tx, response);
  }

  /**
   * INVITE, MESSAGE, SUBSCRIBE, REFER and OPTIONS outside a dialog: linking
   * (Replaces / Target-Dialog), authentication, routing to a service or a
   * user, identity assertion, forking.
   */
  private async outOfDialog(request: SipRequest, tx: ServerTransaction, flow: Flow, loopToken: string): Promise<void> {
    const isInvite = request.method === 'INVITE';
    if (isInvite) {
      // RFC 4028 §8.1: an interval below the relay's minimum is refused before anything else is spent on it.
      const timer = checkSessionTimerRequest(request, this.minSessionExpires);
      if (timer.action === 'too-small') return this.finish(tx, request, 422, undefined, [['Min-SE', String(timer.minSe)]]);
      if (timer.action === 'malformed') return this.finish(tx, request, 400, 'Bad Session-Expires');
    }
    const ref = dialogReference(request);
    if (ref === 'malformed') return this.finish(tx, request, 400, 'Bad Replaces Or Target-Dialog');
    let linked: RelayedDialog | undefined;
    if (ref !== undefined) {
      linked = this.dialogs.find(ref.callId, ref.tags[0], ref.tags[1]);
      // RFC 3891 §3 / RFC 4538 §5: a reference to a dialog that does not exist is 481.
      if (linked === undefined || linked.kind !== 'service') return this.finish(tx, request, 481, 'Referenced Dialog Does Not Exist');
    }
    const uri = request.uri;
    let party: AuthenticatedParty;
    if (linked !== undefined && this.isLinkedByFlow(request, flow, linked)) {
      party = linked.party;
    } else {
      const challenge = uri.kind === 'sip' && this.addresses.isServedHost(uri.host) ? 'www' : 'proxy';
      const outcome = await this.ports.authenticator.authenticate(request, flow, challenge);
      if (tx.lastStatus >= 200) return this.done();
      if (outcome.kind === 'respond') {
        this.respond(tx, outcome.response);
        return this.done();
      }
      party = outcome.party;
      if (linked !== undefined && !this.isLinkedUser(request, party, linked)) {
        return this.finish(tx, request, 403, 'Not The User Of The Referenced Dialog');
      }
    }
    if (tx.lastStatus >= 200) return this.done();
    // Nothing the client says about who it is, or credentials meant for the relay, goes on.
    this.ports.identity.stripClientIdentity(request);
    request.removeHeader('authorization');
    request.removeHeader('proxy-authorization');
    // The relay alone decides where a service request goes: a Route the client preloaded past the
    // relay (§8.1.2) would send the asserted request, token and all, wherever the client likes.
    request.removeHeader('route');
    let replaces: string | undefined;
    if (isInvite && linked !== undefined && ref !== undefined && ref.header === 'replaces') {
      // RFC 3891 asks the recipient to end the replaced dialog. The new
      // service's application server may not be the one that holds it (a
      // user moving from the wine shop to the lesson), and would answer 481:
      // the relay keeps the header to itself and ends the old session once
      // the new one starts (docs/protocol.md, flow 8).
      replaces = linked.sessionId;
      request.removeHeader('replaces');
      const required = request.optionTags('require').filter((t) => t !== 'replaces');
      if (required.length) request.setHeader('Require', required.join(', '));
      else request.removeHeader('require');
    }
    // Requests from an application server to a subscriber go to the subscriber's registered contacts.
    if (party.kind === 'app-server' && uri.kind === 'sip' && uri.user !== undefined && this.addresses.isServedHost(uri.host)) {
      const bindings = await this.ports.location.lookup(uri.userDecoded + '@' + uri.hostname);
      if (tx.lastStatus >= 200) return this.done();
      if (bindings.length) return this.forwardToBindings(request, tx, flow, party, bindings, loopToken);
    }
    const decision = this.ports.routing.route(request, party);
    if (decision === undefined) return this.finish(tx, request, 404, 'No Such Service');
    const lookup = this.ports.directory.lookup(decision.service);
    if (!lookup.known || lookup.service === undefined) return this.finish(tx, request, 404, 'No Such Service');
    if (lookup.targets.length === 0) {
      return this.finish(tx, request, 480, undefined, [['Retry-After', String(this.ports.directory.retryAfterSeconds(decision.service))]]);
    }
    const service = lookup.service;
    let reserved = false;
    let sessionExpires = 0;
    if (isInvite) {
      const limit = this.sessionLimit(service, party, ref !== undefined && ref.header === 'replaces');
      if (limit !== undefined) return this.finish(tx, request, limit.status, limit.reason, limit.headers);
      this.reserve(service.name, party, 1);
      reserved = true;
      if (this.admission !== undefined) {
        let verdict: AdmissionVerdict;
        try {
          verdict = await this.admission.admit(party, service, request);
        } catch (e) {
          if (reserved) this.reserve(service.name, party, -1);
          throw e;
        }
        if (tx.lastStatus >= 200 || !verdict.admitted) {
          if (reserved) this.reserve(service.name, party, -1);
          if (!verdict.admitted) return this.finish(tx, request, verdict.status, verdict.reason, verdict.headers);
          return this.done();
        }
      }
      // RFC 4028 §8.1: the relay wants the session refreshed at least every `sessionTimerSeconds`.
      sessionExpires = applySessionTimerToRequest(request, service.sessionTimerSeconds, this.minSessionExpires);
    }
    const mode = this.forkMode(request, service);
    const targets = lookup.targets.length > this.maxBranches ? lookup.targets.slice(0, this.maxBranches) : lookup.targets;
    const forkGroup = newSessionId();
    const proxyTargets: ProxyTarget[] = targets.map((t) => ({
      uri: t.uri,
      flowId: t.flowId,
      weight: t.weight,
      load: t.load,
      key: t.appServer + ' ' + t.uri.toString(),
      data: { target: t, sessionId: '', countsLoad: false, dialogs: 0 } satisfies BranchData,
    }));
    if (request.method === 'INVITE' && tx.lastStatus === 0) tx.respond(createResponse(request, 100));
    const context = this.proxy.createContext(tx, request, flow, this, mode, { loopToken, recordRoute: DIALOG_CREATING.has(request.method) });
    const data: ServiceContext = {
      kind: 'service',
      party,
      service: decision.service,
      facts: decision.facts,
      forkGroup,
      linkedFrom: linked?.sessionId,
      replaces,
      requestedAt: this.clock.wallNow(),
      sessionExpires,
      reserved,
    };
    context.data = data;
    context.start(proxyTargets);
  }

  /**
   * The answer to a new session over its limits, or undefined:
   * `maxDialogs` of the relay (503), `maxSessions` of the service (503
   * with Retry-After: it frees up as sessions end), and
   * `limits.maxSessionsPerUser` (403: this user has too many; retrying
   * does not help until one of them ends, and 486 would read as the
   * service being busy). Live dialogs count, and INVITEs admitted but not
   * answered yet. An INVITE that replaces one of the user's sessions
   * (RFC 3891) is not held to the per-user limit: the replaced one ends.
   */
  private sessionLimit(service: ServiceConfig, party: AuthenticatedParty, replaces: boolean): { status: number; reason: string; headers?: HeaderInit } | undefined {
    const busy: HeaderInit = [['Retry-After', String(this.busyRetryAfter)]];
    if (this.dialogs.isFull) return { status: 503, reason: 'Too Many Sessions', headers: busy };
    const max = service.maxSessions;
    if (max !== null && max !== undefined && this.dialogs.countOfService(service.name) + (this.pendingByService.get(service.name) ?? 0) >= max) {
      return { status: 503, reason: 'Service Full', headers: busy };
    }
    const perUser = this.maxSessionsPerUser;
    if (perUser !== null && party.kind === 'subscriber' && !replaces) {
      const key = partyKey(party);
      if (this.dialogs.countOfParty(key) + (this.pendingByParty.get(key) ?? 0) >= perUser) return { status: 403, reason: 'Too Many Sessions For This User' };
    }
    return undefined;
  }

  /** Holds (+1) or releases (-1) a pending INVITE's place toward the session limits. */
  private reserve(service: string, party: AuthenticatedParty, delta: 1 | -1): void {
    bump(this.pendingByService, service, delta);
    if (party.kind === 'subscriber') bump(this.pendingByParty, partyKey(party), delta);
  }

  private releaseReservation(data: ServiceContext): void {
    if (!data.reserved) return;
    data.reserved = false;
    this.reserve(data.service, data.party, -1);
  }

  /** Parallel fork to a subscriber's registered contacts, for a request from an application server. */
  private forwardToBindings(request: SipRequest, tx: ServerTransaction, flow: Flow, party: AuthenticatedParty, bindings: Binding[], loopToken: string): void {
    const targets: ProxyTarget[] = [];
    for (const b of bindings) {
      if (targets.length >= this.maxBranches) break;
      // A `.invalid` contact (RFC 7118 §5.2) is reachable only over the flow it registered on.
      if (b.flowId === undefined && b.contact.host.toLowerCase().endsWith('.invalid')) continue;
      targets.push({ uri: b.contact, flowId: b.flowId, data: { target: undefined, sessionId: '', countsLoad: false, dialogs: 0 } satisfies BranchData });
    }
    if (targets.length === 0) return this.finish(tx, request, 480);
    if (request.method === 'INVITE' && tx.lastStatus === 0) tx.respond(createResponse(request, 100));
    const context = this.proxy.createContext(tx, request, flow, this, targets.length > 1 ? 'race' : 'single', {
      loopToken,
      recordRoute: DIALOG_CREATING.has(request.method),
    });
    const data: LocationContext = { kind: 'location', party, forkGroup: newSessionId() };
    context.data = data;
    context.start(targets);
  }

  /** The service's mode, or `all` when the client asks for no-cancel and the service allows it (RFC 3841 §9.1). */
  private forkMode(request: SipRequest, service: ServiceConfig): ForkMode {
    if (service.allowNoCancel && request.hasHeader('request-disposition')) {
      for (const d of request.headerList('request-disposition')) if (d.toLowerCase() === 'no-cancel') return 'all';
    }
    return service.fork;
  }

  /**
   * A request that refers to a dialog may ride on that dialog's
   * authorization without new credentials when it comes over the very
   * connection the dialog's caller used (a reliable flow: TCP, TLS, WS or
   * WSS, whose source cannot be spoofed as a UDP source can) and its From
   * names the same user.
   */
  private isLinkedByFlow(request: SipRequest, flow: Flow, dialog: RelayedDialog): boolean {
    return flow.reliable && flow.id === dialog.callerFlowId && this.isLinkedUser(request, dialog.party, dialog);
  }

  /** The request's From and `party` are the user of `dialog` (a subscriber). */
  private isLinkedUser(request: SipRequest, party: AuthenticatedParty, dialog: RelayedDialog): boolean {
    const owner = dialog.party;
    if (owner.kind !== 'subscriber' || party.kind !== owner.kind || party.id !== owner.id) return false;
    const from = request.from.uri;
    return from.kind === 'sip' && from.userDecoded === owner.username && from.hostname === owner.domain.toLowerCase();
  }

  // ---- ResponseContextOwner ------------------------------------------------------------------

  branchStarting(ctx: ResponseContext, branch: ProxyBranch): void {
    const data = ctx.data as ContextData;
    if (data.kind === 'in-dialog') return;
    const b = branch.data as BranchData;
    b.sessionId = newSessionId();
    if (data.kind === 'service') {
      const context: AssertionContext = {
        party: data.party,
        service: data.service,
        facts: data.facts,
        sessionId: b.sessionId,
        forkGroup: data.forkGroup,
        target: b.target as ServiceTarget,
      };
      if (data.linkedFrom !== undefined) context.linkedFrom = data.linkedFrom;
      this.ports.identity.assert(branch.request, context);
    }
  }

  branchSent(context: ResponseContext, branch: ProxyBranch): void {
    const data = context.data as ContextData;
    if (data.kind !== 'service' || !context.isInvite) return;
    const b = branch.data as BranchData;
    const target = b.target as ServiceTarget;
    b.countsLoad = true;
    this.ports.directory.adjustLoad(target, 1);
    const observer = this.observer;
    if (observer?.attemptStarted) {
      try {
        observer.attemptStarted({
          sessionId: b.sessionId,
          forkGroup: data.forkGroup,
          callId: context.request.callId,
          callerTag: context.request.from.tag ?? '',
          party: data.party,
          service: data.service,
          target,
          linkedFrom: data.linkedFrom,
          requestedAt: this.clock.wallNow(),
        });
      } catch (e) {
        this.reportError(e);
      }
    }
  }

  branchFailed(context: ResponseContext, branch: ProxyBranch, status: number): void {
    const data = context.data as ContextData;
    if (data.kind !== 'service' || !context.isInvite) return;
    const b = branch.data as BranchData;
    if (b.countsLoad) {
      b.countsLoad = false;
      this.ports.directory.adjustLoad(b.target as ServiceTarget, -1);
    }
    if (b.sessionId === '' || branch.state === 'pending') return;
    const observer = this.observer;
    if (observer?.failed && branch.tx !== undefined) {
      try {
        observer.failed(
          {
            sessionId: b.sessionId,
            forkGroup: data.forkGroup,
            callId: context.request.callId,
            callerTag: context.request.from.tag ?? '',
            party: data.party,
            service: data.service,
            target: b.target as ServiceTarget,
            linkedFrom: data.linkedFrom,
          },
          // "487 for CANCEL" whatever the branch itself said.
          context.isCancelled ? 487 : status,
        );
      } catch (e) {
        this.reportError(e);
      }
    }
  }

  contextEnded(context: ResponseContext): void {
    const data = context.data as ContextData;
    if (data.kind === 'in-dialog') return;
    if (data.kind === 'service') this.releaseReservation(data);
    this.done();
  }

  beforeRelay(context: ResponseContext, branch: ProxyBranch | undefined, response: SipResponse): boolean | Promise<boolean> {
    const data = context.data as ContextData;
    const status = response.status;
    if (data.kind === 'in-dialog') return this.beforeRelayInDialog(context, data, response);
    if (!context.isInvite || status >= 300 || branch === undefined) return true;
    // A 2xx to a dialog-creating INVITE: a new dialog, or a retransmission of one.
    const toTag = response.to.tag;
    if (toTag === undefined) return true;
    const existing = this.dialogs.find(response.callId, response.from.tag, toTag);
    if (existing !== undefined) {
      // A retransmission carries what the relay added to the first one (RFC 4028 §8.2).
      addSessionExpires(response, existing);
      return existing.state !== 'answering' && existing.state !== 'refused';
    }
    const dialog = this.newDialog(context, data, branch, response, toTag);
    if (data.kind === 'service') this.releaseReservation(data);
    if (dialog === undefined) {
      context.refuseAnswer(503);
      return false;
    }
    if (data.kind !== 'service') {
      dialog.state = 'answered';
      return true;
    }
    // RFC 4028 §8.2: the terms the UAs agreed on, or the relay's own interval.
    const hadSessionExpires = response.hasHeader('session-expires');
    dialog.sessionTimer = sessionTimerTermsOf2xx(context.request, response, data.sessionExpires, this.minSessionExpires);
    if (!hadSessionExpires && response.hasHeader('session-expires')) dialog.addedSessionExpires = response.header('session-expires');
    const answered = this.callObserver('answered', dialog);
    const supervised = this.superviseAnswer(dialog, dialog.sessionTimer);
    if (answered === undefined && supervised === undefined) {
      dialog.state = 'answered';
      return true;
    }
    const stored = supervised === undefined ? answered! : answered === undefined ? supervised.then(() => true) : Promise.all([answered, supervised]).then(([ok]) => ok);
    return stored.then((ok) => {
      if (ok) dialog.state = 'answered';
      else this.refuseDialog(context, dialog);
      return ok;
    });
  }

  /** Tells the supervision about a new service dialog; a promise (its snapshot being stored) that never rejects, or undefined. */
  private superviseAnswer(dialog: RelayedDialog, terms: SessionTimerTerms): Promise<void> | undefined {
    const supervision = this.supervision;
    if (supervision === undefined) return undefined;
    let result: Promise<void> | void;
    try {
      result = supervision.answered(dialog, terms);
    } catch (e) {
      this.reportError(e);
      return undefined;
    }
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') return undefined;
    return (result as Promise<void>).then(undefined, (e: unknown) => this.reportError(e));
  }

  private beforeRelayInDialog(context: ResponseContext, data: InDialogContext, response: SipResponse): boolean | Promise<boolean> {
    const dialog = data.dialog;
    if (dialog === undefined || this.dialogs.find(dialog.callId, dialog.callerTag, dialog.calleeTag) !== dialog) return true;
    const observer = this.observer;
    if (response.status >= 200 && dialog.kind === 'service' && observer?.inDialogResponse !== undefined) {
      let seen: Promise<void> | void = undefined;
      try {
        seen = observer.inDialogResponse(context.request, response, dialogMilestone(dialog), data.by);
      } catch (e) {
        this.reportError(e);
      }
      if (seen !== undefined && typeof seen.then === 'function') {
        return seen.then(
          () => this.inDialogMilestones(context, data, dialog, response),
          (e: unknown) => {
            this.reportError(e);
            return this.inDialogMilestones(context, data, dialog, response);
          },
        );
      }
    }
    return this.inDialogMilestones(context, data, dialog, response);
  }

  /** `ended` for a final response to BYE, `changed` for a 2xx to re-INVITE or UPDATE. */
  private inDialogMilestones(context: ResponseContext, data: InDialogContext, dialog: RelayedDialog, response: SipResponse): boolean | Promise<boolean> {
    if (this.dialogs.find(dialog.callId, dialog.callerTag, dialog.calleeTag) !== dialog) return true;
    const method = context.request.method;
    const status = response.status;
    if (method === 'BYE') {
      if (status < 200) return true;
      // The session ends with the final response to BYE (§15.1.1: whatever it is).
      this.forget(dialog, 'bye');
      return this.callObserver('ended', dialog, data.by) ?? true;
    }
    if ((method === 'INVITE' || method === 'UPDATE') && status >= 200 && status < 300) {
      // §12.2: a target refresh replaces the remote targets the relay would send its own BYEs to.
      const requestContact = context.request.header('contact');
      const responseContact = response.header('contact');
      if (data.by === 'caller') {
        if (requestContact !== undefined) dialog.callerContact = requestContact;
        if (responseContact !== undefined) dialog.calleeContact = responseContact;
      } else {
        if (requestContact !== undefined) dialog.calleeContact = requestContact;
        if (responseContact !== undefined) dialog.callerContact = responseContact;
      }
      if (dialog.kind === 'service' && dialog.sessionTimer !== undefined) this.refreshed(context.request, response, dialog);
      const change = data.by + ' ' + context.request.cseq.seq;
      if (dialog.lastChange === change) return true;
      dialog.lastChange = change;
      const details: SessionChangeDetails = {
        method,
        by: data.by,
        contentType: context.request.contentType,
        body: context.request.bodyText,
        at: this.clock.wallNow(),
      };
      return this.callObserver('changed', dialog, undefined, details) ?? true;
    }
    return true;
  }

  /**
   * A 2xx to a re-INVITE or UPDATE: a session refresh (RFC 4028 §10). Its
   * terms replace the dialog's: those of the 2xx, or, without a
   * Session-Expires, the relay's own interval again (no timer is in force
   * between the UAs any more, §9).
   */
  private refreshed(request: SipRequest, response: SipResponse, dialog: RelayedDialog): void {
    const asked = sessionExpiresOf(request);
    const current = dialog.sessionTimer?.intervalSeconds ?? this.minSessionExpires;
    const requested = asked !== undefined && asked !== 'malformed' ? asked.seconds : current;
    dialog.sessionTimer = sessionTimerTermsOf2xx(request, response, requested, this.minSessionExpires);
    const supervision = this.supervision;
    if (supervision === undefined) return;
    try {
      supervision.refreshed(dialog, dialog.sessionTimer);
    } catch (e) {
      this.reportError(e);
    }
  }

  private newDialog(context: ResponseContext, data: ServiceContext | LocationContext, branch: ProxyBranch, response: SipResponse, toTag: string): RelayedDialog | undefined {
    const b = branch.data as BranchData;
    const request = context.request;
    const callerTag = request.from.tag ?? '';
    const sessionId = b.dialogs++ === 0 ? b.sessionId : newSessionId();
    const countsLoad = b.countsLoad;
    b.countsLoad = false;
    const dialog: RelayedDialog = {
      key: DialogRegistry.key(request.callId, callerTag, toTag),
      kind: data.kind,
      sessionId,
      forkGroup: data.forkGroup,
      callId: request.callId,
      callerTag,
      calleeTag: toTag,
      party: data.party,
      service: data.kind === 'service' ? data.service : '',
      target: b.target,
      linkedFrom: data.kind === 'service' ? data.linkedFrom : undefined,
      replaces: data.kind === 'service' ? data.replaces : undefined,
      state: 'answering',
      inviteCSeq: request.cseq.seq,
      callerFlowId: context.inFlow.id,
      calleeFlowId: branch.target.flowId,
      callerAddress: request.header('from') ?? '',
      calleeAddress: response.header('to') ?? '',
      callerContact: request.header('contact'),
      calleeContact: response.header('contact'),
      recordRoute: response.headerList('record-route'),
      callerCSeq: request.cseq.seq,
      calleeCSeq: 0,
      answeredAt: this.clock.wallNow(),
      startedAt: 0,
      callerCSeqStale: false,
      calleeCSeqStale: false,
      countsLoad,
      lastChange: undefined,
      sessionTimer: undefined,
      addedSessionExpires: undefined,
      restored: false,
      resumePending: false,
    };
    if (!this.dialogs.add(dialog)) {
      if (countsLoad && b.target) this.ports.directory.adjustLoad(b.target, -1);
      return undefined;
    }
    return dialog;
  }

  private dialogStarted(dialog: RelayedDialog): void {
    if (dialog.state === 'starting') dialog.state = 'confirmed';
    dialog.startedAt = this.clock.wallNow();
    if (this.supervision !== undefined && dialog.kind === 'service') {
      try {
        this.supervision.started(dialog);
      } catch (e) {
        this.reportError(e);
      }
    }
    if (dialog.replaces !== undefined) this.endReplaced(dialog);
  }

  /**
   * The session an INVITE with Replaces asked to replace ends now that the
   * new one has started (RFC 3891 §3: after the new dialog is confirmed):
   * the relay sends BYE to both sides of the old one.
   */
  private endReplaced(dialog: RelayedDialog): void {
    const old = this.dialogs.bySessionId(dialog.replaces!);
    if (old === undefined || old.state === 'refused') return;
    if (this.supervision?.replaced !== undefined) {
      try {
        this.supervision.replaced(old, dialog);
      } catch (e) {
        this.reportError(e);
      }
      return;
    }
    void this.endDialog(old, { reason: `SIP;cause=200;text="replaced: by session ${dialog.sessionId}"` }).catch((e: unknown) => this.reportError(e));
  }

  /**
   * The answer of `dialog` could not be stored, so it is not relayed: the
   * client gets 500 and the application server, never ACKed, ends its
   * dialog itself (§13.3.1.4). The dialog stays known as `refused` for
   * 64*T1, so the 2xx retransmissions of that wait are dropped too.
   */
  private refuseDialog(context: ResponseContext, dialog: RelayedDialog): void {
    dialog.state = 'refused';
    this.releaseLoad(dialog);
    context.refuseAnswer(500);
    this.clock.setTimeout(() => this.forget(dialog, 'refused'), 64 * this.transactions.timers.t1);
  }

  private releaseLoad(dialog: RelayedDialog): void {
    if (dialog.countsLoad && dialog.target) {
      dialog.countsLoad = false;
      this.ports.directory.adjustLoad(dialog.target, -1);
    }
  }

  /**
   * Calls an observer milestone. Undefined when there is nothing to wait
   * for (no observer, a synchronous one, or one that threw: logged, and
   * the message is relayed); else a promise of whether to relay.
   */
  private callObserver(
    name: 'answered' | 'started' | 'ended' | 'changed',
    dialog: RelayedDialog,
    by?: 'caller' | 'callee',
    details?: SessionChangeDetails,
  ): Promise<boolean> | undefined {
    const observer = this.observer;
    if (observer === undefined || dialog.kind !== 'service') return undefined;
    let result: Promise<void> | void;
    try {
      const m = dialogMilestone(dialog);
      switch (name) {
        case 'answered':
          result = observer.answered?.(m);
          break;
        case 'started':
          result = observer.started?.(m);
          break;
        case 'ended':
          result = observer.ended?.(m, by ?? 'caller');
          break;
        case 'changed':
          result = observer.changed?.(m, details);
          break;
      }
    } catch (e) {
      this.reportError(e);
      return name === 'answered' ? Promise.resolve(false) : undefined;
    }
    if (result === undefined || typeof (result as Promise<void>).then !== 'function') return undefined;
    // Only an answer that could not be stored is withheld; an end or change is relayed anyway,
    // since the dialog goes on (or is over) whatever the record says.
    const withhold = name === 'answered' || name === 'started';
    return (result as Promise<void>).then(
      () => true,
      (e: unknown) => {
        this.logger.error({ err: e, sessionId: dialog.sessionId, milestone: name }, 'session milestone not stored');
        return !withhold;
      },
    );
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** The Request-URI names the relay itself: one of its domains or addresses, with no user part. */
  private isAddressedToRelay(request: SipRequest): boolean {
    let uri;
    try {
      uri = request.uri;
    } catch {
      return false;
    }
    return uri.kind === 'sip' && uri.user === undefined && this.addresses.isServedHost(uri.host);
  }

  /** §11.2: the relay's own capabilities; no authentication for a keep-alive OPTIONS to the relay itself. */
  private answerOptions(tx: ServerTransaction, request: SipRequest): void {
    this.reply(tx, request, 200, undefined, [
      ['Allow', ALLOW],
      ['Accept', ACCEPT],
      ['Supported', SUPPORTED],
    ]);
  }

  private fail(tx: ServerTransaction, request: SipRequest, failure: ValidationFailure): void {
    this.reply(tx, request, failure.status, failure.reason, failure.headers);
  }

  private reply(tx: ServerTransaction, request: SipRequest, status: number, reason?: string, headers?: HeaderInit): void {
    if (tx.lastStatus >= 200) return;
    tx.respond(createResponse(request, status, { reason, headers, toTag: request.to.tag === undefined ? localTag() : undefined }));
  }

  private respond(tx: ServerTransaction, response: SipResponse): void {
    if (tx.lastStatus >= 200 || tx.state === 'Terminated') return;
    tx.respond(response);
  }

  /** Answers an out-of-dialog request locally and ends its in-flight count. */
  private finish(tx: ServerTransaction, request: SipRequest, status: number, reason?: string, headers?: HeaderInit): void {
    this.reply(tx, request, status, reason, headers);
    this.done();
  }

  /** A port threw or rejected while a request was being handled: 500, logged. */
  private failed(e: unknown, tx: ServerTransaction, request: SipRequest): void {
    this.reportError(e);
    try {
      this.reply(tx, request, 500);
    } catch (e2) {
      this.reportError(e2);
    }
    this.done();
  }

  private reportError(error: unknown): void {
    if (this.onErrorOption) {
      try {
        this.onErrorOption(error);
      } catch {
        // nowhere left to report to
      }
      return;
    }
    this.logger.error({ err: error }, 'relay core error');
  }
}

/** Puts the Session-Expires the relay added to a dialog's first 2xx (RFC 4028 §8.2) into a retransmission of it. */
function addSessionExpires(response: SipResponse, dialog: RelayedDialog): void {
  const added = dialog.addedSessionExpires;
  if (added === undefined || response.hasHeader('session-expires')) return;
  response.setHeader('Session-Expires', added);
  if (!response.optionTags('require').includes('timer')) response.addHeader('Require', 'timer');
}

/** A To tag for a response the relay makes itself. */
function localTag(): string {
  return newSessionId().slice(0, 12);
}

function bump(counts: Map<string, number>, key: string, delta: 1 | -1): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
