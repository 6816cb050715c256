/**
 * Test doubles for the transaction layer: flows that record the bytes sent
 * on them (parsed back with parseMessage so tests assert on what a peer
 * would see), and a transport that hands inbound text to the layer.
 */
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import {
  type Endpoint,
  type Flow,
  type Transport,
  TransportError,
  type TransportListener,
  type TransportProtocol,
  isReliable,
} from '../../../sip/transport/transport.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction, ServerTransactionUser } from '../../../sip/transaction/transaction-user.js';
import type { TransactionLayerHandler } from '../../../sip/transaction/transaction-layer.js';
import type { ServerInviteTransaction } from '../../../sip/transaction/server-invite-transaction.js';
import type { TransportError as TE } from '../../../sip/transport/transport.js';

let nextFlowId = 1;

export const LOCAL = { host: '192.0.2.10', port: 5060 };

export class FakeFlow implements Flow {
  readonly id: string;
  readonly reliable: boolean;
  isOpen = true;
  readonly sent: Uint8Array[] = [];
  /** When false, send() refuses bytes as a closed socket would. */
  accept = true;

  constructor(
    readonly protocol: TransportProtocol,
    readonly remote: { host: string; port: number },
    readonly local: { host: string; port: number } = LOCAL,
  ) {
    this.id = 'flow-' + nextFlowId++;
    this.reliable = isReliable(protocol);
  }

  send(bytes: Uint8Array): boolean {
    if (!this.isOpen || !this.accept) return false;
    this.sent.push(bytes);
    return true;
  }

  close(): void {
    if (this.protocol !== 'UDP') this.isOpen = false;
  }

  /** Everything sent so far, parsed. */
  messages(): Array<SipRequest | SipResponse> {
    return this.sent.map((b) => parseMessage(b));
  }

  /** Messages sent since the last call, parsed. */
  take(): Array<SipRequest | SipResponse> {
    const out = this.messages();
    this.sent.length = 0;
    return out;
  }

  /** Start lines of the messages sent since the last call. */
  takeLines(): string[] {
    return this.take().map((m) => m.startLine());
  }
}

export class FakeTransport implements Transport {
  readonly protocols: readonly TransportProtocol[] = ['UDP', 'TCP', 'TLS', 'WS', 'WSS'];
  listener: TransportListener | undefined;
  readonly flows: FakeFlow[] = [];
  /** Protocols for which flowTo() throws, as a transport without that listener does. */
  readonly unavailable = new Set<TransportProtocol>();
  closed = false;

  listen(listener: TransportListener): void {
    this.listener = listener;
  }

  flowTo(dest: Endpoint): FakeFlow {
    if (this.unavailable.has(dest.protocol)) throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', `no ${dest.protocol}`);
    const found = this.flows.find((f) => f.isOpen && f.protocol === dest.protocol && f.remote.host === dest.host && f.remote.port === dest.port);
    if (found) return found;
    const flow = new FakeFlow(dest.protocol, { host: dest.host, port: dest.port });
    this.flows.push(flow);
    return flow;
  }

  flowById(id: string): Flow | undefined {
    return this.flows.find((f) => f.id === id && f.isOpen);
  }

  localAddress(_protocol: TransportProtocol): { host: string; port: number } {
    return LOCAL;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** A flow from a peer, registered so that flowTo() finds it. */
  peer(protocol: TransportProtocol, host = '192.0.2.1', port = 5060): FakeFlow {
    const flow = new FakeFlow(protocol, { host, port });
    this.flows.push(flow);
    return flow;
  }

  /** Parses `text` (LF line ends become CRLF) and hands it to the layer as if it came on `flow`. */
  deliver(text: string, flow: Flow): SipRequest | SipResponse {
    const message = parseMessage(crlf(text));
    this.listener?.onMessage({ message, flow });
    return message;
  }

  /** Hands an already built message to the layer. */
  deliverMessage(message: SipRequest | SipResponse, flow: Flow): void {
    this.listener?.onMessage({ message, flow });
  }

  /** Closes a connection-oriented flow and tells the layer. */
  dropFlow(flow: FakeFlow): void {
    flow.isOpen = false;
    this.listener?.onFlowClosed?.(flow);
  }
}

/** Turns a template with LF line ends into wire text with CRLF. */
export function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

/** A handler that records what the layer hands up and answers nothing. */
export class RecordingHandler implements TransactionLayerHandler {
  readonly requests: Array<{ request: SipRequest; transaction: ServerTransaction; flow: Flow }> = [];
  readonly acks: Array<{ ack: SipRequest; flow: Flow; transaction?: ServerInviteTransaction }> = [];
  readonly strays: SipResponse[] = [];
  /** Runs inside onRequest, e.g. to answer at once. */
  respond: ((request: SipRequest, transaction: ServerTransaction) => void) | undefined;

  onRequest(request: SipRequest, transaction: ServerTransaction, flow: Flow): void {
    this.requests.push({ request, transaction, flow });
    this.respond?.(request, transaction);
  }

  onAck(ack: SipRequest, flow: Flow, transaction?: ServerInviteTransaction): void {
    this.acks.push({ ack, flow, transaction });
  }

  onStrayResponse(response: SipResponse): void {
    this.strays.push(response);
  }
}

/** A client TU that records every callback in order. */
export class RecordingClientUser implements ClientTransactionUser {
  readonly events: string[] = [];
  readonly responses: SipResponse[] = [];
  readonly errors: TE[] = [];

  onResponse(response: SipResponse, _tx: ClientTransaction): void {
    this.responses.push(response);
    this.events.push('response ' + response.status);
  }

  onTimeout(_tx: ClientTransaction): void {
    this.events.push('timeout');
  }

  onTransportError(_tx: ClientTransaction, error: TE): void {
    this.errors.push(error);
    this.events.push('transport-error ' + error.code);
  }

  onTerminated(tx: ClientTransaction): void {
    this.events.push('terminated ' + tx.state);
  }
}

/** A server TU that records every callback in order. */
export class RecordingServerUser implements ServerTransactionUser {
  readonly events: string[] = [];

  onTimeout(_tx: ServerTransaction): void {
    this.events.push('timeout');
  }

  onTransportError(_tx: ServerTransaction, error: TE): void {
    this.events.push('transport-error ' + error.code);
  }

  onTerminated(tx: ServerTransaction): void {
    this.events.push('terminated ' + tx.state);
  }
}
