import type { Uri } from '../../sip/grammar/uri.js';
import type { Via } from '../../sip/grammar/via.js';
import { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import { responseDestination } from '../../sip/transaction/response-destination.js';
import type { TransactionLayer } from '../../sip/transaction/transaction-layer.js';
import type { ServerTransaction } from '../../sip/transaction/transaction-user.js';
import { type Endpoint, type Flow, type Transport, TransportError } from '../../sip/transport/transport.js';
import type { Clock } from '../../sip/util/clock.js';
import { noopLogger, type SipLogger } from '../../sip/util/logger.js';
import { isLooped, isRelayVia, loopToken, relayBranch } from './loop-detection.js';
import { NextHopResolver } from './next-hop-resolver.js';
import type { ProxyBranch } from './proxy-branch.js';
import { isProxyError, ProxyError } from './proxy-error.js';
import type { ForkMode, ProxyTarget } from './proxy-target.js';
import type { RouteTokenData } from './record-route-token.js';
import { RecordRouteSigner } from './record-route-token.js';
import type { RelayAddresses } from './relay-addresses.js';
import { validateProxyRequest, type ValidationFailure } from './request-validation.js';
import { firstRoute, processRoutes, recordRouteValue, type RouteProcessing } from './route-processing.js';
import { ResponseContext, type ResponseContextOwner } from './response-context.js';
import { TargetBackoff } from './target-backoff.js';

/** Options of {@link ProxyCore}. Every limit has a documented default. */
export interface ProxyCoreOptions {
  /** The transaction layer the proxy sends through (its transport is the relay's). */
  transactions: TransactionLayer;
  /** What "this relay" is: listener addresses and domains. */
  addresses: RelayAddresses;
  /** Signs and checks Record-Route tokens. Default: a signer with a random per-process secret. */
  signer?: RecordRouteSigner;
  /** Next-hop resolution. Default: a {@link NextHopResolver} over the system resolver. */
  resolver?: NextHopResolver;
  /** Timer C of INVITE branches, ms (§16.6 step 11: more than 3 minutes). Default the transaction layer's `timerC`. */
  timerCMs?: number;
  /**
   * How long a `balance` branch may stay without any response (not even
   * 100) before the next target is tried, ms. Default 5 000: an
   * application server that is up answers 100 within milliseconds, and a
   * client should not wait 32 s (timer B) for the failover.
   */
  noAnswerMs?: number;
  /**
   * How long a branch may take to answer the CANCEL the proxy sent (timer
   * C, a client CANCEL, a losing race branch) before the proxy stands in a
   * final response for it, ms. Default 64*T1 (32 s), timer B's span.
   */
  cancelWaitMs?: number;
  /** Option tags understood in Proxy-Require (§16.3 step 5). Default none. */
  proxyRequireSupported?: readonly string[];
  /** Back-off table of `balance` mode (503 with Retry-After). Default a new one on the layer's clock. */
  backoff?: TargetBackoff;
  /** Random source for `balance` ties. Default Math.random. */
  random?: () => number;
  logger?: SipLogger;
  /** Receives exceptions from owner callbacks; never rethrown into a socket or timer callback. */
  onError?: (error: unknown) => void;
}

/** Where an in-dialog request goes, from its Record-Route token (RFC 5626 §5.3). */
export interface InDialogDirection {
  /** Toward the side that created the dialog (the caller) or the other one. */
  toward: 'caller' | 'callee';
  /** The flow to send over, when that side is reached over its own flow. */
  flowId: string | undefined;
}

function checkMs(name: string, v: number | undefined, dflt: number): number {
  const ms = v ?? dflt;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) throw new TypeError(`ProxyCoreOptions.${name} must be a positive number of milliseconds, got ${String(v)}`);
  return ms;
}

