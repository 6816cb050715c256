import { TransportError, type Endpoint, type Flow, type Transport, type TransportListener, type TransportProtocol } from '../transport/transport.js';
import type { ConnectionFlow } from './connection-flow.js';
import { canonicalHost, ipFamily, isWildcardHost } from './ip-address.js';
import { resolveNodeTransportOptions, type NodeTransportOptions, type ResolvedNodeTransportOptions } from './node-transport-options.js';
import { loadOptionalPem } from './pem-source.js';
import { StreamConnection, type TlsConnectMaterial } from './stream-connection.js';
import { StreamListener } from './stream-listener.js';
import { TransportContext } from './transport-context.js';
import { parseUdpFlowId } from './udp-flow.js';
import { UdpListener } from './udp-listener.js';
import { WebSocketConnection, WS_GOING_AWAY } from './websocket-connection.js';
import { WebSocketListener } from './websocket-listener.js';

/** One listener's bound address, as {@link NodeTransport.boundAddresses} reports it. */
export interface BoundAddress {
  protocol: TransportProtocol;
  host: string;
  port: number;
  /** The upgrade path, for WS and WSS. */
  path?: string;
}

/** `created` → `started` (after `start()`) → `closing` → `closed`. */
export type NodeTransportState = 'created' | 'starting' | 'started' | 'closing' | 'closed';

type AnyListener = UdpListener | StreamListener | WebSocketListener;

/**
 * The relay's transports (RFC 3261 §18, RFC 7118) behind the one
 * {@link Transport} interface: any number of UDP, TCP, TLS, WS and WSS
 * listeners, inbound and outbound connections, and the flows they carry.
 *
 * ```ts
 * const transport = new NodeTransport({ listeners: [
 *   { protocol: 'UDP', host: '127.0.0.1', port: 5060 },
 *   { protocol: 'TCP', host: '127.0.0.1', port: 5060 },
 *   { protocol: 'WS', server: httpServer, path: '/sip' },
 * ] });
 * transactionLayer = new TransactionLayer(transport); // calls transport.listen()
 * await transport.start();
 * ```
 *
 * A protocol can be sent on when a listener for it is configured: that
 * listener's address is the sent-by of Via (§18.1.1).
 */
export class NodeTransport implements Transport {
  readonly protocols: readonly TransportProtocol[];
  private readonly options: ResolvedNodeTransportOptions;
  private readonly ctx: TransportContext;
  private readonly udp: UdpListener[] = [];
  private readonly stream: StreamListener[] = [];
  private readonly websocket: WebSocketListener[] = [];
  /** Listeners in the order the options gave them. */
  private readonly all: AnyListener[] = [];
  private tlsMaterial: TlsConnectMaterial | undefined;
  private _state: NodeTransportState = 'created';
  private closePromise: Promise<void> | undefined;

  constructor(options: NodeTransportOptions) {
    this.options = resolveNodeTransportOptions(options);
    this.ctx = new TransportContext(this.options);
    for (const l of this.options.listeners) {
      if (l.protocol === 'UDP') this.add(this.udp, new UdpListener(this.ctx, l));
      else if (l.protocol === 'TCP' || l.protocol === 'TLS') this.add(this.stream, new StreamListener(this.ctx, l));
      else this.add(this.websocket, new WebSocketListener(this.ctx, l));
    }
    this.protocols = Object.freeze([...new Set(this.all.map((l) => l.protocol))]);
  }

  get state(): NodeTransportState {
    return this._state;
  }

  /** Open TCP, TLS, WS and WSS connections. */
  get connectionCount(): number {
    return this.ctx.connections.size;
  }

  listen(listener: TransportListener): void {
    if (this.ctx.listener && this.ctx.listener !== listener) throw new TypeError('NodeTransport.listen: a listener is already set');
    this.ctx.listener = listener;
  }

  /**
   * Binds every listener and loads certificates. Rejects with the first
   * failure (EADDRINUSE, ENOENT for a certificate file, a bad PEM), after
   * closing what was already bound.
   */
  async start(): Promise<void> {
    if (this._state !== 'created') throw new TypeError(`NodeTransport.start: already ${this._state}`);
    this._state = 'starting';
    try {
      const c = this.options.tlsClient;
      const [ca, cert, key] = await Promise.all([loadOptionalPem(c.ca), loadOptionalPem(c.cert), loadOptionalPem(c.key)]);
      this.tlsMaterial = { ca, cert, key, rejectUnauthorized: c.rejectUnauthorized ?? true };
      await Promise.all(this.all.map((l) => l.start()));
    } catch (e) {
      await Promise.allSettled(this.all.map((l) => l.close()));
      this._state = 'closed';
      throw e;
    }
    this._state = 'started';
  }

