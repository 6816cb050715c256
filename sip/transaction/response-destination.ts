import type { Via } from '../grammar/via.js';
import { type Endpoint, type Flow, type Transport, type TransportProtocol, TransportError } from '../transport/transport.js';

const PROTOCOLS: ReadonlySet<string> = new Set<TransportProtocol>(['UDP', 'TCP', 'TLS', 'WS', 'WSS']);

/** Default port of a transport when sent-by has none (§18.2.2, §19.1.2): 5061 for TLS, 5060 otherwise. */
export function defaultPort(protocol: TransportProtocol): number {
  return protocol === 'TLS' || protocol === 'WSS' ? 5061 : 5060;
}

/** A host as a socket takes it: IPv6 without brackets, lower case. */
function bare(host: string): string {
  const h = host.charCodeAt(0) === 91 /* [ */ ? host.slice(1, -1) : host;
  return h.toLowerCase();
}

/**
 * Where a response goes (RFC 3261 §18.2.2 with RFC 3581 §4), given the top
 * Via of the response and the flow its request came in on:
 *
 * 1. Reliable flow still open: that flow (the response MUST use the
 *    existing connection).
 * 2. Reliable flow closed: a new connection of the same protocol to the
 *    `received` address, or else the sent-by host, at the sent-by port (or
 *    the protocol's default port). Not for WS and WSS: the peer of a
 *    WebSocket is a client that accepts no connections (RFC 7118 §5), so
 *    there is no destination.
 * 3. Unreliable, `maddr` present: the maddr at the sent-by port or 5060.
 * 4. Unreliable, `received` present: the received address at the `rport`
 *    value when there is one (RFC 3581), else the sent-by port, else 5060.
 * 5. Otherwise the sent-by host and port (5060 by default).
 *
 * An address equal to the request flow's remote address over the same
 * protocol means the request flow itself, so the response leaves from the
 * socket the request arrived on (RFC 3581 §4). Without a request flow (a
 * stateless proxy forwarding a response) rules 3–5 apply with the Via's
 * own transport.
 *
 * Returns the flow to use, or the endpoint to open a flow to; `undefined`
 * when there is none (a closed WebSocket, a Via transport this stack does
 * not know).
 */
export function responseDestination(via: Via, requestFlow?: Flow): Flow | Endpoint | undefined {
  if (requestFlow?.reliable) {
    if (requestFlow.isOpen) return requestFlow;
    const protocol = requestFlow.protocol;
    if (protocol === 'WS' || protocol === 'WSS') return undefined;
    return { protocol, host: bare(via.received ?? via.host), port: via.port ?? defaultPort(protocol) };
  }
  const protocol = requestFlow ? requestFlow.protocol : via.transport;
  if (!PROTOCOLS.has(protocol)) return undefined;
  const proto = protocol as TransportProtocol;
  let host: string;
  let port: number;
  const maddr = via.params.get('maddr');
  if (typeof maddr === 'string' && maddr.length) {
    host = bare(maddr);
    port = via.port ?? 5060;
  } else {
    const received = via.received;
    const rport = via.rport;
    host = bare(received ?? via.host);
    port = typeof rport === 'number' && rport > 0 && rport < 65536 ? rport : (via.port ?? defaultPort(proto));
  }
  if (requestFlow && requestFlow.protocol === proto && requestFlow.remote.port === port && bare(requestFlow.remote.host) === host) {
    return requestFlow;
  }
  return { protocol: proto, host, port };
}

/**
 * The flow a response goes out on: {@link responseDestination}, with a new
 * flow from the transport when the rules name another address. Throws
 * TransportError when there is none.
 */
export function responseFlow(via: Via, requestFlow: Flow | undefined, transport: Transport): Flow {
  const dest = responseDestination(via, requestFlow);
  if (dest === undefined) {
    throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', requestFlow?.reliable ? `flow ${requestFlow.id} closed and cannot be reopened` : `no transport for Via ${via.transport}`);
  }
  if ('send' in dest) return dest;
  return transport.flowTo(dest);
}
