import { isToken } from '../grammar/char-classes.js';
import { BRANCH_MAGIC_COOKIE } from '../grammar/via.js';
import { createResponse } from '../message/create-response.js';
import { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { serializeMessage } from '../message/serializer.js';
import {
  type Flow,
  type InboundError,
  type InboundMessage,
  type Transport,
  TransportError,
  type TransportListener,
} from '../transport/transport.js';
import { type Clock, systemClock } from '../util/clock.js';
import { newBranch } from '../util/random.js';
import { ClientInviteTransaction } from './client-invite-transaction.js';
import { ClientNonInviteTransaction } from './client-non-invite-transaction.js';
import { responseFlow } from './response-destination.js';
import { ServerInviteTransaction } from './server-invite-transaction.js';
import { ServerNonInviteTransaction } from './server-non-invite-transaction.js';
import { stampReceived } from './stamp-received.js';
import { TimerConfig, type TimerOptions } from './timer-config.js';
import type { TransactionContext } from './transaction-context.js';
import { clientTransactionKey, isRfc2543Key, serverTransactionKey } from './transaction-key.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from './transaction-user.js';

/**
 * What the layer hands upward (the UA core or the proxy core). Implement it
 * on an object or class; the layer makes no closure per message.
 */
export interface TransactionLayerHandler {
  /**
   * A new request (not ACK) with its new server transaction (§17.2.3: it
   * matched none). Answer with `transaction.respond()`; every request needs
   * a final response from the TU, since a transaction that has none has no
   * timer to end it. If this method throws, the layer answers 500. CANCEL arrives here
   * too, in its own non-INVITE transaction; `layer.findInviteForCancel()`
   * finds the INVITE it refers to (§9.2).
   */
  onRequest(request: SipRequest, transaction: ServerTransaction, flow: Flow): void;
  /**
   * An ACK for a 2xx: one that matched no transaction (it is its own
   * transaction, §17), or one that matched an INVITE server transaction in
   * 'Accepted', which is then given (RFC 6026 §7.1). ACKs for non-2xx
   * responses are absorbed by their transaction and never arrive here.
   */
  onAck(ack: SipRequest, flow: Flow, transaction?: ServerInviteTransaction): void;
  /**
   * A response that matched no client transaction (§18.1.2, RFC 6026 §8.8),
   * e.g. a 2xx retransmission after timer M, or a 2xx on a transaction that
   * had a non-2xx final response. A proxy forwards 2xx statelessly; a UA
   * core may ACK and BYE it; anything else is dropped when absent.
   */
  onStrayResponse?(response: SipResponse, flow: Flow): void;
  /**
   * A message that did not parse. When absent the layer answers a request
   * (not ACK) that got far enough with its status (400, 505, 513) over the
   * flow it came on, and drops everything else (§18.1.2, RFC 4475).
   */
  onParseError?(inbound: InboundError): void;
  /** A reliable flow closed (after the layer failed the client transactions waiting on it). */
  onFlowClosed?(flow: Flow): void;
}

/** Options of {@link TransactionLayer}. Every limit has a default. */
export interface TransactionLayerOptions {
  /** The transport; the layer becomes its listener. */
  transport: Transport;
  /** Who receives requests, ACKs for 2xx and stray responses. */
  handler: TransactionLayerHandler;
  /** Time source for every timer. Default the system clock. */
  clock?: Clock;
  /** T1, T2, T4 and the derived timers. Default RFC 3261 values. */
  timers?: TimerOptions | TimerConfig;
  /**
   * Most server transactions kept at once. A new request beyond it is
   * answered statelessly with 503 and Retry-After (§21.5.4) instead of
   * growing memory without bound. Default 500 000 (about 80 s of 3 000 calls
   * per second, each with an INVITE and a BYE transaction held 32 s).
   */
  maxServerTransactions?: number;
  /** Retry-After seconds on that 503. Default 5. */
  overloadRetryAfter?: number;
  /** Add `rport` (RFC 3581) to the Vias the layer writes. Default true. */
  rport?: boolean;
  /**
   * Receives exceptions thrown by the TU inside callbacks that the transport
   * or a timer ran; they are never rethrown into a socket or clock callback.
   * Default: ignore.
   */
  onError?: (error: unknown) => void;
}

/** Options of {@link TransactionLayer.sendInvite} and {@link TransactionLayer.sendRequest}. */
export interface ClientTransactionOptions {
  /**
   * Branch of the Via the layer adds for this hop (§8.1.1.7). Must start
   * with the magic cookie `z9hG4bK`. Default: a new random branch.
   */
  branch?: string;
  /**
   * Keep the request's own top Via instead of adding one. Its branch must
   * carry the magic cookie. For requests whose Via is prescribed: a CANCEL
   * from `createCancel()` (§9.1), or a proxy that writes its own Via.
   */
  keepTopVia?: boolean;
}

const DEFAULT_MAX_SERVER_TRANSACTIONS = 500_000;
const DEFAULT_OVERLOAD_RETRY_AFTER = 5;

/**
 * The transaction layer (RFC 3261 §17) over one {@link Transport}: it owns
 * the client and server transaction maps, matches every inbound message to
 * its transaction, creates server transactions for new requests, and
 * creates client transactions for the requests the TU sends.
 *
 * Inbound requests get `received`/`rport` in their top Via (§18.2.1,
 * RFC 3581) before matching. Responses of server transactions go where
 * §18.2.2 says ({@link responseFlow}). Client transactions go out on the
 * flow the TU chose; the layer adds this hop's Via
 * (`SIP/2.0/<proto> <sent-by>;branch=<new>;rport`) unless told to keep the
 * request's own. Transactions leave the maps when they reach 'Terminated'.
 *
 * ```ts
 * const layer = new TransactionLayer({ transport, handler: {
 *   onRequest(req, tx) { tx.respond(createResponse(req, 200, { toTag: newTag() })); },
 *   onAck() {},
 * } });
 * const tx = layer.sendRequest(options, transport.flowTo(dest), { onResponse(res) { … } });
 * ```
 */
export class TransactionLayer {
  readonly transport: Transport;
  readonly clock: Clock;
  readonly timers: TimerConfig;
  private readonly handler: TransactionLayerHandler;
  private readonly maxServer: number;
  private readonly retryAfter: number;
  private readonly rport: boolean;
  private readonly onError: ((error: unknown) => void) | undefined;
  private readonly client = new Map<string, ClientTransaction>();
  private readonly server = new Map<string, ServerTransaction>();
  /** Client transactions per reliable flow id, to fail them when the connection drops. */
  private readonly byFlow = new Map<string, Set<ClientTransaction>>();
  private readonly context: TransactionContext;
  private closed = false;

  constructor(options: TransactionLayerOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('TransactionLayerOptions must be an object');
    const { transport, handler } = options;
    if (!transport || typeof transport.listen !== 'function' || typeof transport.flowTo !== 'function') {
      throw new TypeError('TransactionLayerOptions.transport must be a Transport');
    }
    if (!handler || typeof handler.onRequest !== 'function' || typeof handler.onAck !== 'function') {
      throw new TypeError('TransactionLayerOptions.handler must have onRequest and onAck');
    }
    const max = options.maxServerTransactions ?? DEFAULT_MAX_SERVER_TRANSACTIONS;
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`TransactionLayerOptions.maxServerTransactions must be a positive integer, got ${String(max)}`);
    const retryAfter = options.overloadRetryAfter ?? DEFAULT_OVERLOAD_RETRY_AFTER;
    if (!Number.isInteger(retryAfter) || retryAfter < 0) {
      throw new TypeError(`TransactionLayerOptions.overloadRetryAfter must be a non-negative integer, got ${String(retryAfter)}`);
    }
    if (options.onError !== undefined && typeof options.onError !== 'function') throw new TypeError('TransactionLayerOptions.onError must be a function');
    this.transport = transport;
    this.handler = handler;
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers instanceof TimerConfig ? options.timers : new TimerConfig(options.timers);
    this.maxServer = max;
    this.retryAfter = retryAfter;
    this.rport = options.rport ?? true;
    this.onError = options.onError;
    this.context = {
      clock: this.clock,
      timers: this.timers,
      transactionTerminated: (tx) => this.forget(tx),
      responseFlow: (request, flow) => responseFlow(request.topVia, flow, this.transport),
      passAckToTu: (ack, flow, tx) => this.handler.onAck(ack, flow, tx),
      sendCancel: (cancel, flow, user) => this.sendRequest(cancel, flow, user, { keepTopVia: true }),
      reportError: (e) => this.reportError(e),
    };
    const listener: TransportListener = {
      onMessage: (inbound) => this.receiveMessage(inbound),
      onParseError: (inbound) => this.receiveParseError(inbound),
      onFlowClosed: (flow) => this.flowClosed(flow),
    };
    transport.listen(listener);
  }

  /** Number of live client transactions. */
  get clientTransactionCount(): number {
    return this.client.size;
  }

  /** Number of live server transactions. */
  get serverTransactionCount(): number {
    return this.server.size;
  }

  // ---- sending ---------------------------------------------------------------

  /**
   * Sends an INVITE in a new client transaction over `flow` (the TU chose
   * the destination, §8.1.2). Adds this hop's Via unless `keepTopVia`.
   * Misuse (not an INVITE, a bad or duplicate branch, a closed layer)
   * throws TypeError; a send failure reaches `user.onTransportError` later.
   */
  sendInvite(invite: SipRequest, flow: Flow, user: ClientTransactionUser, options?: ClientTransactionOptions): ClientInviteTransaction {
    if (!(invite instanceof SipRequest) || invite.method !== 'INVITE') throw new TypeError('sendInvite needs an INVITE SipRequest');
    const key = this.prepareClient(invite, flow, user, options);
    const tx = new ClientInviteTransaction(key, invite, flow, this.context, user);
    this.addClient(tx);
    tx.start();
    return tx;
  }

  /**
   * Sends a request other than INVITE and ACK in a new non-INVITE client
   * transaction over `flow`. ACK has no transaction: an ACK for 2xx goes
   * out with {@link sendStateless} after {@link prependVia}.
   */
  sendRequest(request: SipRequest, flow: Flow, user: ClientTransactionUser, options?: ClientTransactionOptions): ClientNonInviteTransaction {
    if (!(request instanceof SipRequest)) throw new TypeError('sendRequest needs a SipRequest');
    if (request.method === 'INVITE') throw new TypeError('use sendInvite for INVITE');
    if (request.method === 'ACK') throw new TypeError('ACK has no client transaction; use sendStateless');
    const key = this.prepareClient(request, flow, user, options);
    const tx = new ClientNonInviteTransaction(key, request, flow, this.context, user);
    this.addClient(tx);
    tx.start();
    return tx;
  }

  /**
   * Sends a message outside any transaction (an ACK for 2xx, a stateless
   * proxy's forwarding, a stateless error response). The caller has
   * prepared its Via. Returns false when the flow refused the bytes.
   */
  sendStateless(message: SipRequest | SipResponse, flow: Flow): boolean {
    return flow.send(serializeMessage(message));
  }

  /**
   * Adds this hop's Via on top of `request`:
   * `SIP/2.0/<flow protocol> <sent-by>;branch=<branch>;rport`, the sent-by
   * being the transport's address for that protocol (§18.1.1). Returns the
   * branch.
   */
  prependVia(request: SipRequest, flow: Flow, branch: string = newBranch()): string {
    const local = this.transport.localAddress(flow.protocol) ?? flow.local;
    let host = local.host;
    if (host.indexOf(':') >= 0 && host.charCodeAt(0) !== 91) host = '[' + host + ']';
    // Port 0: nothing to advertise (a browser's `.invalid` host, RFC 7118 §5.2); the sent-by has no port then.
    const sentBy = local.port > 0 ? host + ':' + local.port : host;
    request.prependHeader('Via', 'SIP/2.0/' + flow.protocol + ' ' + sentBy + ';branch=' + branch + (this.rport ? ';rport' : ''));
    return branch;
  }

  // ---- lookups ---------------------------------------------------------------

  /**
   * The INVITE server transaction a CANCEL refers to (§9.2): the one the
   * CANCEL would match if its method were INVITE, i.e. same branch and
   * sent-by (RFC 3261), or same Request-URI, tags, Call-ID, CSeq number and
   * top Via (RFC 2543). `undefined` when there is none: the TU answers the
   * CANCEL with 481.
   */
  findInviteForCancel(cancel: SipRequest): ServerInviteTransaction | undefined {
    if (cancel.method !== 'CANCEL') throw new TypeError(`findInviteForCancel needs a CANCEL, got ${cancel.method}`);
    const key = serverTransactionKey(cancel, 'INVITE');
    const tx = this.server.get(key);
    if (tx === undefined || !tx.isInvite) return undefined;
    if (isRfc2543Key(key) && (cancel.to.tag ?? '') !== (tx.request.to.tag ?? '')) return undefined;
    return tx;
  }

  // ---- inbound ---------------------------------------------------------------

  /**
   * Handles one message from the transport (the transport listener calls
   * it; an in-process transport may too). Never throws: errors from the TU
   * go to `options.onError`.
   */
  receiveMessage(inbound: InboundMessage): void {
    if (this.closed) return;
    try {
      const message = inbound.message;
      if (message.isRequest) this.receiveRequest(message, inbound.flow);
      else this.receiveResponse(message, inbound.flow);
    } catch (e) {
      this.reportError(e);
    }
  }

  private receiveRequest(request: SipRequest, flow: Flow): void {
    stampReceived(request, flow);
    const key = serverTransactionKey(request);
    const tx = this.server.get(key);
    if (request.method === 'ACK') {
      // §17.2.3: the ACK for a non-2xx matches the INVITE's transaction; an
      // ACK for a 2xx matches none (or one in 'Accepted'), and is the TU's.
      if (tx !== undefined && tx.isInvite && (!isRfc2543Key(key) || this.ackMatchesResponse(request, tx))) {
        tx.receiveAck(request, flow);
      } else {
        this.handler.onAck(request, flow);
      }
      return;
    }
    if (tx !== undefined) {
      tx.receiveRequest(request);
      return;
    }
    if (this.server.size >= this.maxServer) {
      this.rejectOverload(request, flow);
      return;
    }
    const created: ServerTransaction =
      request.method === 'INVITE' ? new ServerInviteTransaction(key, request, flow, this.context) : new ServerNonInviteTransaction(key, request, flow, this.context);
    this.server.set(key, created);
    try {
      this.handler.onRequest(request, created, flow);
    } catch (e) {
      this.reportError(e);
      // A TU that failed would leave the transaction unanswered, and a
      // transaction in 'Trying' or 'Proceeding' has no timer to end it.
      if (created.lastStatus < 200 && created.state !== 'Terminated') created.respond(createResponse(request, 500));
      return;
    }
    if (created.isInvite) created.armAutoTrying();
  }

  private receiveResponse(response: SipResponse, flow: Flow): void {
    const branch = response.topVia.branch;
    const tx = branch === undefined ? undefined : this.client.get(clientTransactionKey(branch, response.cseq.method));
    if (tx !== undefined && tx.receiveResponse(response)) return;
    this.handler.onStrayResponse?.(response, flow);
  }

  /**
   * RFC 2543 ACK matching (§17.2.3): the ACK's To tag must be the tag of the
   * response the transaction sent, which tells an ACK for a 2xx from an ACK
   * for a non-2xx at a proxy.
   */
  private ackMatchesResponse(ack: SipRequest, tx: ServerInviteTransaction): boolean {
    return tx.lastStatus !== 0 && (ack.to.tag ?? '') === (tx.lastToTag ?? '');
  }

  private receiveParseError(inbound: InboundError): void {
    if (this.closed) return;
    try {
      if (this.handler.onParseError) return this.handler.onParseError(inbound);
      const { error, flow } = inbound;
      const partial = error.partial;
      if (error.status === 0 || !(partial instanceof SipRequest) || partial.method === 'ACK') return;
      if (!partial.hasHeader('via') || !partial.hasHeader('call-id') || !partial.hasHeader('cseq')) return;
      // Back to the source only: a Via that did not parse must not steer replies elsewhere.
      flow.send(serializeMessage(createResponse(partial, error.status)));
    } catch (e) {
      this.reportError(e);
    }
  }

  private flowClosed(flow: Flow): void {
    try {
      const waiting = this.byFlow.get(flow.id);
      if (waiting !== undefined) {
        this.byFlow.delete(flow.id);
        const error = new TransportError('SIP_ERR_TRANSPORT_CLOSED', `flow ${flow.id} to ${flow.remote.host}:${flow.remote.port} closed`);
        for (const tx of Array.from(waiting)) tx.flowClosed(error);
      }
      this.handler.onFlowClosed?.(flow);
    } catch (e) {
      this.reportError(e);
    }
  }

  /** §21.5.4 with Retry-After: the layer holds as many transactions as it may. */
  private rejectOverload(request: SipRequest, flow: Flow): void {
    const res = createResponse(request, 503, { headers: [['Retry-After', String(this.retryAfter)]] });
    responseFlow(request.topVia, flow, this.transport).send(serializeMessage(res));
  }

  // ---- bookkeeping -----------------------------------------------------------

  private prepareClient(request: SipRequest, flow: Flow, user: ClientTransactionUser, options: ClientTransactionOptions | undefined): string {
    if (this.closed) throw new TypeError('the transaction layer is closed');
    if (!flow || typeof flow.send !== 'function') throw new TypeError('a Flow to send on is required');
    if (!user || typeof user.onResponse !== 'function') throw new TypeError('a ClientTransactionUser with onResponse is required');
    let branch: string;
    if (options?.keepTopVia) {
      let b: string | undefined;
      try {
        b = request.hasHeader('via') && request.topVia.hasRfc3261Branch ? request.topVia.branch : undefined;
      } catch {
        b = undefined;
      }
      if (b === undefined) throw new TypeError('keepTopVia needs a top Via whose branch starts with z9hG4bK');
      branch = b;
    } else {
      if (options?.branch === undefined) branch = newBranch();
      else {
        branch = options.branch;
        if (typeof branch !== 'string' || branch.length <= BRANCH_MAGIC_COOKIE.length || !branch.startsWith(BRANCH_MAGIC_COOKIE) || !isToken(branch)) {
          throw new TypeError(`branch ${JSON.stringify(branch)} must be a token starting with ${BRANCH_MAGIC_COOKIE}`);
        }
      }
      this.prependVia(request, flow, branch);
    }
    const key = clientTransactionKey(branch, request.method);
    if (this.client.has(key)) throw new TypeError(`a ${request.method} client transaction with branch ${branch} is already running`);
    return key;
  }

  private addClient(tx: ClientTransaction): void {
    this.client.set(tx.id, tx);
    if (tx.reliable) {
      let set = this.byFlow.get(tx.flow.id);
      if (set === undefined) this.byFlow.set(tx.flow.id, (set = new Set()));
      set.add(tx);
    }
  }

  private forget(tx: ClientTransaction | ServerTransaction): void {
    if (tx.isServer) {
      if (this.server.get(tx.id) === tx) this.server.delete(tx.id);
      return;
    }
    if (this.client.get(tx.id) === tx) this.client.delete(tx.id);
    if (tx.reliable) {
      const set = this.byFlow.get(tx.flow.id);
      if (set !== undefined && set.delete(tx) && set.size === 0) this.byFlow.delete(tx.flow.id);
    }
  }

  private reportError(error: unknown): void {
    if (this.onError) {
      try {
        this.onError(error);
      } catch {
        // An error handler that throws has nowhere left to report to.
      }
    }
  }

  /**
   * Ends every transaction (timers stopped, `onTerminated` called, no
   * further retransmissions), stops taking messages, and closes the
   * transport.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all: Array<ClientTransaction | ServerTransaction> = [...this.client.values(), ...this.server.values()];
    for (const tx of all) {
      try {
        tx.terminate();
      } catch (e) {
        this.reportError(e);
      }
    }
    this.byFlow.clear();
    await this.transport.close();
  }
}