/**
 * The stateful proxy core of RFC 3261 §16 over a {@link TransactionLayer}:
 * request validation (§16.3), Route processing (§16.4), forwarding with
 * record-routing (§16.6) through response contexts (§16.7) with timer C
 * (§16.8), CANCEL (§16.10), and stateless forwarding of ACK for 2xx and
 * of stray 2xx (§16.11). The relay core drives it; nothing here knows
 * about users, services or accounting.
 *
 * The per-message path is synchronous unless a name must be resolved, and
 * makes no closure per message: branches are the transaction users, the
 * owner of a context is one object for all of them.
 */
export class ProxyCore {
  readonly transactions: TransactionLayer;
  readonly transport: Transport;
  readonly addresses: RelayAddresses;
  readonly signer: RecordRouteSigner;
  readonly resolver: NextHopResolver;
  readonly backoff: TargetBackoff;
  readonly random: () => number;
  readonly clock: Clock;
  readonly logger: SipLogger;
  readonly timerCMs: number;
  readonly noAnswerMs: number;
  readonly cancelWaitMs: number;
  private readonly proxyRequire: { proxyRequireSupported: ReadonlySet<string> };
  private readonly onError: ((error: unknown) => void) | undefined;
  private readonly isOwnSentBy: (via: Via) => boolean;

  constructor(options: ProxyCoreOptions) {
    if (!options || !options.transactions || typeof options.transactions.sendInvite !== 'function') {
      throw new TypeError('ProxyCoreOptions.transactions must be a TransactionLayer');
    }
    if (!options.addresses || typeof options.addresses.isLocalUri !== 'function') throw new TypeError('ProxyCoreOptions.addresses must be RelayAddresses');
    this.transactions = options.transactions;
    this.transport = options.transactions.transport;
    this.addresses = options.addresses;
    this.clock = options.transactions.clock;
    this.signer = options.signer ?? new RecordRouteSigner();
    this.resolver = options.resolver ?? new NextHopResolver({ protocols: this.transport.protocols, clock: this.clock });
    this.backoff = options.backoff ?? new TargetBackoff(this.clock);
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? noopLogger;
    const timers = options.transactions.timers;
    this.timerCMs = checkMs('timerCMs', options.timerCMs, timers.timerC);
    this.noAnswerMs = checkMs('noAnswerMs', options.noAnswerMs, 5_000);
    this.cancelWaitMs = checkMs('cancelWaitMs', options.cancelWaitMs, 64 * timers.t1);
    this.proxyRequire = { proxyRequireSupported: new Set((options.proxyRequireSupported ?? []).map((t) => t.toLowerCase())) };
    this.onError = options.onError;
    const addresses = this.addresses;
    this.isOwnSentBy = (via) => addresses.isOwnVia(via);
  }

  // ---- §16.3, §16.4 ---------------------------------------------------------------

  /**
   * §16.3 steps 2, 3 and 5 (and escaped Request-URI headers): the
   * failure to answer with, or undefined. `maxForwardsZeroOk` for a
   * request the relay answers itself (OPTIONS to the relay, §11).
   */
  validate(request: SipRequest, maxForwardsZeroOk = false): ValidationFailure | undefined {
    return validateProxyRequest(request, this.proxyRequire, maxForwardsZeroOk);
  }

  /** §16.4 on `request`, in place. Throws SipParseError on a malformed Route the caller must answer 400. */
  processRoutes(request: SipRequest): RouteProcessing {
    return processRoutes(request, this.addresses);
  }

  /** The loop-detection part of the branches for `request` as it is now (after Route processing). */
  loopToken(request: SipRequest): string {
    return loopToken(request);
  }

  /** §16.3 step 4: the request carries one of the relay's Vias with the same loop token: 482. */
  isLooped(request: SipRequest, token: string): boolean {
    return isLooped(request, token, this.isOwnSentBy);
  }

  /** Checks a Record-Route token against the request's Call-ID. */
  verifyToken(token: string, callId: string): RouteTokenData | undefined {
    return this.signer.verify(token, callId);
  }

