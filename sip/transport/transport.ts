import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';

/** Transport names as they appear in Via (RFC 3261 §18, RFC 7118 §5.3). */
export type TransportProtocol = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

/** UDP is the only unreliable transport here: it alone gets retransmissions (§17.1.1.2). */
export function isReliable(protocol: TransportProtocol): boolean {
  return protocol !== 'UDP';
}

/** True for transports that need TLS underneath (SIPS, §26.2). */
export function isSecure(protocol: TransportProtocol): boolean {
  return protocol === 'TLS' || protocol === 'WSS';
}

/** A transport address: protocol, host (IP or name, IPv6 without brackets) and port. */
export interface Endpoint {
  protocol: TransportProtocol;
  host: string;
  port: number;
}

/**
 * The path one message travelled: a connection for TCP, TLS, WS and WSS, or
 * a (local socket, remote address) pair for UDP. A flow is what RFC 5626
 * calls a flow; responses and requests toward a WebSocket client must go
 * back over the very flow it connected on (RFC 7118 §5).
 */
export interface Flow {
  /** Unique for the life of the process, stable while the flow is open. */
  readonly id: string;
  readonly protocol: TransportProtocol;
  readonly reliable: boolean;
  readonly local: { host: string; port: number };
  readonly remote: { host: string; port: number };
  /** False once the connection closed (always true for UDP). */
  readonly isOpen: boolean;
  /** Sends serialised bytes; returns false when the flow is closed. Never throws. */
  send(bytes: Uint8Array): boolean;
  /** Closes the connection (no-op for UDP). */
  close(): void;
}

/** A message handed up by a transport, with where it came from. */
export interface InboundMessage {
  message: SipRequest | SipResponse;
  flow: Flow;
}

/** A datagram or stream frame that did not parse, for a stateless 400 (§18.1.2). */
export interface InboundError {
  error: import('../errors.js').SipParseError;
  flow: Flow;
  /** The raw bytes, for logs (truncated by the transport if large). */
  bytes: Uint8Array;
}

/** What a transport reports upward. Set once by the layer above. */
export interface TransportListener {
  onMessage(inbound: InboundMessage): void;
  /** A message that failed to parse; the layer above may answer 400. */
  onParseError?(inbound: InboundError): void;
  /** A connection-oriented flow closed (lets registrations bound to it go). */
  onFlowClosed?(flow: Flow): void;
}

/**
 * The transport layer as the transaction layer sees it (RFC 3261 §18):
 * deliver inbound messages, and give a flow to send on for a destination.
 * Node provides listeners for UDP/TCP/TLS/WS/WSS (`sip/node/`), the browser
 * one WebSocket flow (`sip/transport/websocket-transport.ts`).
 */
export interface Transport {
  /** Protocols this transport can send on. */
  readonly protocols: readonly TransportProtocol[];
  /** Sets who receives inbound messages. */
  listen(listener: TransportListener): void;
  /**
   * A flow to `dest`: an open one that fits (same protocol and remote
   * address), or a new one. For TCP/TLS/WS the connection may still be
   * opening; bytes sent meanwhile are queued. Throws TransportError when
   * the protocol is not available.
   */
  flowTo(dest: Endpoint): Flow;
  /** An open flow by id, if it still exists (for WS clients reachable only that way). */
  flowById(id: string): Flow | undefined;
  /**
   * The sent-by (host and port) to put in Via for a request sent over
   * `protocol` (§18.1.1), and the host for Record-Route / Contact.
   * `port` is 0 when there is no port to advertise (a browser's random
   * `.invalid` host, RFC 7118 §5.2): write the sent-by without a port then.
   */
  localAddress(protocol: TransportProtocol): { host: string; port: number } | undefined;
  /** Stops listening and closes every flow. */
  close(): Promise<void>;
}

/** Codes of {@link TransportError}. */
export type TransportErrorCode =
  | 'SIP_ERR_TRANSPORT_UNAVAILABLE'
  | 'SIP_ERR_TRANSPORT_CLOSED'
  | 'SIP_ERR_TRANSPORT_CONNECT';

/** A destination cannot be reached over the transport asked for. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly code: TransportErrorCode,
    detail: string,
  ) {
    super(detail);
  }
}
