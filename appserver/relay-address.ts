import { parseUri } from '../sip/grammar/uri.js';
import type { TransportProtocol } from '../sip/transport/transport.js';

/**
 * Where the relay is, as the SDK connects to it.
 *
 * @example
 * ```ts
 * const { protocol, host, port } = parseRelayAddress('sip:127.0.0.1:5060;transport=tcp'); // 'TCP', '127.0.0.1', 5060
 * ```
 */
export interface RelayAddress {
  /** The transport the SDK speaks to the relay over. */
  protocol: TransportProtocol;
  /** Host name or IP address (IPv6 without brackets). */
  host: string;
  port: number;
  /** WS and WSS: the path of the upgrade (`/sip`). */
  path: string | undefined;
  /** The outbound proxy URI (loose route) every request outside a dialog goes through: `sip:127.0.0.1:5060;transport=tcp;lr`. */
  outboundProxy: string;
  /**
   * The relay's HTTP origin when the address tells it (a `ws:`/`wss:` URL
   * shares the HTTP server): `http://localhost:8080`. Used to find
   * `/.well-known/jwks.json` when no `jwksUrl` is given.
   */
  httpOrigin: string | undefined;
}

const DEFAULT_PORT: Readonly<Record<TransportProtocol, number>> = { UDP: 5060, TCP: 5060, TLS: 5061, WS: 80, WSS: 443 };
const BY_PARAM: Readonly<Record<string, TransportProtocol>> = { udp: 'UDP', tcp: 'TCP', tls: 'TLS', ws: 'WS', wss: 'WSS' };

/**
 * Reads the `relay` option of `createAppServer`: a SIP URI
 * (`sip:127.0.0.1:5060;transport=tcp`, `sip:relay.example.com` for UDP on
 * 5060, `sips:relay.example.com` for TLS on 5061) or a WebSocket URL
 * (`ws://localhost:8080/sip`, `wss://relay.example.com/sip`, RFC 7118).
 * Throws TypeError naming what is wrong.
 *
 * @example
 * ```ts
 * parseRelayAddress('ws://localhost:8080/sip');
 * // { protocol: 'WS', host: 'localhost', port: 8080, path: '/sip',
 * //   outboundProxy: 'sip:localhost:8080;transport=ws;lr', httpOrigin: 'http://localhost:8080' }
 * ```
 */
export function parseRelayAddress(relay: string): RelayAddress {
  if (typeof relay !== 'string' || relay.trim() === '') throw new TypeError('relay must be a SIP URI (sip:host:port;transport=tcp) or a WebSocket URL (ws://host:port/sip)');
  const text = relay.trim();
  if (/^wss?:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new TypeError(`relay: ${JSON.stringify(relay)} is not a WebSocket URL`);
    }
    const protocol: TransportProtocol = url.protocol === 'wss:' ? 'WSS' : 'WS';
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port === '' ? DEFAULT_PORT[protocol] : Number(url.port);
    const hostForUri = host.includes(':') ? `[${host}]` : host;
    return {
      protocol,
      host,
      port,
      path: url.pathname === '' ? '/' : url.pathname,
      outboundProxy: `${protocol === 'WSS' ? 'sips' : 'sip'}:${hostForUri}:${port};transport=ws;lr`,
      httpOrigin: `${protocol === 'WSS' ? 'https' : 'http'}://${url.host}`,
    };
  }
  let uri;
  try {
    uri = parseUri(text);
  } catch (e) {
    throw new TypeError(`relay: ${JSON.stringify(relay)} is not a SIP URI: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (uri.kind !== 'sip') throw new TypeError(`relay: ${JSON.stringify(relay)} must be a sip: or sips: URI`);
  if (uri.user !== undefined) throw new TypeError(`relay: ${JSON.stringify(relay)} names a user; give the relay's host and port only`);
  const param = uri.transport;
  let protocol: TransportProtocol;
  if (param === undefined) protocol = uri.scheme === 'sips' ? 'TLS' : 'UDP';
  else {
    const p = BY_PARAM[param];
    if (p === undefined) throw new TypeError(`relay: unknown transport ${JSON.stringify(param)}`);
    protocol = uri.scheme === 'sips' && p === 'TCP' ? 'TLS' : uri.scheme === 'sips' && p === 'WS' ? 'WSS' : p;
  }
  if (protocol === 'WS' || protocol === 'WSS') throw new TypeError('relay: give a WebSocket relay as a ws:// or wss:// URL, which names the path');
  const port = uri.port ?? DEFAULT_PORT[protocol];
  const proxy = uri.clone();
  proxy.port = port;
  proxy.headers = [];
  if (!proxy.lr) proxy.params.set('lr');
  return { protocol, host: uri.hostname, port, path: undefined, outboundProxy: proxy.toString(), httpOrigin: undefined };
}