  /**
   * Which way an in-dialog request goes (RFC 5626 §5.3): from the
   * caller's flow toward the callee; from anywhere else toward the caller,
   * over the caller's flow.
   */
  inDialogDirection(data: RouteTokenData, inFlow: Flow): InDialogDirection {
    if (inFlow.id === data.callerFlowId) return { toward: 'callee', flowId: data.calleeFlowId };
    return { toward: 'caller', flowId: data.callerFlowId };
  }

  // ---- stateful forwarding --------------------------------------------------------

  /**
   * §16.6 step 3 on the request to forward: Max-Forwards decremented, or
   * 70 added when absent. The caller has refused Max-Forwards 0 already.
   */
  decrementMaxForwards(request: SipRequest): void {
    const hs = request.headers;
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i];
      if (h.key !== 'max-forwards') continue;
      const n = request.maxForwards ?? 70;
      h.value = String(n > 0 ? n - 1 : 0);
      h.raw = undefined;
      return;
    }
    request.addHeader('Max-Forwards', '70');
  }

  /**
   * A response context for `serverTransaction`, forwarding `request`
   * (Route processing done). Max-Forwards is decremented here. Call
   * `start(targets)` on it.
   */
  createContext(
    serverTransaction: ServerTransaction,
    request: SipRequest,
    inFlow: Flow,
    owner: ResponseContextOwner,
    mode: ForkMode,
    options: { loopToken: string; recordRoute: boolean },
  ): ResponseContext {
    this.decrementMaxForwards(request);
    return new ResponseContext(this, serverTransaction, request, inFlow, owner, mode, options.loopToken, options.recordRoute);
  }

  /**
   * Prepares and sends one branch (§16.6 steps 1–12): copy, Request-URI,
   * the owner's per-branch headers, next hop (a flow, or the first Route
   * or the Request-URI resolved), Record-Route, Via, client transaction,
   * timers. Failures become the branch's outcome (430, 503...).
   */
  launchBranch(context: ResponseContext, branch: ProxyBranch): void {
    const target = branch.target;
    const copy = copyRequest(context.request);
    if (target.uri !== undefined) copy.uri = target.uri;
    branch.request = copy;
    try {
      context.owner.branchStarting(context, branch);
    } catch (e) {
      this.reportError(e);
      context.branchOutcome(branch, 500, undefined);
      return;
    }
    if (branch.state !== 'pending') return;
    if (target.flowId !== undefined) {
      const flow = this.transport.flowById(target.flowId);
      if (flow === undefined || !flow.isOpen) {
        context.branchOutcome(branch, 430, undefined);
        return;
      }
      this.sendBranch(context, branch, flow);
      return;
    }
    let hop: Endpoint | Promise<Endpoint>;
    try {
      hop = this.resolver.resolve(this.nextHopUri(copy));
    } catch (e) {
      this.branchUnreachable(context, branch, e);
      return;
    }
    if (!(hop instanceof Promise)) {
      this.sendToEndpoint(context, branch, hop);
      return;
    }
    hop.then(
      (ep) => {
        if (branch.state === 'pending') this.sendToEndpoint(context, branch, ep);
      },
      (e: unknown) => {
        if (branch.state === 'pending') this.branchUnreachable(context, branch, e);
      },
    );
  }

  private branchUnreachable(context: ResponseContext, branch: ProxyBranch, e: unknown): void {
    const status = isProxyError(e) ? e.status : e instanceof TransportError ? 503 : 500;
    if (!isProxyError(e) && !(e instanceof TransportError)) this.reportError(e);
    else this.logger.debug({ err: e, uri: branch.request.rawUri }, 'proxy branch unreachable');
    context.branchOutcome(branch, status, undefined);
  }

  private sendToEndpoint(context: ResponseContext, branch: ProxyBranch, ep: Endpoint): void {
    let flow: Flow;
    try {
      flow = this.transport.flowTo(ep);
    } catch (e) {
      this.branchUnreachable(context, branch, e);
      return;
    }
    this.sendBranch(context, branch, flow);
  }

  private sendBranch(context: ResponseContext, branch: ProxyBranch, flow: Flow): void {
    const copy = branch.request;
    if (context.recordRoute) this.addRecordRoute(copy, context.inFlow, flow, branch.target.flowId);
    branch.flow = flow;
    branch.state = 'calling';
    const options = { branch: relayBranch(context.loopToken) };
    try {
      branch.tx = context.isInvite ? this.transactions.sendInvite(copy, flow, branch, options) : this.transactions.sendRequest(copy, flow, branch, options);
    } catch (e) {
      this.reportError(e);
      context.branchOutcome(branch, 500, undefined);
      return;
    }
    if (context.mode === 'balance') this.setBranchTimer(branch, 'no-answer', this.noAnswerMs);
    else if (context.isInvite) this.setBranchTimer(branch, 'C', this.timerCMs);
    context.owner.branchSent?.(context, branch);
  }

  /**
   * §16.6 step 4 with RFC 5658 double record-routing: one entry when the
   * request leaves on the transport and address it came in on, two when
   * it changes (WS in, UDP out), each naming the relay on its side, the
   * outbound one on top. Both carry the signed token: the caller's flow,
   * the callee's flow when it was given, and the dialog stamp.
   */
  addRecordRoute(request: SipRequest, inFlow: Flow, outFlow: Flow, calleeFlowId: string | undefined): void {
    const token = this.signer.sign({ callerFlowId: inFlow.id, calleeFlowId }, request.callId);
    const outAddress = this.addresses.localAddress(outFlow.protocol) ?? outFlow.local;
    const inAddress = this.addresses.localAddress(inFlow.protocol) ?? inFlow.local;
    if (inFlow.protocol !== outFlow.protocol || inAddress.host !== outAddress.host || inAddress.port !== outAddress.port) {
      request.prependHeader('Record-Route', recordRouteValue(inAddress, inFlow.protocol, token));
    }
    request.prependHeader('Record-Route', recordRouteValue(outAddress, outFlow.protocol, token));
  }

  /**
   * The URI the next hop is found from (§16.6 steps 6–7): the first Route
   * when there is one — a strict router (no `lr`) gets the Request-URI
   * moved to the end of the Route set and takes its place (§16.6 step 6,
   * as §12.2.1.1 describes for a UAC) — else the Request-URI.
   */
  nextHopUri(request: SipRequest): Uri {
    const route = firstRoute(request);
    if (route === undefined) return request.uri;
    const uri = route.uri;
    if (uri.kind === 'sip' && !uri.lr) {
      request.replaceFirstListElement('route', undefined);
      request.addHeader('Route', '<' + request.rawUri + '>');
      request.uri = uri;
    }
    return uri;
  }

  // ---- timers ---------------------------------------------------------------------

  private setBranchTimer(branch: ProxyBranch, kind: 'no-answer' | 'C' | 'cancel-wait', ms: number): void {
    if (branch.timer !== undefined) this.clock.clearTimeout(branch.timer);
    branch.timerKind = kind;
    branch.timer = this.clock.setTimeout(branch.fire, ms);
  }

  /** (Re)starts timer C of an INVITE branch (§16.6 step 11, §16.7 step 2). */
  armTimerC(branch: ProxyBranch): void {
    if (branch.timerKind === 'cancel-wait') return;
    this.setBranchTimer(branch, 'C', this.timerCMs);
  }

  /** Waits for the final response to a CANCEL the proxy sent; then the proxy stands in a 408. */
  armCancelWait(branch: ProxyBranch): void {
    this.setBranchTimer(branch, 'cancel-wait', this.cancelWaitMs);
  }

  stopBranchTimer(branch: ProxyBranch): void {
    if (branch.timer !== undefined) this.clock.clearTimeout(branch.timer);
    branch.timer = undefined;
    branch.timerKind = undefined;
  }

  // ---- responses ------------------------------------------------------------------

  /** §16.7 step 3: removes the relay's own Via from a response it relays. */
  popOwnVia(response: SipResponse): void {
    response.replaceFirstListElement('via', undefined);
  }

  /**
   * Sends a response outside its server transaction (a 2xx after the
   * transaction ended, RFC 6026 §8.4), by §18.2.2 from the request's Via
   * and the flow it came on.
   */
  sendStatelessResponse(response: SipResponse, request: SipRequest, inFlow: Flow): void {
    const dest = responseDestination(request.topVia, inFlow);
    let flow: Flow | undefined;
    try {
      flow = dest === undefined ? undefined : 'send' in dest ? dest : this.transport.flowTo(dest);
    } catch {
      flow = undefined;
    }
    if (flow) this.transactions.sendStateless(response, flow);
  }

  /**
   * §16.11 / RFC 6026 §8.4: a 2xx that matched no client transaction is
   * forwarded statelessly when its top Via is the relay's: that Via is
   * removed and the response goes where the next Via says (§18.2.2), or
   * over `flowHint` (the caller's flow of a known dialog, which is the only
   * way back to a WebSocket client). Anything else is dropped. Returns
   * true when it was sent.
   */
  forwardStrayResponse(response: SipResponse, flowHint: Flow | undefined): boolean {
    const vias = response.via;
    if (vias.length < 2 || !isRelayVia(vias[0], this.isOwnSentBy)) return false;
    this.popOwnVia(response);
    let flow = flowHint;
    if (flow === undefined || !flow.isOpen) {
      const dest = responseDestination(response.topVia);
      if (dest === undefined) return false;
      try {
        flow = 'send' in dest ? dest : this.transport.flowTo(dest);
      } catch {
        return false;
      }
    }
    return this.transactions.sendStateless(response, flow);
  }

  /**
   * Forwards a request statelessly (§16.11): an ACK for a 2xx, which has
   * no transaction. Max-Forwards is decremented, the relay's Via added
   * (with a loop token), and the request sent over `target.flowId` or to
   * its next hop. Resolves when sent; rejects with a ProxyError when the
   * next hop cannot be reached (ACK has no response to report it in).
   */
  forwardStateless(request: SipRequest, target: ProxyTarget, token: string): void | Promise<void> {
    this.decrementMaxForwards(request);
    if (target.uri !== undefined) request.uri = target.uri;
    if (target.flowId !== undefined) {
      const flow = this.transport.flowById(target.flowId);
      if (flow === undefined || !flow.isOpen) throw new ProxyError('PROXY_ERR_FLOW_GONE', `flow ${target.flowId} has closed`);
      this.sendStatelessRequest(request, flow, token);
      return;
    }
    const hop = this.resolver.resolve(this.nextHopUri(request));
    if (!(hop instanceof Promise)) {
      this.sendStatelessRequest(request, this.transport.flowTo(hop), token);
      return;
    }
    return hop.then((ep) => this.sendStatelessRequest(request, this.transport.flowTo(ep), token));
  }

  private sendStatelessRequest(request: SipRequest, flow: Flow, token: string): void {
    this.transactions.prependVia(request, flow, relayBranch(token));
    this.transactions.sendStateless(request, flow);
  }

  /** Passes an exception from an owner callback to `onError` (never rethrown). */
  reportError(error: unknown): void {
    if (this.onError) {
      try {
        this.onError(error);
      } catch {
        // nowhere left to report to
      }
    } else this.logger.error({ err: error }, 'proxy owner callback threw');
  }
}

/**
 * A copy of `request` to change and send: header lines copied (raw text
 * kept, so untouched lines go out byte for byte), body bytes shared (never
 * mutated).
 */
export function copyRequest(request: SipRequest): SipRequest {
  const copy = new SipRequest(request.method, request.rawUri);
  const src = request.headers;
  const out = copy.headers;
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    out.push({ name: h.name, key: h.key, value: h.value, raw: h.raw });
  }
  if (request.body.length) copy.body = request.body;
  return copy;
}

