import type { SipUri } from '../../sip/grammar/uri.js';
import type { Via } from '../../sip/grammar/via.js';
import type { Transport, TransportProtocol } from '../../sip/transport/transport.js';

/** Options of {@link RelayAddresses}. */
export interface RelayAddressesOptions {
  /** SIP domains the relay serves (`portal.test`); compared case-insensitively. */
  domains: readonly string[];
  /**
   * Other host names and addresses that are this relay: a public address
   * behind NAT, the interface addresses of a listener bound to `0.0.0.0`,
   * a DNS name. The listeners' own addresses are always included.
   */
  aliases?: readonly string[];
}

/** Host as compared: lower case, IPv6 without brackets. */
function bareHost(host: string): string {
  const h = host.charCodeAt(0) === 91 /* [ */ ? host.slice(1, -1) : host;
  return h.toLowerCase();
}

/**
 * What "this relay" means when a URI or a Via is looked at: the listener
 * addresses of the transport (for Route processing, RFC 3261 §16.4, and
 * own-Via detection, §16.3 step 4), its domains (for requests addressed
 * to the relay or served by it), and the address written into
 * Record-Route for each transport (§16.6 step 4).
 *
 * Listener ports are only known once the transport has started (port 0 in
 * tests), so the addresses are read from the transport on first use and
 * again after {@link refresh}.
 */
export class RelayAddresses {
  private readonly domains: ReadonlySet<string>;
  private readonly aliases: readonly string[];
  private hosts = new Set<string>();
  private ports = new Set<number>();
  private sentBys = new Set<string>();
  private local = new Map<TransportProtocol, { host: string; port: number }>();
  private loaded = false;

  constructor(
    private readonly transport: Transport,
    options: RelayAddressesOptions,
  ) {
    if (!options || !Array.isArray(options.domains)) throw new TypeError('RelayAddressesOptions.domains must be a list of domains');
    for (const d of options.domains) if (typeof d !== 'string' || d === '') throw new TypeError('RelayAddressesOptions.domains must hold non-empty strings');
    this.domains = new Set(options.domains.map((d) => d.toLowerCase()));
    this.aliases = (options.aliases ?? []).map(bareHost);
  }

  /** Reads the listener addresses from the transport again (after it started). */
  refresh(): void {
    const hosts = new Set<string>(this.aliases);
    const ports = new Set<number>();
    const sentBys = new Set<string>();
    const local = new Map<TransportProtocol, { host: string; port: number }>();
    for (const protocol of this.transport.protocols) {
      const a = this.transport.localAddress(protocol);
      if (!a) continue;
      const host = bareHost(a.host);
      local.set(protocol, { host, port: a.port });
      hosts.add(host);
      if (a.port > 0) ports.add(a.port);
      sentBys.add(a.port > 0 ? viaHost(host) + ':' + a.port : viaHost(host));
    }
    this.hosts = hosts;
    this.ports = ports;
    this.sentBys = sentBys;
    this.local = local;
    this.loaded = local.size > 0;
  }

  private ensure(): void {
    if (!this.loaded) this.refresh();
  }

  /** True when `host` is one of the relay's domains. */
  isDomain(host: string): boolean {
    return this.domains.has(bareHost(host));
  }

  /** True when `host` is an address or name of the relay itself (not a domain it serves). */
  isLocalHost(host: string): boolean {
    this.ensure();
    return this.hosts.has(bareHost(host));
  }

  /**
   * True for requests the relay serves as its own domain: one of its
   * domains or one of its own addresses ("requests addressed to the
   * relay's own IP addresses count as its domain", design brief).
   */
  isServedHost(host: string): boolean {
    return this.isDomain(host) || this.isLocalHost(host);
  }

  /**
   * True when `uri` names this relay as a hop (RFC 3261 §16.4): its host
   * is one of the relay's addresses and its port (5060 when absent) one of
   * its listener ports, or its host is a served domain without a port (an
   * outbound-proxy Route such as `<sip:portal.test;lr>`).
   */
  isLocalUri(uri: SipUri): boolean {
    this.ensure();
    const host = bareHost(uri.host);
    if (this.domains.has(host)) return uri.port === undefined || this.ports.has(uri.port);
    if (!this.hosts.has(host)) return false;
    const port = uri.port ?? (uri.scheme === 'sips' || uri.transport === 'tls' ? 5061 : 5060);
    return this.ports.has(port);
  }

  /** True when a Via's sent-by is one the relay writes (§16.3 step 4). */
  isOwnVia(via: Via): boolean {
    this.ensure();
    return this.sentBys.has(via.sentBy);
  }

  /** The relay's address on `protocol`: what Record-Route and Via name there (§18.1.1). */
  localAddress(protocol: TransportProtocol): { host: string; port: number } | undefined {
    this.ensure();
    return this.local.get(protocol);
  }
}

/** An address as written in a Via or URI host: IPv6 in brackets. */
export function viaHost(host: string): string {
  return host.indexOf(':') >= 0 && host.charCodeAt(0) !== 91 ? '[' + host + ']' : host;
}
