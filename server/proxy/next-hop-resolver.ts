import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Uri } from '../../sip/grammar/uri.js';
import { defaultPort } from '../../sip/transaction/response-destination.js';
import type { Endpoint, TransportProtocol } from '../../sip/transport/transport.js';
import { type Clock, systemClock } from '../../sip/util/clock.js';
import { ProxyError } from './proxy-error.js';

/** Turns a host name into one IP address. Rejects when the name does not resolve. */
export type HostResolver = (host: string) => Promise<string>;

/** The default {@link HostResolver}: the system resolver (`getaddrinfo`, as `dns.lookup`), first address. */
export const systemHostResolver: HostResolver = async (host) => (await lookup(host)).address;

/** Options of {@link NextHopResolver}. */
export interface NextHopResolverOptions {
  /** Protocols the relay can send on (the transport's). */
  protocols: readonly TransportProtocol[];
  /** How names are resolved. Default {@link systemHostResolver}. */
  resolveHost?: HostResolver;
  /** How long a resolved name is remembered, ms. Default 60 000; 0 disables the cache. */
  cacheTtlMs?: number;
  /** Most names remembered. Default 1 000. */
  maxCachedNames?: number;
  clock?: Clock;
}

const TRANSPORT_PARAM: Readonly<Record<string, TransportProtocol>> = {
  udp: 'UDP',
  tcp: 'TCP',
  tls: 'TLS',
  ws: 'WS',
  wss: 'WSS',
};

/**
 * Where a request goes for a next-hop URI (RFC 3263 without NAPTR and SRV,
 * which the relay does not need: application servers and clients are
 * named by address or by a name with an A/AAAA record):
 *
 * - protocol: the `transport` parameter; else TLS for a `sips:` URI; else
 *   UDP, or TCP when the relay has no UDP listener (§18.1.1 leaves the
 *   choice to the element). A `sips:` URI with `transport=ws` is WSS;
 * - host: `maddr` when present (§16.5, §19.1.1), else the host;
 * - port: the URI's, else 5060 (5061 for TLS and WSS, RFC 3263 §4.2);
 * - an IP literal resolves synchronously, so the hot path never waits;
 *   names go through the injectable {@link HostResolver} and are cached.
 *
 * `.invalid` hosts (RFC 7118 §5.2 WebSocket clients) can never be
 * resolved: such a target is reachable only over its flow.
 */
export class NextHopResolver {
  private readonly protocols: ReadonlySet<TransportProtocol>;
  private readonly resolveHost: HostResolver;
  private readonly ttl: number;
  private readonly maxNames: number;
  private readonly clock: Clock;
  private readonly cache = new Map<string, { address: string; until: number }>();

  constructor(options: NextHopResolverOptions) {
    if (!options || !Array.isArray(options.protocols)) throw new TypeError('NextHopResolverOptions.protocols must be a list of transport protocols');
    this.protocols = new Set(options.protocols);
    this.resolveHost = options.resolveHost ?? systemHostResolver;
    if (typeof this.resolveHost !== 'function') throw new TypeError('NextHopResolverOptions.resolveHost must be a function');
    this.ttl = options.cacheTtlMs ?? 60_000;
    if (!Number.isInteger(this.ttl) || this.ttl < 0) throw new TypeError('NextHopResolverOptions.cacheTtlMs must be a non-negative integer');
    this.maxNames = options.maxCachedNames ?? 1_000;
    if (!Number.isInteger(this.maxNames) || this.maxNames < 1) throw new TypeError('NextHopResolverOptions.maxCachedNames must be a positive integer');
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The endpoint for `uri`: synchronously when its host is an IP address
   * or a cached name, else a promise. Throws (or rejects with) a
   * {@link ProxyError}: `PROXY_ERR_NOT_SIP`, `PROXY_ERR_NO_TRANSPORT`,
   * `PROXY_ERR_UNRESOLVABLE`.
   */
  resolve(uri: Uri): Endpoint | Promise<Endpoint> {
    if (uri.kind !== 'sip') throw new ProxyError('PROXY_ERR_NOT_SIP', `cannot route to a ${uri.scheme}: URI`);
    const protocol = this.protocolFor(uri.scheme, uri.transport);
    const maddr = uri.params.get('maddr');
    let host = typeof maddr === 'string' && maddr.length ? maddr : uri.host;
    if (host.charCodeAt(0) === 91 /* [ */) host = host.slice(1, -1);
    host = host.toLowerCase();
    const port = uri.port ?? defaultPort(protocol);
    if (isIP(host) !== 0) return { protocol, host, port };
    if (host.endsWith('.invalid') || host === 'invalid') {
      throw new ProxyError('PROXY_ERR_UNRESOLVABLE', `${host} is reachable only over its own flow (RFC 7118 §5.2)`);
    }
    const cached = this.cache.get(host);
    if (cached !== undefined && cached.until > this.clock.now()) return { protocol, host: cached.address, port };
    return this.lookupName(host).then((address) => ({ protocol, host: address, port }));
  }

  private protocolFor(scheme: 'sip' | 'sips', transport: string | undefined): TransportProtocol {
    let protocol: TransportProtocol;
    if (transport !== undefined) {
      const p = TRANSPORT_PARAM[transport];
      if (p === undefined) throw new ProxyError('PROXY_ERR_NO_TRANSPORT', `transport=${transport} is not supported`);
      protocol = scheme === 'sips' && p === 'WS' ? 'WSS' : scheme === 'sips' && p === 'TCP' ? 'TLS' : p;
    } else if (scheme === 'sips') protocol = 'TLS';
    else protocol = this.protocols.has('UDP') ? 'UDP' : 'TCP';
    if (!this.protocols.has(protocol)) throw new ProxyError('PROXY_ERR_NO_TRANSPORT', `no ${protocol} listener to send on`);
    return protocol;
  }

  private async lookupName(host: string): Promise<string> {
    let address: string;
    try {
      address = await this.resolveHost(host);
    } catch (e) {
      throw new ProxyError('PROXY_ERR_UNRESOLVABLE', `cannot resolve ${host}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof address !== 'string' || isIP(address) === 0) throw new ProxyError('PROXY_ERR_UNRESOLVABLE', `resolver gave no address for ${host}`);
    if (this.ttl > 0) {
      if (this.cache.size >= this.maxNames) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
      this.cache.set(host, { address, until: this.clock.now() + this.ttl });
    }
    return address;
  }
}
