/**
 * A stateless forking proxy for user-agent tests (RFC 3261 §16.11 shape):
 * an initial INVITE to `sip:fork@<proxy>` goes to every target at once, each
 * copy with its own Via branch derived from the incoming one (so that a
 * CANCEL finds the same branches); everything else is routed by its
 * Route or Request-URI; responses lose the top Via and go to the next.
 * With `recordRoute` it stays in the path of the dialogs it forks.
 */
import { parseUri } from '../../../sip/grammar/uri.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import { SipResponse as SipResponseClass, type SipResponse } from '../../../sip/message/sip-response.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import type { InboundMessage, TransportListener } from '../../../sip/transport/transport.js';
import { cloneRequest } from '../../../sip/ua/clone-request.js';
import type { InMemoryNetwork, NetNode } from './in-memory-network.js';

export class ForkingProxy implements TransportListener {
  private readonly node: NetNode;

  constructor(
    net: InMemoryNetwork,
    name: string,
    readonly host: string,
    /** Request-URIs of the branches. */
    readonly targets: string[],
    readonly recordRoute = false,
    /** Record-Route without `lr`: act as an RFC 2543 strict router. */
    readonly strict = false,
  ) {
    this.node = net.node(name, host);
    this.node.listen(this);
  }

  onMessage({ message }: InboundMessage): void {
    if (message.isRequest) this.forwardRequest(message);
    else this.forwardResponse(message);
  }

  private forwardRequest(received: SipRequest): void {
    // Loose routing (§16.4): a Route naming us is removed (from a copy: tests inspect what was received).
    const request = cloneRequest(received);
    request.body = received.body;
    const routes = request.routes;
    if (routes.length && routes[0].uri.kind === 'sip' && routes[0].uri.host === this.host) request.replaceFirstListElement('route', undefined);
    if (request.uri.kind === 'sip' && request.uri.host === this.host && request.uri.user !== 'fork' && routes.length) {
      // Strict-routed to us (§16.4): the last Route value is the real Request-URI.
      const last = routes[routes.length - 1];
      request.uri = last.uri.clone();
      request.removeHeader('route');
      for (const r of routes.slice(0, -1)) request.addHeader('Route', r.toString());
    }
    // The INVITE, its CANCEL and the ACK of a non-2xx name `fork`; requests in a dialog name a UAS Contact.
    const initial = request.uri.kind === 'sip' && request.uri.user === 'fork';
    const incomingBranch = request.topVia.branch ?? 'none';
    const targets = initial ? this.targets : [request.rawUri];
    targets.forEach((target, i) => {
      const copy = cloneRequest(request);
      copy.body = request.body;
      if (initial) copy.uri = parseUri(target);
      copy.prependHeader('Via', `SIP/2.0/UDP ${this.host}:5060;branch=${incomingBranch}-p${i}`);
      if (initial && this.recordRoute && request.method === 'INVITE') copy.prependHeader('Record-Route', this.strict ? `<sip:${this.host}>` : `<sip:${this.host};lr>`);
      const next = copy.header('route') !== undefined ? copy.routes[0].uri : copy.uri;
      if (next.kind !== 'sip') return;
      this.node.flowTo({ protocol: 'UDP', host: next.hostname, port: next.port ?? 5060 }).send(serializeMessage(copy));
    });
  }

  private forwardResponse(received: SipResponse): void {
    const response = new SipResponseClass(received.status, received.reason);
    for (const h of received.headers) response.headers.push({ ...h });
    response.body = received.body;
    response.replaceFirstListElement('via', undefined);
    const via = response.topVia;
    const port = typeof via.rport === 'number' ? via.rport : (via.port ?? 5060);
    this.node.flowTo({ protocol: 'UDP', host: via.received ?? via.host, port }).send(serializeMessage(response));
  }
}
