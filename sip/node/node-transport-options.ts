import type * as http from 'node:http';
import type * as https from 'node:https';
import { isIP } from 'node:net';
import { systemClock, type Clock } from '../util/clock.js';
import { noopLogger, type SipLogger } from '../util/logger.js';

/**
 * A PEM certificate or key: the PEM text itself (a string starting with
 * `-----BEGIN`, or bytes), or the path of a file that holds it.
 */
export type PemSource = string | Uint8Array;

/** A UDP socket. Default host `0.0.0.0`, port 5060 (RFC 3261 §19.1.2). */
export interface UdpListenerOptions {
  protocol: 'UDP';
  host?: string;
  port?: number;
  /**
   * SO_RCVBUF of the socket: datagrams that arrive while the event loop is
   * busy wait here, and the kernel drops what does not fit (a burst of
   * calls then turns into retransmissions). Default 4 MiB (Kamailio's
   * `maxbuffer`); the kernel caps it at `net.core.rmem_max`.
   */
  receiveBufferBytes?: number;
  /** SO_SNDBUF of the socket. Default 4 MiB, capped at `net.core.wmem_max`. */
  sendBufferBytes?: number;
}

/** Default socket buffer sizes of a UDP listener (see {@link UdpListenerOptions}). */
export const DEFAULT_UDP_BUFFER_BYTES = 4 * 1024 * 1024;

/** A TCP server. Default host `0.0.0.0`, port 5060. */
export interface TcpListenerOptions {
  protocol: 'TCP';
  host?: string;
  port?: number;
}

/** A TLS server (RFC 3261 §26.2). Default host `0.0.0.0`, port 5061. */
export interface TlsListenerOptions {
  protocol: 'TLS';
  host?: string;
  port?: number;
  cert: PemSource;
  key: PemSource;
  /** CAs that client certificates are checked against, when asked for. */
  ca?: PemSource;
  /** Ask clients for a certificate (not required to present one). Default false. */
  requestClientCert?: boolean;
}

/**
 * SIP over WebSocket (RFC 7118). Either its own HTTP(S) server on
 * `host`/`port` (default `0.0.0.0`, port 80 for WS and 443 for WSS, the
 * `ws:`/`wss:` URI defaults), or attached to an existing `server` so that
 * the SIP WebSocket and an HTTP API share one port. `path` is where the
 * upgrade is accepted; default `/sip`.
 */
export interface WebSocketListenerOptions {
  protocol: 'WS' | 'WSS';
  host?: string;
  port?: number;
  /** An existing server to attach to (http.Server for WS, https.Server for WSS). */
  server?: http.Server | https.Server;
  path?: string;
  /** Certificate and key of the server this listener creates for WSS. */
  cert?: PemSource;
  key?: PemSource;
  /**
   * Decides whether a handshake with this `Origin` is accepted (browsers
   * always send one). Default: every origin, since SIP requests are
   * authenticated on their own.
   */
  verifyOrigin?: (origin: string | undefined) => boolean;
}

export type ListenerOptions = UdpListenerOptions | TcpListenerOptions | TlsListenerOptions | WebSocketListenerOptions;

/** How outbound TLS and WSS connections check the server (Node's tls.connect options). */
export interface TlsClientOptions {
  /** Trusted CAs; default Node's bundled roots. */
  ca?: PemSource;
  /** A client certificate and key to present, for mutual TLS. */
  cert?: PemSource;
  key?: PemSource;
  /** Refuse servers whose certificate does not verify. Default true. */
  rejectUnauthorized?: boolean;
}

/** Options of a {@link NodeTransport}. Every limit has a default. */
export interface NodeTransportOptions {
  /** Sockets and servers to open; at least one. */
  listeners: readonly ListenerOptions[];
  /**
   * The host written in Via sent-by and Record-Route for a listener bound
   * to the any-address (`0.0.0.0`, `::`), which has no address of its own
   * to advertise. Default `127.0.0.1`.
   */
  advertisedHost?: string;
  /** Largest SIP message accepted on any transport, in bytes. Default 65535. */
  maxMessageSize?: number;
  /** A connection with no traffic either way for this long is closed; 0 never. Default 600 000 (10 minutes). */
  idleTimeoutMs?: number;
  /** Time allowed for an outbound connect and for a TLS or WebSocket handshake. Default 10 000. */
  connectTimeoutMs?: number;
  /** Time a closing connection may take to flush before it is destroyed. Default 2 000. */
  closeTimeoutMs?: number;
  /** Open TCP, TLS, WS and WSS connections, both directions. Default 10 000. */
  maxConnections?: number;
  /** Inbound connections from one remote IP address. Default 100. */
  maxConnectionsPerAddress?: number;
  /** UDP flows remembered for `flowById` lookups before the oldest is forgotten. Default 100 000. */
  maxUdpFlows?: number;
  /** Bytes queued for a connection that does not read before it is dropped. Default 1 048 576. */
  maxWriteBufferBytes?: number;
  /** Largest WebSocket message (`ws` maxPayload); bigger ones close the connection with 1009. Default `maxMessageSize`. */
  wsMaxPayload?: number;
  /** Path of outbound WS/WSS connections (`ws://host:port/sip`). Default `/sip`. */
  wsPath?: string;
  /** How outbound TLS and WSS connections verify servers. */
  tlsClient?: TlsClientOptions;
  clock?: Clock;
  logger?: SipLogger;
}

