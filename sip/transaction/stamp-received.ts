import type { SipRequest } from '../message/sip-request.js';
import type { Flow } from '../transport/transport.js';

/**
 * Records where a request really came from in its top Via (RFC 3261
 * §18.2.1, RFC 3581 §4), so that responses find their way back through
 * NATs (§18.2.2):
 *
 * - `received=<source IP>` when the sent-by host is a name or an address
 *   other than the packet's source, and always when the Via carries
 *   `rport` (RFC 3581 §4: "even if it is identical to the sent-by");
 * - `rport=<source port>` when the Via carries `rport`.
 *
 * The Via line is rewritten only when something changed. Returns true
 * when it was.
 */
export function stampReceived(request: SipRequest, flow: Flow): boolean {
  const via = request.topVia;
  const params = via.params;
  const sourceHost = flow.remote.host;
  const hasRport = params.has('rport');
  let changed = false;
  if (hasRport || !sameHost(via.host, sourceHost)) {
    if (params.get('received') !== sourceHost) {
      params.set('received', sourceHost);
      changed = true;
    }
  }
  if (hasRport) {
    const port = String(flow.remote.port);
    if (params.get('rport') !== port) {
      params.set('rport', port);
      changed = true;
    }
  }
  if (changed) request.commitTopVia();
  return changed;
}

/** Via hosts keep IPv6 brackets; flow addresses do not (transport.ts `Endpoint`). */
function sameHost(viaHost: string, source: string): boolean {
  if (viaHost.charCodeAt(0) === 91 /* [ */) {
    return viaHost.length === source.length + 2 && viaHost.slice(1, -1).toLowerCase() === source.toLowerCase();
  }
  return viaHost === source || viaHost.toLowerCase() === source.toLowerCase();
}
