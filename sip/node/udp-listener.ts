import * as dgram from 'node:dgram';
import { canonicalHost, ipFamily, isWildcardHost } from './ip-address.js';
import { DEFAULT_PORTS, DEFAULT_UDP_BUFFER_BYTES, type UdpListenerOptions } from './node-transport-options.js';
import type { TransportContext } from './transport-context.js';
import { UdpFlow, udpFlowId, type DatagramSender } from './udp-flow.js';

const kListener = Symbol('siprelay.udpListener');

interface OwnedUdpSocket extends dgram.Socket {
  [kListener]: UdpListener;
}

/**
 * A UDP socket. One datagram is one message (RFC 3261 §18.3: without
 * Content-Length the body is the rest of the datagram; bytes after the
 * body are ignored). Flows are made lazily per remote address and kept in
 * a cache bounded by `maxUdpFlows`, oldest first out; a forgotten flow is
 * simply made again, with the same id, by the next datagram or lookup.
 */
export class UdpListener implements DatagramSender {
  readonly protocol = 'UDP' as const;
  /** 4 or 6: the socket family, which follows the bind address. */
  readonly family: 4 | 6;
  private socket: OwnedUdpSocket | undefined;
  private readonly flows = new Map<string, UdpFlow>();
  /** SO_RCVBUF and SO_SNDBUF as the kernel set them (it doubles what it is asked, within its caps). */
  get bufferSizes(): { receive: number; send: number } | undefined {
    const socket = this.socket;
    if (!socket) return undefined;
    return { receive: socket.getRecvBufferSize(), send: socket.getSendBufferSize() };
  }

  /** The address bound, and the one put in flows' `local`. */
  private bound: { host: string; port: number } | undefined;
  private flowLocal: { host: string; port: number } | undefined;

  constructor(
    private readonly ctx: TransportContext,
    private readonly options: UdpListenerOptions,
  ) {
    this.family = ipFamily(options.host ?? '0.0.0.0') === 6 ? 6 : 4;
  }

  get isOpen(): boolean {
    return this.socket !== undefined;
  }

  get address(): { host: string; port: number } | undefined {
    return this.bound;
  }

  async start(): Promise<void> {
    const socket = dgram.createSocket({ type: this.family === 6 ? 'udp6' : 'udp4' }) as OwnedUdpSocket;
    socket[kListener] = this;
    const host = this.options.host ?? '0.0.0.0';
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address: host, port: this.options.port ?? DEFAULT_PORTS.UDP, exclusive: true }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // Best effort: the kernel caps the sizes at rmem_max/wmem_max, and some platforms refuse.
    try {
      socket.setRecvBufferSize(this.options.receiveBufferBytes ?? DEFAULT_UDP_BUFFER_BYTES);
      socket.setSendBufferSize(this.options.sendBufferBytes ?? DEFAULT_UDP_BUFFER_BYTES);
    } catch {
      // keep the system's defaults
    }
    socket.on('error', onUdpError);
    socket.on('message', onUdpMessage);
    const a = socket.address();
    this.socket = socket;
    this.bound = { host: a.address, port: a.port };
    // A wildcard socket has no address of its own; flows show the advertised one.
    this.flowLocal = Object.freeze({ host: isWildcardHost(a.address) ? this.ctx.options.advertisedHost : a.address, port: a.port });
  }

  close(): Promise<void> {
    const socket = this.socket;
    this.socket = undefined;
    this.flows.clear();
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  /** The flow to `host:port` from this socket, from the cache or new. */
  flowFor(host: string, port: number): UdpFlow {
    const key = host + ' ' + port;
    let flow = this.flows.get(key);
    if (flow) return flow;
    const remoteHost = canonicalHost(host);
    // A dual-stack IPv6 socket reaches IPv4 peers only through mapped addresses.
    const sendHost = this.family === 6 && ipFamily(remoteHost) === 4 ? '::ffff:' + remoteHost : remoteHost;
    const local = this.flowLocal ?? { host: this.options.host ?? '0.0.0.0', port: this.options.port ?? DEFAULT_PORTS.UDP };
    const bound = this.bound ?? local;
    flow = new UdpFlow(udpFlowId(bound.host, bound.port, remoteHost, port), this, local, { host: remoteHost, port }, sendHost);
    if (this.flows.size >= this.ctx.options.maxUdpFlows) {
      const oldest = this.flows.keys().next().value;
      if (oldest !== undefined) this.flows.delete(oldest);
    }
    this.flows.set(key, flow);
    return flow;
  }

  sendTo(bytes: Uint8Array, port: number, host: string): boolean {
    const socket = this.socket;
    if (!socket) return false;
    try {
      // Without a callback a send error becomes an 'error' event, logged by onUdpError.
      socket.send(bytes, port, host);
      return true;
    } catch (err) {
      this.ctx.logger.warn({ err, protocol: 'UDP', host, port }, 'UDP send refused');
      return false;
    }
  }

  /** Number of flows in the cache (for tests and metrics). */
  get cachedFlows(): number {
    return this.flows.size;
  }

  /** @internal */
  logSocketError(err: Error): void {
    this.ctx.logger.warn({ err, protocol: 'UDP', local: this.bound }, 'UDP socket error');
  }

  /** @internal */
  receive(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (isKeepAlive(msg)) return;
    this.ctx.deliver(this.flowFor(rinfo.address, rinfo.port), msg, this.ctx.datagramParse);
  }
}

/** An empty datagram or one of only CR and LF: a keep-alive, not a message (RFC 5626 §4.4.1 uses STUN instead, but CRLFs are common). */
function isKeepAlive(msg: Buffer): boolean {
  for (let i = 0; i < msg.length; i++) {
    const c = msg[i];
    if (c !== 13 && c !== 10) return false;
  }
  return true;
}

function onUdpMessage(this: OwnedUdpSocket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
  this[kListener].receive(msg, rinfo);
}

function onUdpError(this: OwnedUdpSocket, err: Error): void {
  // Send failures (EHOSTUNREACH, EMSGSIZE...) land here; the socket stays usable.
  this[kListener].logSocketError(err);
}