/** {@link NodeTransportOptions} with every default filled in. */
export interface ResolvedNodeTransportOptions {
  listeners: readonly ListenerOptions[];
  advertisedHost: string;
  maxMessageSize: number;
  idleTimeoutMs: number;
  connectTimeoutMs: number;
  closeTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  maxUdpFlows: number;
  maxWriteBufferBytes: number;
  wsMaxPayload: number;
  wsPath: string;
  tlsClient: TlsClientOptions;
  clock: Clock;
  logger: SipLogger;
}

export const DEFAULT_PORTS = { UDP: 5060, TCP: 5060, TLS: 5061, WS: 80, WSS: 443 } as const;
export const DEFAULT_WS_PATH = '/sip';

/** Fills in defaults and throws TypeError naming the first bad option. */
export function resolveNodeTransportOptions(options: NodeTransportOptions): ResolvedNodeTransportOptions {
  if (!options || !Array.isArray(options.listeners) || options.listeners.length === 0) {
    throw new TypeError('options.listeners must list at least one listener');
  }
  options.listeners.forEach((l, i) => checkListener(l, `options.listeners[${i}]`));
  const maxMessageSize = int(options.maxMessageSize, 65535, 'maxMessageSize', 256);
  const resolved: ResolvedNodeTransportOptions = {
    listeners: options.listeners,
    advertisedHost: options.advertisedHost ?? '127.0.0.1',
    maxMessageSize,
    idleTimeoutMs: int(options.idleTimeoutMs, 600_000, 'idleTimeoutMs', 0),
    connectTimeoutMs: int(options.connectTimeoutMs, 10_000, 'connectTimeoutMs', 1),
    closeTimeoutMs: int(options.closeTimeoutMs, 2_000, 'closeTimeoutMs', 0),
    maxConnections: int(options.maxConnections, 10_000, 'maxConnections', 1),
    maxConnectionsPerAddress: int(options.maxConnectionsPerAddress, 100, 'maxConnectionsPerAddress', 1),
    maxUdpFlows: int(options.maxUdpFlows, 100_000, 'maxUdpFlows', 1),
    maxWriteBufferBytes: int(options.maxWriteBufferBytes, 1_048_576, 'maxWriteBufferBytes', 1),
    wsMaxPayload: int(options.wsMaxPayload, maxMessageSize, 'wsMaxPayload', 256),
    wsPath: options.wsPath ?? DEFAULT_WS_PATH,
    tlsClient: options.tlsClient ?? {},
    clock: options.clock ?? systemClock,
    logger: options.logger ?? noopLogger,
  };
  if (typeof resolved.advertisedHost !== 'string' || resolved.advertisedHost === '') {
    throw new TypeError('advertisedHost must be a non-empty host name or IP address');
  }
  if (!resolved.wsPath.startsWith('/')) throw new TypeError('wsPath must start with "/"');
  return resolved;
}

function int(value: number | undefined, fallback: number, name: string, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min) throw new TypeError(`${name} must be an integer >= ${min}, got ${String(value)}`);
  return value;
}

function checkListener(l: ListenerOptions, where: string): void {
  if (!l || typeof l !== 'object') throw new TypeError(`${where} must be an object`);
  const protocol: string = l.protocol;
  if (!['UDP', 'TCP', 'TLS', 'WS', 'WSS'].includes(protocol)) {
    throw new TypeError(`${where}.protocol must be UDP, TCP, TLS, WS or WSS, got ${JSON.stringify(protocol)}`);
  }
  if (l.host !== undefined && (typeof l.host !== 'string' || l.host === '')) throw new TypeError(`${where}.host must be a non-empty string`);
  if (l.host !== undefined && l.protocol === 'UDP' && isIP(l.host) === 0) {
    throw new TypeError(`${where}.host must be an IP address for UDP (the socket family follows it)`);
  }
  if (l.port !== undefined && (!Number.isInteger(l.port) || l.port < 0 || l.port > 65535)) {
    throw new TypeError(`${where}.port must be an integer 0..65535`);
  }
  if (l.protocol === 'UDP') {
    for (const k of ['receiveBufferBytes', 'sendBufferBytes'] as const) {
      const v = l[k];
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) throw new TypeError(`${where}.${k} must be a positive integer`);
    }
  }
  if (l.protocol === 'TLS') {
    if (!isPem(l.cert) || !isPem(l.key)) throw new TypeError(`${where} needs cert and key (PEM text, bytes or file path)`);
  }
  if (l.protocol === 'WS' || l.protocol === 'WSS') {
    if (l.path !== undefined && (typeof l.path !== 'string' || !l.path.startsWith('/'))) throw new TypeError(`${where}.path must start with "/"`);
    if (l.server) {
      if (l.host !== undefined || l.port !== undefined) throw new TypeError(`${where}: give either server or host/port, not both`);
      // https.Server is a tls.Server underneath; http.Server is not.
      const secure = typeof (l.server as { addContext?: unknown }).addContext === 'function';
      if (secure !== (l.protocol === 'WSS')) throw new TypeError(`${where}: ${l.protocol} needs ${l.protocol === 'WSS' ? 'an https' : 'an http'}.Server`);
    } else if (l.protocol === 'WSS' && (!isPem(l.cert) || !isPem(l.key))) {
      throw new TypeError(`${where} needs cert and key, or an https server to attach to`);
    }
    if (l.verifyOrigin !== undefined && typeof l.verifyOrigin !== 'function') throw new TypeError(`${where}.verifyOrigin must be a function`);
  }
}

function isPem(v: unknown): boolean {
  return (typeof v === 'string' && v !== '') || (v instanceof Uint8Array && v.length > 0);
}
