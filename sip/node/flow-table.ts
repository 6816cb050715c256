import type { Flow, TransportProtocol } from '../transport/transport.js';

/** What the table needs to know of a connection besides the Flow interface. */
export interface TrackedFlow extends Flow {
  /** `protocol host port` of the remote end, as {@link reuseKey} builds it. */
  readonly reuseKey: string;
  /** The remote IP address (or host name for outbound connections to a name). */
  readonly address: string;
  readonly inbound: boolean;
}

/** Why an inbound connection was refused. */
export type AdmissionRefusal = 'max-connections' | 'max-connections-per-address';

/** The key under which a connection to `host:port` over `protocol` is found again. */
export function reuseKey(protocol: TransportProtocol, host: string, port: number): string {
  return protocol + ' ' + host + ' ' + port;
}

/**
 * The open connections of one transport (TCP, TLS, WS, WSS): found by id
 * for `flowById`, by remote address for reuse (RFC 3261 §18.1.1: a request
 * to an address with an open connection uses it), and counted per remote
 * address so that one client cannot take every connection slot.
 */
export class FlowTable<F extends TrackedFlow = TrackedFlow> {
  private readonly byId = new Map<string, F>();
  private readonly byRemote = new Map<string, F>();
  private readonly inboundPerAddress = new Map<string, number>();

  constructor(
    private readonly maxConnections: number,
    private readonly maxPerAddress: number,
  ) {}

  /** Number of connections held, both directions. */
  get size(): number {
    return this.byId.size;
  }

  /** Undefined when one more inbound connection from `address` may be accepted, else why not. */
  admit(address: string): AdmissionRefusal | undefined {
    if (this.byId.size >= this.maxConnections) return 'max-connections';
    if ((this.inboundPerAddress.get(address) ?? 0) >= this.maxPerAddress) return 'max-connections-per-address';
    return undefined;
  }

  /** True when one more outbound connection fits under `maxConnections`. */
  hasRoom(): boolean {
    return this.byId.size < this.maxConnections;
  }

  add(flow: F): void {
    this.byId.set(flow.id, flow);
    // The newest connection to an address is the one to reuse.
    this.byRemote.set(flow.reuseKey, flow);
    if (flow.inbound) this.inboundPerAddress.set(flow.address, (this.inboundPerAddress.get(flow.address) ?? 0) + 1);
  }

  /** Forgets `flow`; a no-op when it is not held. */
  remove(flow: F): void {
    if (this.byId.get(flow.id) !== flow) return;
    this.byId.delete(flow.id);
    if (this.byRemote.get(flow.reuseKey) === flow) this.byRemote.delete(flow.reuseKey);
    if (flow.inbound) {
      const n = (this.inboundPerAddress.get(flow.address) ?? 1) - 1;
      if (n <= 0) this.inboundPerAddress.delete(flow.address);
      else this.inboundPerAddress.set(flow.address, n);
    }
  }

  get(id: string): F | undefined {
    return this.byId.get(id);
  }

  /** An open connection to exactly this protocol, host and port, if any. */
  findOpen(protocol: TransportProtocol, host: string, port: number): F | undefined {
    const f = this.byRemote.get(reuseKey(protocol, host, port));
    return f && f.isOpen ? f : undefined;
  }

  /** Inbound connections currently held from `address`. */
  inboundFrom(address: string): number {
    return this.inboundPerAddress.get(address) ?? 0;
  }

  /** A snapshot of every connection, safe to iterate while they close. */
  snapshot(): F[] {
    return [...this.byId.values()];
  }
}
