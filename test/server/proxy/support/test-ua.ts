/**
 * A small user agent for relay tests, written directly on the transaction
 * layer so a test controls every message: it sends requests and records
 * what comes back, answers requests as told, builds dialogs from a 2xx
 * (RFC 3261 §12.1) and sends in-dialog requests and ACKs along their
 * route set.
 */
import WebSocket from 'ws';
import { splitCommaList } from '../../../../sip/grammar/header-scanner.js';
import { parseNameAddress } from '../../../../sip/grammar/name-address.js';
import type { SipUri } from '../../../../sip/grammar/uri.js';
import { createResponse } from '../../../../sip/message/create-response.js';
import { SipRequest } from '../../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../../sip/message/sip-response.js';
import { NodeTransport } from '../../../../sip/node/node-transport.js';
import type { ServerInviteTransaction } from '../../../../sip/transaction/server-invite-transaction.js';
import { TransactionLayer, type TransactionLayerHandler } from '../../../../sip/transaction/transaction-layer.js';
import type { ClientTransaction, ServerTransaction } from '../../../../sip/transaction/transaction-user.js';
import type { Endpoint, Flow, Transport, TransportProtocol } from '../../../../sip/transport/transport.js';
import { WebSocketTransport, type WebSocketConstructor } from '../../../../sip/transport/websocket-transport.js';
import { newCallId, newTag } from '../../../../sip/util/random.js';
import { Inbox } from '../../../sip/node/transport-test-kit.js';

export interface Incoming {
  request: SipRequest;
  tx: ServerTransaction;
  flow: Flow;
}

/** A dialog as one end sees it (§12.1.1 for the UAC, §12.1.2 for the UAS). */
export interface TestDialog {
  callId: string;
  localTag: string;
  remoteTag: string;
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  /** Route set, first hop first. */
  routeSet: string[];
  localCSeq: number;
}

/** One request this UA sent, and what came back. */
export class Call {
  readonly responses = new Inbox<SipResponse>();
  readonly all: SipResponse[] = [];
  timedOut = false;
  transportError = false;
  tx!: ClientTransaction;
  constructor(readonly request: SipRequest) {}

  /** The next response with status >= `min` (skipping others). */
  async next(min = 100, timeoutMs = 3000): Promise<SipResponse> {
    for (;;) {
      const r = await this.responses.next(timeoutMs);
      if (r.status >= min) return r;
    }
  }

  /** The next final response. */
  final(timeoutMs = 3000): Promise<SipResponse> {
    return this.next(200, timeoutMs);
  }
}

let seq = 0;

export class TestUa implements TransactionLayerHandler {
  readonly requests = new Inbox<Incoming>();
  readonly acks = new Inbox<SipRequest>();
  readonly strays = new Inbox<SipResponse>();
  readonly layer: TransactionLayer;
  /** Answers each new request as it arrives (else the test takes it from `requests`). */
  onIncoming: ((incoming: Incoming) => void) | undefined;

  private constructor(
    readonly name: string,
    readonly transport: Transport,
    readonly protocol: TransportProtocol,
  ) {
    this.layer = new TransactionLayer({ transport, handler: this, timers: { autoTrying: false } });
  }

  /** A UA on its own UDP and TCP listeners on 127.0.0.1, port 0; it sends on `protocol`. */
  static async node(name: string, protocol: 'UDP' | 'TCP' = 'UDP'): Promise<TestUa> {
    const transport = new NodeTransport({
      listeners: [
        { protocol: 'UDP', host: '127.0.0.1', port: 0 },
        { protocol: 'TCP', host: '127.0.0.1', port: 0 },
      ],
    });
    const ua = new TestUa(name, transport, protocol);
    await transport.start();
    return ua;
  }

  /** A browser-like UA: one WebSocket to `url` (RFC 7118), `.invalid` Via host. */
  static async websocket(name: string, url: string): Promise<TestUa> {
    const transport = new WebSocketTransport({ url, WebSocket: WebSocket as unknown as WebSocketConstructor, reconnect: false, keepAliveIntervalMs: 0 });
    const ua = new TestUa(name, transport, 'WS');
    await transport.connect();
    return ua;
  }

