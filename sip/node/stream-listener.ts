import * as net from 'node:net';
import * as tls from 'node:tls';
import { canonicalHost } from './ip-address.js';
import { DEFAULT_PORTS, type TcpListenerOptions, type TlsListenerOptions } from './node-transport-options.js';
import { loadOptionalPem, loadPem } from './pem-source.js';
import { StreamConnection } from './stream-connection.js';
import type { TransportContext } from './transport-context.js';

/**
 * A TCP or TLS server socket. Every accepted connection becomes a
 * {@link StreamConnection}; connections over `maxConnections` or
 * `maxConnectionsPerAddress` are dropped as they arrive.
 */
export class StreamListener {
  readonly protocol: 'TCP' | 'TLS';
  private server: net.Server | undefined;
  private bound: { host: string; port: number } | undefined;

  constructor(
    private readonly ctx: TransportContext,
    private readonly options: TcpListenerOptions | TlsListenerOptions,
  ) {
    this.protocol = options.protocol;
  }

  /** The address actually bound (the real port when 0 was asked for). */
  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  async start(): Promise<void> {
    const o = this.options;
    let server: net.Server;
    if (o.protocol === 'TLS') {
      const [cert, key, ca] = await Promise.all([loadPem(o.cert), loadPem(o.key), loadOptionalPem(o.ca)]);
      server = tls.createServer({
        cert,
        key,
        ca,
        requestCert: o.requestClientCert ?? false,
        rejectUnauthorized: false,
        handshakeTimeout: this.ctx.options.connectTimeoutMs,
      });
      server.on('secureConnection', (socket: tls.TLSSocket) => this.accept(socket));
      server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        this.ctx.logger.debug({ err, remote: socket.remoteAddress }, 'TLS handshake failed');
      });
      // Refuse over-limit clients before spending a TLS handshake on them.
      server.on('connection', (socket: net.Socket) => this.admitOrDrop(socket));
    } else {
      server = net.createServer((socket) => {
        if (this.admitOrDrop(socket)) this.accept(socket);
      });
    }
    server.on('error', (err) => this.ctx.logger.error({ err, protocol: this.protocol }, 'listener error'));
    const host = o.host ?? '0.0.0.0';
    await listen(server, host, o.port ?? DEFAULT_PORTS[o.protocol]);
    const a = server.address() as net.AddressInfo;
    this.server = server;
    this.bound = { host: a.address, port: a.port };
  }

  /** Stops accepting; open connections are closed by the transport. */
  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private admitOrDrop(socket: net.Socket): boolean {
    const remote = socket.remoteAddress;
    const refusal = this.ctx.closing ? 'closing' : remote === undefined ? 'gone' : this.ctx.connections.admit(canonicalHost(remote));
    if (refusal === undefined) return true;
    this.ctx.logger.warn({ protocol: this.protocol, remote, reason: refusal }, 'inbound connection refused');
    socket.destroy();
    return false;
  }

  private accept(socket: net.Socket): void {
    if (socket.destroyed) return;
    StreamConnection.accept(this.ctx, socket, this.protocol);
  }
}

/** Binds `server`, rejecting on EADDRINUSE and the like. */
export function listen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port, host, exclusive: true }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
