import * as net from 'node:net';
import * as tls from 'node:tls';
import { isSipParseError } from '../errors.js';
import { StreamFramer } from '../message/stream-framer.js';
import type { Endpoint } from '../transport/transport.js';
import { ConnectionFlow } from './connection-flow.js';
import { canonicalHost, ipFamily } from './ip-address.js';
import type { TransportContext } from './transport-context.js';

const kConnection = Symbol('siprelay.streamConnection');

interface OwnedSocket extends net.Socket {
  [kConnection]: StreamConnection;
}

/** The answer to a CRLF CRLF keep-alive ping (RFC 5626 §3.5.1). */
const PONG = Buffer.from('\r\n');

/** Secure-context material for outbound TLS, loaded once by the transport. */
export interface TlsConnectMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
}

/**
 * A TCP or TLS connection carrying SIP (RFC 3261 §18.3): bytes are framed
 * into messages by Content-Length with a {@link StreamFramer}; a CRLF CRLF
 * ping is answered with CRLF (RFC 5626 §3.5.1). When framing fails the
 * stream cannot be trusted any more and the connection is closed (RFC 4475
 * §3.1.2.3). Socket events go to module-level functions that find the
 * connection through a symbol on the socket, so nothing is allocated per
 * chunk beyond what the framer returns.
 */
export class StreamConnection extends ConnectionFlow {
  private readonly socket: OwnedSocket;
  private readonly framer: StreamFramer;

  private constructor(ctx: TransportContext, socket: net.Socket, protocol: 'TCP' | 'TLS', inbound: boolean, remote: { host: string; port: number }) {
    super(ctx, protocol, inbound, remote);
    this.framer = new StreamFramer({ maxMessageSize: ctx.options.maxMessageSize });
    this.socket = socket as OwnedSocket;
    this.socket[kConnection] = this;
    socket.setNoDelay(true);
    socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    if (inbound) this.setLocal(socket.localAddress, socket.localPort);
    else socket.once(protocol === 'TLS' ? 'secureConnect' : 'connect', onSocketConnect);
  }

  /** Wraps a socket a TCP or TLS server accepted; undefined if it is already gone. */
  static accept(ctx: TransportContext, socket: net.Socket, protocol: 'TCP' | 'TLS'): StreamConnection | undefined {
    const host = socket.remoteAddress;
    const port = socket.remotePort;
    if (host === undefined || port === undefined) {
      socket.destroy();
      return undefined;
    }
    return new StreamConnection(ctx, socket, protocol, true, { host: canonicalHost(host), port });
  }

  /**
   * Opens a connection to `dest`. Node queues what is written before the
   * connection is up, which is what the Transport contract asks for.
   */
  static connect(ctx: TransportContext, dest: Endpoint & { protocol: 'TCP' | 'TLS' }, material: TlsConnectMaterial | undefined): StreamConnection {
    const host = canonicalHost(dest.host);
    let socket: net.Socket;
    if (dest.protocol === 'TLS') {
      socket = tls.connect({
        host,
        port: dest.port,
        // SNI carries names only (RFC 6066 §3).
        servername: ipFamily(host) === 0 ? host : undefined,
        ca: material?.ca,
        cert: material?.cert,
        key: material?.key,
        rejectUnauthorized: material?.rejectUnauthorized ?? true,
      });
    } else {
      socket = net.connect({ host, port: dest.port });
    }
    return new StreamConnection(ctx, socket, dest.protocol, false, { host, port: dest.port });
  }

  send(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const socket = this.socket;
    if (socket.writableLength + bytes.length > this.ctx.options.maxWriteBufferBytes) {
      this.ctx.logger.warn({ flow: this.id, remote: this.remote, queued: socket.writableLength }, 'peer does not read; connection dropped');
      this.destroy();
      return false;
    }
    this.touch();
    socket.write(bytes);
    return true;
  }

  close(): void {
    if (!this.beginClose()) return;
    // end() flushes what is queued and sends FIN (TLS: close_notify); the socket is destroyed once flushed.
    this.socket.destroySoon();
  }

  destroy(): void {
    this.beginClose();
    this.socket.destroy();
  }

  /** Bytes from the socket: frame them and hand each message up. */
  receive(chunk: Buffer): void {
    if (this.state !== 'open') return;
    this.touch();
    let items;
    try {
      items = this.framer.push(chunk);
    } catch (e) {
      if (!isSipParseError(e)) {
        this.ctx.logger.error({ err: e, flow: this.id }, 'stream framer threw a non-SIP error; connection dropped');
        this.destroy();
        return;
      }
      this.ctx.logger.info({ flow: this.id, remote: this.remote, code: e.code, detail: e.message }, 'stream framing failed; closing connection');
      this.ctx.reportParseError(e, this, chunk);
      this.close();
      return;
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.kind === 'message') this.ctx.deliver(this, item.bytes, this.ctx.streamParse);
      else if (item.kind === 'ping') this.socket.write(PONG);
      // The layer above may have closed the flow while handling a message.
      if (this.state !== 'open') return;
    }
  }

  /** @internal */
  onConnect(): void {
    this.setLocal(this.socket.localAddress, this.socket.localPort);
    this.connected();
  }

  /** @internal */
  onClose(): void {
    this.closed();
  }

  /** @internal */
  onError(err: Error): void {
    // 'close' follows every 'error'; a failed connect or a reset is routine, so debug.
    this.ctx.logger.debug({ flow: this.id, remote: this.remote, err }, 'connection error');
  }
}

function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[kConnection].receive(chunk);
}

function onSocketConnect(this: OwnedSocket): void {
  this[kConnection].onConnect();
}

function onSocketError(this: OwnedSocket, err: Error): void {
  this[kConnection].onError(err);
}

function onSocketClose(this: OwnedSocket): void {
  this[kConnection].onClose();
}
