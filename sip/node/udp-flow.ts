import type { Flow } from '../transport/transport.js';

/** What a {@link UdpFlow} sends through: the listener that owns the socket. */
export interface DatagramSender {
  readonly isOpen: boolean;
  sendTo(bytes: Uint8Array, port: number, host: string): boolean;
}

/**
 * A UDP flow: one local socket and one remote address (RFC 5626 §3.1).
 * Nothing is opened or closed; the object only remembers where to send.
 * Its id names the 5-tuple, `udp/<local host>:<port>/<remote host>:<port>`,
 * so the same pair always has the same id and `flowById` can rebuild a
 * flow that the bounded flow cache has forgotten.
 */
export class UdpFlow implements Flow {
  readonly protocol = 'UDP' as const;
  readonly reliable = false;

  constructor(
    readonly id: string,
    private readonly owner: DatagramSender,
    readonly local: { host: string; port: number },
    readonly remote: { host: string; port: number },
    /** `remote.host` in the form the socket takes (IPv4-mapped on a dual-stack IPv6 socket). */
    private readonly sendHost: string,
  ) {}

  /** True while the listener's socket is open. */
  get isOpen(): boolean {
    return this.owner.isOpen;
  }

  send(bytes: Uint8Array): boolean {
    return this.owner.sendTo(bytes, this.remote.port, this.sendHost);
  }

  /** UDP has no connection to close. */
  close(): void {}
}

/** The id of the UDP flow between a local socket address and a remote address. */
export function udpFlowId(localHost: string, localPort: number, remoteHost: string, remotePort: number): string {
  return 'udp/' + localHost + ':' + localPort + '/' + remoteHost + ':' + remotePort;
}

/** The parts of a {@link udpFlowId}, or undefined if `id` is not one. */
export function parseUdpFlowId(id: string): { localHost: string; localPort: number; remoteHost: string; remotePort: number } | undefined {
  if (!id.startsWith('udp/')) return undefined;
  const slash = id.indexOf('/', 4);
  if (slash < 0) return undefined;
  const local = splitHostPort(id.slice(4, slash));
  const remote = splitHostPort(id.slice(slash + 1));
  if (!local || !remote) return undefined;
  return { localHost: local.host, localPort: local.port, remoteHost: remote.host, remotePort: remote.port };
}

function splitHostPort(s: string): { host: string; port: number } | undefined {
  const colon = s.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(s.slice(colon + 1));
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: s.slice(0, colon), port };
}