  /**
   * A flow to `dest` (RFC 3261 §18.1.1). UDP: the flow from the listener
   * socket of the destination's address family. TCP, TLS, WS, WSS: an open
   * connection to exactly that host and port if there is one, else a new
   * outbound connection (sends are queued while it opens; if it fails the
   * flow closes and `onFlowClosed` is called). Throws TransportError:
   * `SIP_ERR_TRANSPORT_UNAVAILABLE` when no listener of that protocol is
   * configured, `SIP_ERR_TRANSPORT_CLOSED` before `start()` or after
   * `close()`, `SIP_ERR_TRANSPORT_CONNECT` when `maxConnections` is reached.
   */
  flowTo(dest: Endpoint): Flow {
    if (this._state !== 'started') throw new TransportError('SIP_ERR_TRANSPORT_CLOSED', `transport is ${this._state}`);
    const { protocol } = dest;
    if (!this.protocols.includes(protocol)) throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', `no ${protocol} listener`);
    if (!Number.isInteger(dest.port) || dest.port < 1 || dest.port > 65535) {
      throw new TransportError('SIP_ERR_TRANSPORT_CONNECT', `bad port ${String(dest.port)}`);
    }
    if (protocol === 'UDP') return this.udpListenerFor(dest.host).flowFor(dest.host, dest.port);
    const host = canonicalHost(dest.host);
    const open = this.ctx.connections.findOpen(protocol, host, dest.port);
    if (open) return open;
    if (!this.ctx.connections.hasRoom()) {
      throw new TransportError('SIP_ERR_TRANSPORT_CONNECT', `maxConnections (${this.options.maxConnections}) reached`);
    }
    const target = { protocol, host, port: dest.port };
    if (protocol === 'TCP' || protocol === 'TLS') return StreamConnection.connect(this.ctx, { ...target, protocol }, this.tlsMaterial);
    return WebSocketConnection.connect(this.ctx, { ...target, protocol }, this.tlsMaterial);
  }

  flowById(id: string): Flow | undefined {
    const connection = this.ctx.connections.get(id);
    if (connection) return connection.isOpen ? connection : undefined;
    if (this._state !== 'started') return undefined;
    const u = parseUdpFlowId(id);
    // Only IP literals: an id must never make the relay resolve or reach a name.
    if (!u || ipFamily(u.remoteHost) === 0) return undefined;
    for (const l of this.udp) {
      const a = l.address;
      if (a && a.host === u.localHost && a.port === u.localPort) return l.flowFor(u.remoteHost, u.remotePort);
    }
    return undefined;
  }

  /**
   * The sent-by for Via and the address for Record-Route (§18.1.1): the
   * first listener of `protocol`, with `advertisedHost` in place of an
   * any-address. Undefined when there is no such listener or it is not bound.
   */
  localAddress(protocol: TransportProtocol): { host: string; port: number } | undefined {
    const l = this.all.find((x) => x.protocol === protocol);
    const a = l?.address;
    if (!a) return undefined;
    return { host: isWildcardHost(a.host) ? this.options.advertisedHost : a.host, port: a.port };
  }

  /** The addresses the listeners are bound to, with real ports where 0 was asked for. */
  boundAddresses(): BoundAddress[] {
    const out: BoundAddress[] = [];
    for (const l of this.all) {
      const a = l.address;
      if (!a) continue;
      const b: BoundAddress = { protocol: l.protocol, host: a.host, port: a.port };
      if (l instanceof WebSocketListener) b.path = l.path;
      out.push(b);
    }
    return out;
  }

  /**
   * Stops every listener and closes every connection: WebSockets with
   * 1001 "going away", TCP and TLS with FIN after flushing, each destroyed
   * if it has not closed within `closeTimeoutMs`. Resolves when all are
   * closed; `onFlowClosed` is called for each. Safe to call twice.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this._state = 'closing';
    this.ctx.closing = true;
    const listenersClosed = Promise.allSettled(this.all.map((l) => l.close()));
    const connections = this.ctx.connections.snapshot() as ConnectionFlow[];
    const gone = connections.map((c) => c.whenClosed());
    for (const c of connections) {
      if (c instanceof WebSocketConnection) c.close(WS_GOING_AWAY);
      else c.close();
    }
    await Promise.all(gone);
    await listenersClosed;
    this._state = 'closed';
  }

  private add<L extends AnyListener>(list: L[], listener: L): void {
    list.push(listener);
    this.all.push(listener);
  }

  /** The UDP socket to send to `host` from: same address family; IPv4 over a dual-stack IPv6 socket as last resort. */
  private udpListenerFor(host: string): UdpListener {
    const family = ipFamily(canonicalHost(host));
    const wanted = family === 6 ? 6 : 4;
    return this.udp.find((l) => l.family === wanted) ?? (wanted === 4 ? this.udp.find((l) => l.address && isWildcardHost(l.address.host)) : undefined) ?? this.udp[0];
  }
}
