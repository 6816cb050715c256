import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { canonicalHost } from './ip-address.js';
import { DEFAULT_PORTS, DEFAULT_WS_PATH, type WebSocketListenerOptions } from './node-transport-options.js';
import { loadPem } from './pem-source.js';
import { listen } from './stream-listener.js';
import type { TransportContext } from './transport-context.js';
import { SIP_SUBPROTOCOL, WebSocketConnection } from './websocket-connection.js';

/**
 * Accepts SIP over WebSocket (RFC 7118) on one path of an HTTP(S) server:
 * a server of its own, or one the application already runs (the relay's
 * HTTP API), so that both share a port. The handshake is refused unless the
 * client offers the `sip` subprotocol (RFC 7118 §4), and when limits or
 * `verifyOrigin` say no. Upgrades on other paths are left to other
 * 'upgrade' listeners of a shared server, or refused with 404 when there
 * are none.
 */
export class WebSocketListener {
  readonly protocol: 'WS' | 'WSS';
  readonly path: string;
  private readonly wss: WebSocketServer;
  private server: http.Server | https.Server | undefined;
  private readonly owned: boolean;
  private bound: { host: string; port: number } | undefined;
  private readonly onUpgrade = (req: http.IncomingMessage, socket: Duplex, head: Buffer): void => this.upgrade(req, socket, head);

  constructor(
    private readonly ctx: TransportContext,
    private readonly options: WebSocketListenerOptions,
  ) {
    this.protocol = options.protocol;
    this.path = options.path ?? DEFAULT_WS_PATH;
    this.owned = options.server === undefined;
    this.server = options.server;
    this.wss = new WebSocketServer({
      noServer: true,
      // Connections are tracked in the transport's flow table.
      clientTracking: false,
      maxPayload: ctx.options.wsMaxPayload,
      perMessageDeflate: false,
      handleProtocols: selectSip,
    });
  }

  /** Where the listener is reachable: its own server's address, or the shared server's. */
  get address(): { host: string; port: number } | undefined {
    if (this.bound) return this.bound;
    const a = this.server?.address();
    return a && typeof a === 'object' ? { host: a.address, port: a.port } : undefined;
  }

  async start(): Promise<void> {
    if (this.owned) {
      const o = this.options;
      const server =
        o.protocol === 'WSS'
          ? https.createServer({ cert: await loadPem(o.cert!), key: await loadPem(o.key!), handshakeTimeout: this.ctx.options.connectTimeoutMs }, answerPlainHttp)
          : http.createServer(answerPlainHttp);
      // A client that connects and never sends its upgrade request is dropped after the connect timeout.
      server.headersTimeout = this.ctx.options.connectTimeoutMs;
      server.requestTimeout = this.ctx.options.connectTimeoutMs;
      server.on('error', (err) => this.ctx.logger.error({ err, protocol: this.protocol }, 'listener error'));
      server.on('tlsClientError', (err: Error) => this.ctx.logger.debug({ err }, 'TLS handshake failed'));
      server.on('upgrade', this.onUpgrade);
      await listen(server, o.host ?? '0.0.0.0', o.port ?? DEFAULT_PORTS[o.protocol]);
      const a = server.address() as AddressInfo;
      this.server = server;
      this.bound = { host: a.address, port: a.port };
    } else {
      this.server!.on('upgrade', this.onUpgrade);
    }
  }

  /** Stops accepting; WebSocket connections are closed by the transport. A shared server keeps running. */
  close(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    server.off('upgrade', this.onUpgrade);
    if (!this.owned) return Promise.resolve();
    this.server = undefined;
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const pathname = q < 0 ? url : url.slice(0, q);
      if (pathname !== this.path) {
        // Another 'upgrade' listener of a shared server may want it (e.g. a dev server's HMR socket).
        if (this.owned || this.server!.listenerCount('upgrade') <= 1) reject(socket, 404, 'Not Found');
        return;
      }
      if (!offersSip(req.headers['sec-websocket-protocol'])) {
        this.ctx.logger.debug({ remote: req.socket.remoteAddress }, 'WebSocket handshake without subprotocol sip refused');
        reject(socket, 400, 'Bad Request', 'SIP over WebSocket needs Sec-WebSocket-Protocol: sip (RFC 7118)');
        return;
      }
      const verifyOrigin = this.options.verifyOrigin;
      if (verifyOrigin && !verifyOrigin(req.headers.origin)) {
        this.ctx.logger.info({ remote: req.socket.remoteAddress, origin: req.headers.origin }, 'WebSocket origin refused');
        reject(socket, 403, 'Forbidden');
        return;
      }
      const remote = req.socket.remoteAddress;
      const refusal = this.ctx.closing ? 'closing' : remote === undefined ? 'gone' : this.ctx.connections.admit(canonicalHost(remote));
      if (refusal !== undefined) {
        this.ctx.logger.warn({ protocol: this.protocol, remote, reason: refusal }, 'inbound connection refused');
        reject(socket, 503, 'Service Unavailable');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
        if (this.ctx.closing) {
          ws.terminate();
          return;
        }
        WebSocketConnection.accept(this.ctx, ws, req, this.protocol);
      });
    } catch (err) {
      this.ctx.logger.error({ err }, 'WebSocket upgrade failed');
      socket.destroy();
    }
  }
}

/** The client offered `sip` among its subprotocols. */
function offersSip(header: string | undefined): boolean {
  if (!header) return false;
  for (const p of header.split(',')) if (p.trim() === SIP_SUBPROTOCOL) return true;
  return false;
}

/** Chooses `sip`; only called once {@link offersSip} said it is there. */
function selectSip(): string {
  return SIP_SUBPROTOCOL;
}

/** Writes a plain HTTP refusal of an upgrade and drops the socket once it is written. */
function reject(socket: Duplex, status: number, reason: string, text = reason): void {
  // An upgrade socket has no 'error' listener of its own until ws adds one.
  socket.on('error', ignore);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', socket.destroy);
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`);
}

function ignore(): void {}

/** A plain request to the SIP WebSocket server: say how to use it. */
function answerPlainHttp(_req: http.IncomingMessage, res: http.ServerResponse): void {
  res.writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' });
  res.end('SIP over WebSocket (RFC 7118): open a WebSocket with subprotocol "sip"\n');
}