  get address(): { host: string; port: number } {
    return this.transport.localAddress(this.protocol)!;
  }

  /** This UA's Contact URI for `user`. */
  contact(user = this.name): string {
    const a = this.address;
    const hostPort = a.port > 0 ? `${a.host}:${a.port}` : a.host;
    return `sip:${user}@${hostPort};transport=${this.protocol.toLowerCase()}`;
  }

  /** A request outside any dialog (§8.1.1). */
  newRequest(
    method: string,
    ruri: string,
    o: { from?: string; to?: string; headers?: Array<[string, string]>; body?: string; contentType?: string; callId?: string; cseq?: number } = {},
  ): SipRequest {
    const request = new SipRequest(method, ruri);
    request.addHeader('Max-Forwards', '70');
    request.addHeader('From', `<${o.from ?? `sip:${this.name}@portal.test`}>;tag=${newTag()}`);
    request.addHeader('To', `<${o.to ?? ruri}>`);
    request.addHeader('Call-ID', o.callId ?? newCallId());
    request.addHeader('CSeq', `${o.cseq ?? ++seq} ${method}`);
    request.addHeader('Contact', `<${this.contact()}>`);
    for (const [n, v] of o.headers ?? []) request.addHeader(n, v);
    if (o.body !== undefined) {
      request.body = o.body;
      request.addHeader('Content-Type', o.contentType ?? 'application/vnd.siprelay.request+json');
    }
    return request;
  }

  /** Sends `request` in a client transaction to `dest` (or to its first Route / Request-URI). */
  send(request: SipRequest, dest?: Endpoint): Call {
    const call = new Call(request);
    const flow = this.transport.flowTo(dest ?? this.nextHop(request));
    const user = {
      onResponse: (r: SipResponse) => {
        call.all.push(r);
        call.responses.push(r);
      },
      onTimeout: () => {
        call.timedOut = true;
      },
      onTransportError: () => {
        call.transportError = true;
      },
    };
    // A CANCEL keeps the INVITE's Via, so it reaches the same server transaction (§9.1).
    const options = request.method === 'CANCEL' && request.hasHeader('via') ? { keepTopVia: true } : undefined;
    call.tx = request.method === 'INVITE' ? this.layer.sendInvite(request, flow, user, options) : this.layer.sendRequest(request, flow, user, options);
    return call;
  }

  /** Answers an incoming request; a To tag is added to non-100 responses unless given. */
  answer(
    incoming: Incoming,
    status: number,
    o: { toTag?: string; headers?: Array<[string, string]>; body?: string; contentType?: string; reason?: string } = {},
  ): SipResponse {
    const headers: Array<[string, string]> = [...(o.headers ?? [])];
    if (status >= 200 && status < 300 && (incoming.request.method === 'INVITE' || incoming.request.method === 'SUBSCRIBE' || incoming.request.method === 'REFER')) {
      // §12.1.1: the UAS copies Record-Route into its 2xx and gives its Contact.
      for (const rr of incoming.request.headerLines('record-route')) headers.push(['Record-Route', rr]);
      headers.push(['Contact', `<${this.contact()}>`]);
    }
    const response = createResponse(incoming.request, status, {
      toTag: status > 100 ? (o.toTag ?? incoming.request.to.tag ?? newTag()) : undefined,
      headers,
      body: o.body,
      contentType: o.body !== undefined ? (o.contentType ?? 'application/vnd.siprelay.service+json') : undefined,
      reason: o.reason,
    });
    incoming.tx.respond(response);
    return response;
  }

  /** The UAC's dialog from a 2xx (§12.1.2): route set = Record-Route reversed. */
  uacDialog(request: SipRequest, response: SipResponse): TestDialog {
    return {
      callId: request.callId,
      localTag: request.from.tag!,
      remoteTag: response.to.tag!,
      localUri: request.from.uri.toString(),
      remoteUri: request.to.uri.toString(),
      remoteTarget: contactUri(response),
      routeSet: response.headerList('record-route').reverse(),
      localCSeq: request.cseq.seq,
    };
  }

