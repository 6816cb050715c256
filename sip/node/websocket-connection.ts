import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { WebSocket, type RawData } from 'ws';
import type { Endpoint } from '../transport/transport.js';
import { ConnectionFlow } from './connection-flow.js';
import { canonicalHost, urlHost } from './ip-address.js';
import type { TlsConnectMaterial } from './stream-connection.js';
import type { TransportContext } from './transport-context.js';

const kConnection = Symbol('siprelay.webSocketConnection');

interface OwnedWebSocket extends WebSocket {
  [kConnection]: WebSocketConnection;
}

/** The subprotocol of SIP over WebSocket (RFC 7118 §4). */
export const SIP_SUBPROTOCOL = 'sip';

const SEND_TEXT = { binary: false } as const;
const SEND_BINARY = { binary: true } as const;
/** The answer to a CRLF CRLF keep-alive frame, as over TCP (RFC 5626 §3.5.1). */
const PONG = Buffer.from('\r\n');
/** Close code 1001 "going away" (RFC 6455 §7.4.1), sent when the transport shuts down. */
export const WS_GOING_AWAY = 1001;

/**
 * One SIP-over-WebSocket connection (RFC 7118), inbound or outbound. Each
 * WebSocket message is exactly one SIP message (§5.1), parsed like a
 * datagram, so Content-Length may be absent; text and binary frames are
 * both accepted, and a message is sent as text when it is valid UTF-8 (SIP
 * headers always are) and as binary otherwise (a body with raw bytes).
 * Frames of only CR and LF are keep-alives: CRLF CRLF gets a CRLF back,
 * anything else of that kind is ignored.
 */
export class WebSocketConnection extends ConnectionFlow {
  private readonly ws: OwnedWebSocket;
  /** Messages sent while an outbound connection is still opening (ws does not queue). */
  private queue: Uint8Array[] | undefined;
  private queuedBytes = 0;

  private constructor(ctx: TransportContext, ws: WebSocket, protocol: 'WS' | 'WSS', inbound: boolean, remote: { host: string; port: number }) {
    super(ctx, protocol, inbound, remote);
    this.ws = ws as OwnedWebSocket;
    this.ws[kConnection] = this;
    ws.on('message', onWsMessage);
    ws.on('close', onWsClose);
    ws.on('error', onWsError);
    ws.on('ping', onWsActivity);
    ws.on('pong', onWsActivity);
    if (!inbound) {
      this.queue = [];
      ws.once('upgrade', onWsUpgrade);
      ws.once('open', onWsOpen);
    }
  }

  /** Wraps a WebSocket the server side accepted. */
  static accept(ctx: TransportContext, ws: WebSocket, request: IncomingMessage, protocol: 'WS' | 'WSS'): WebSocketConnection {
    const s = request.socket;
    const c = new WebSocketConnection(ctx, ws, protocol, true, { host: canonicalHost(s.remoteAddress ?? ''), port: s.remotePort ?? 0 });
    c.setLocal(s.localAddress, s.localPort);
    return c;
  }

  /** Opens `ws://host:port<path>` (or wss:) offering only the `sip` subprotocol (RFC 7118 §4). */
  static connect(ctx: TransportContext, dest: Endpoint & { protocol: 'WS' | 'WSS' }, material: TlsConnectMaterial | undefined): WebSocketConnection {
    const host = canonicalHost(dest.host);
    const url = (dest.protocol === 'WSS' ? 'wss://' : 'ws://') + urlHost(host) + ':' + dest.port + ctx.options.wsPath;
    const ws = new WebSocket(url, SIP_SUBPROTOCOL, {
      maxPayload: ctx.options.wsMaxPayload,
      handshakeTimeout: ctx.options.connectTimeoutMs,
      perMessageDeflate: false,
      ca: material?.ca,
      cert: material?.cert,
      key: material?.key,
      rejectUnauthorized: material?.rejectUnauthorized ?? true,
    });
    return new WebSocketConnection(ctx, ws, dest.protocol, false, { host, port: dest.port });
  }

  send(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const limit = this.ctx.options.maxWriteBufferBytes;
    if (this.queue) {
      if (this.queuedBytes + bytes.length > limit) return false;
      this.queue.push(bytes);
      this.queuedBytes += bytes.length;
      return true;
    }
    const ws = this.ws;
    if (ws.bufferedAmount + bytes.length > limit) {
      this.ctx.logger.warn({ flow: this.id, remote: this.remote, queued: ws.bufferedAmount }, 'peer does not read; WebSocket dropped');
      this.destroy();
      return false;
    }
    this.touch();
    ws.send(bytes, isUtf8(bytes) ? SEND_TEXT : SEND_BINARY);
    return true;
  }

  close(code = 1000): void {
    if (!this.beginClose()) return;
    this.queue = undefined;
    // A connection still opening cannot do the closing handshake.
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(code);
  }

  destroy(): void {
    this.beginClose();
    this.queue = undefined;
    this.ws.terminate();
  }

  /** @internal One WebSocket message: one SIP message or a keep-alive. */
  receive(data: RawData): void {
    if (this.state !== 'open') return;
    this.touch();
    const bytes = Array.isArray(data) ? Buffer.concat(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (isKeepAlive(bytes)) {
      if (bytes.length === 4) this.ws.send(PONG, SEND_TEXT);
      return;
    }
    this.ctx.deliver(this, bytes, this.ctx.datagramParse);
  }

  /** @internal */
  onUpgrade(response: IncomingMessage): void {
    this.setLocal(response.socket.localAddress, response.socket.localPort);
  }

  /** @internal */
  onOpen(): void {
    // ws refuses a server that picks no or another subprotocol; this is belt and braces (RFC 7118 §4).
    if (this.ws.protocol !== SIP_SUBPROTOCOL) {
      this.ctx.logger.warn({ flow: this.id, remote: this.remote, protocol: this.ws.protocol }, 'server did not accept subprotocol sip');
      this.ws.close(1002);
      return;
    }
    const queue = this.queue ?? [];
    this.queue = undefined;
    this.queuedBytes = 0;
    this.connected();
    for (const bytes of queue) this.send(bytes);
  }

  /** @internal */
  onClose(): void {
    this.queue = undefined;
    this.closed();
  }

  /** @internal */
  onError(err: Error): void {
    this.ctx.logger.debug({ flow: this.id, remote: this.remote, err }, 'WebSocket error');
  }

  /** @internal */
  onActivity(): void {
    this.touch();
  }
}

/** True for a frame of nothing but CR and LF (a keep-alive, never a SIP message). */
function isKeepAlive(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c !== 13 && c !== 10) return false;
  }
  return true;
}

function onWsMessage(this: WebSocket, data: RawData): void {
  (this as OwnedWebSocket)[kConnection].receive(data);
}

function onWsClose(this: WebSocket): void {
  (this as OwnedWebSocket)[kConnection].onClose();
}

function onWsError(this: WebSocket, err: Error): void {
  (this as OwnedWebSocket)[kConnection].onError(err);
}

function onWsActivity(this: WebSocket): void {
  (this as OwnedWebSocket)[kConnection].onActivity();
}

function onWsUpgrade(this: WebSocket, response: IncomingMessage): void {
  (this as OwnedWebSocket)[kConnection].onUpgrade(response);
}

function onWsOpen(this: WebSocket): void {
  (this as OwnedWebSocket)[kConnection].onOpen();
}
