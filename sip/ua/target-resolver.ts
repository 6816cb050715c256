import type { Uri } from '../grammar/uri.js';
import { defaultPort } from '../transaction/response-destination.js';
import { type Endpoint, type Flow, type Transport, type TransportProtocol, TransportError } from '../transport/transport.js';

/**
 * Finds where a request goes (RFC 3261 §8.1.2, RFC 3263): given the URI of
 * the next hop (first loose route, or the Request-URI), an existing flow or
 * the endpoint to open one to. May be asynchronous, for DNS. Throws (or
 * rejects with) a TransportError when the URI cannot be reached.
 */
export type TargetResolver = (uri: Uri, transport: Transport) => Flow | Endpoint | Promise<Flow | Endpoint>;

const BY_PARAM: Readonly<Record<string, TransportProtocol>> = {
  udp: 'UDP',
  tcp: 'TCP',
  tls: 'TLS',
  ws: 'WS',
  wss: 'WSS',
};

/**
 * RFC 3263 without DNS: the transport from the URI's `transport` parameter
 * (`ws` over a SIPS URI meaning WSS, RFC 7118 §5.2), else TLS for SIPS and
 * UDP for SIP, falling back to the first protocol the transport offers (a
 * browser has only its WebSocket); the host from `maddr` or the URI; the
 * URI's port, else 5060 (5061 for TLS and WSS). Names are passed to the
 * transport as they are; the Node transports resolve them with the system
 * resolver. Inject another {@link TargetResolver} for SRV and NAPTR.
 */
export const defaultTargetResolver: TargetResolver = (uri: Uri, transport: Transport): Endpoint => {
  if (uri.kind !== 'sip') {
    throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', `cannot route to a ${uri.scheme} URI without an outbound proxy`);
  }
  const offered = transport.protocols;
  const param = uri.transport;
  let protocol: TransportProtocol | undefined;
  if (param !== undefined) {
    protocol = BY_PARAM[param];
    if (protocol === 'WS' && uri.scheme === 'sips') protocol = 'WSS';
    if (protocol === 'TCP' && uri.scheme === 'sips') protocol = 'TLS';
    if (protocol === undefined) throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', `unknown transport ${param}`);
  } else if (uri.scheme === 'sips') {
    protocol = offered.includes('TLS') ? 'TLS' : offered.includes('WSS') ? 'WSS' : undefined;
    if (protocol === undefined) throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', 'a SIPS URI needs TLS or WSS');
  } else {
    protocol = offered.includes('UDP') ? 'UDP' : offered[0];
  }
  if (protocol === undefined) throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', 'the transport offers no protocol');
  const maddr = uri.params.get('maddr');
  let host = typeof maddr === 'string' && maddr.length ? maddr : uri.hostname;
  if (host.startsWith('[')) host = host.slice(1, -1);
  return { protocol, host, port: uri.port ?? defaultPort(protocol) };
};