  /** The UAS's dialog from the request it answered (§12.1.1): route set = Record-Route as received. */
  uasDialog(request: SipRequest, response: SipResponse): TestDialog {
    return {
      callId: request.callId,
      localTag: response.to.tag!,
      remoteTag: request.from.tag!,
      localUri: request.to.uri.toString(),
      remoteUri: request.from.uri.toString(),
      remoteTarget: contactUri(request),
      routeSet: request.headerList('record-route'),
      localCSeq: 1000,
    };
  }

  /** A request inside `dialog` (§12.2.1.1), loose routing: Request-URI = remote target, Route = route set. */
  inDialogRequest(dialog: TestDialog, method: string, o: { headers?: Array<[string, string]>; body?: string; contentType?: string; cseq?: number } = {}): SipRequest {
    const request = new SipRequest(method, dialog.remoteTarget);
    for (const r of dialog.routeSet) request.addHeader('Route', r);
    request.addHeader('Max-Forwards', '70');
    request.addHeader('From', `<${dialog.localUri}>;tag=${dialog.localTag}`);
    request.addHeader('To', `<${dialog.remoteUri}>;tag=${dialog.remoteTag}`);
    request.addHeader('Call-ID', dialog.callId);
    const n = o.cseq ?? (method === 'ACK' ? dialog.localCSeq : ++dialog.localCSeq);
    request.addHeader('CSeq', `${n} ${method}`);
    if (method === 'INVITE' || method === 'UPDATE' || method === 'REFER' || method === 'SUBSCRIBE') request.addHeader('Contact', `<${this.contact()}>`);
    for (const [name, v] of o.headers ?? []) request.addHeader(name, v);
    if (o.body !== undefined) {
      request.body = o.body;
      request.addHeader('Content-Type', o.contentType ?? 'application/vnd.siprelay.request+json');
    }
    return request;
  }

  /** Sends the ACK for a 2xx (§13.2.2.4): its own transaction, statelessly, along the route set. */
  ack(dialog: TestDialog, cseq = dialog.localCSeq): SipRequest {
    const ack = this.inDialogRequest(dialog, 'ACK', { cseq });
    const flow = this.transport.flowTo(this.nextHop(ack));
    this.layer.prependVia(ack, flow);
    this.layer.sendStateless(ack, flow);
    return ack;
  }

  /** Where a request goes: its first Route, else its Request-URI (§8.1.2), without DNS. */
  nextHop(request: SipRequest): Endpoint {
    const route = request.header('route');
    const uri = (route ? parseNameAddress(splitCommaList(route)[0]).uri : request.uri) as SipUri;
    const t = uri.transport;
    const protocol = (t ? t.toUpperCase() : this.protocol) as TransportProtocol;
    return { protocol, host: uri.hostname, port: uri.port ?? 5060 };
  }

  // ---- TransactionLayerHandler ----------------------------------------------------

  onRequest(request: SipRequest, tx: ServerTransaction, flow: Flow): void {
    const incoming = { request, tx, flow };
    if (request.method === 'CANCEL') {
      // §9.2: 200 to the CANCEL, 487 to the INVITE.
      tx.respond(createResponse(request, 200));
      const invite = this.layer.findInviteForCancel(request);
      if (invite && invite.lastStatus < 200) invite.respond(createResponse(invite.request, 487, { toTag: newTag() }));
      this.requests.push(incoming);
      return;
    }
    if (this.onIncoming) this.onIncoming(incoming);
    else this.requests.push(incoming);
  }

  onAck(ack: SipRequest, _flow: Flow, _tx?: ServerInviteTransaction): void {
    this.acks.push(ack);
  }

  onStrayResponse(response: SipResponse): void {
    this.strays.push(response);
  }

  /** The next request with `method` (others are kept for later calls). */
  async nextRequest(method: string, timeoutMs = 3000): Promise<Incoming> {
    const skipped: Incoming[] = [];
    try {
      for (;;) {
        const r = await this.requests.next(timeoutMs);
        if (r.request.method === method) return r;
        skipped.push(r);
      }
    } finally {
      for (const s of skipped) this.requests.items.push(s);
    }
  }

  close(): Promise<void> {
    return this.layer.close();
  }
}

function contactUri(message: SipRequest | SipResponse): string {
  const c = message.header('contact');
  if (!c) throw new Error('no Contact');
  return parseNameAddress(splitCommaList(c)[0]).uri.toString();
}

