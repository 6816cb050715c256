import { splitCommaList } from '../../sip/grammar/header-scanner.js';
import { type NameAddress, parseNameAddress } from '../../sip/grammar/name-address.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { TransportProtocol } from '../../sip/transport/transport.js';
import type { RelayAddresses } from './relay-addresses.js';
import { viaHost } from './relay-addresses.js';

/** What Route processing (RFC 3261 §16.4) found and did. */
export interface RouteProcessing {
  /**
   * The user part (unescaped) of the relay's own Route entry or
   * strict-routed Request-URI: a Record-Route token to verify. Undefined
   * when the relay was not named with one.
   */
  token: string | undefined;
  /** How many Route entries naming the relay were removed (2 when it double-record-routed). */
  removed: number;
  /** The previous hop was a strict router: the Request-URI was the relay's and the last Route took its place. */
  strict: boolean;
}

/** The first element of the first Route line, parsed; undefined when there is no Route. */
export function firstRoute(request: SipRequest): NameAddress | undefined {
  const hs = request.headers;
  for (let i = 0; i < hs.length; i++) {
    if (hs[i].key !== 'route') continue;
    const first = splitCommaList(hs[i].value)[0];
    return parseNameAddress(first, 'route');
  }
  return undefined;
}

/** The last element of the last Route line, with where it is. */
function lastRoute(request: SipRequest): { at: number; parts: string[] } | undefined {
  const hs = request.headers;
  for (let i = hs.length - 1; i >= 0; i--) {
    if (hs[i].key === 'route') return { at: i, parts: splitCommaList(hs[i].value) };
  }
  return undefined;
}

/** True when `uri` is a Record-Route URI the relay wrote: its own address with `lr` and a user part. */
function isOwnRecordRouteUri(uri: SipUri, addresses: RelayAddresses): boolean {
  return uri.user !== undefined && uri.lr && addresses.isLocalUri(uri);
}

function tokenOf(uri: SipUri): string | undefined {
  return uri.user === undefined ? undefined : uri.user.indexOf('%') < 0 ? uri.user : uri.userDecoded;
}

/**
 * Route processing of RFC 3261 §16.4, in place:
 *
 * 1. "If the Request-URI of the request contains a value this proxy
 *    previously placed into a Record-Route header field, the proxy MUST
 *    replace the Request-URI in the request with the last value from the
 *    Route header field, and remove that value" (the previous hop was a
 *    strict router);
 * 2. "If the first value in the Route header field indicates this proxy,
 *    the proxy MUST remove that value" — and the next one too when it
 *    also names the relay, as it does after double record-routing
 *    (RFC 5658 §3.2).
 *
 * Throws SipParseError when a Route value that must be read is malformed
 * (the caller answers 400).
 */
export function processRoutes(request: SipRequest, addresses: RelayAddresses): RouteProcessing {
  let token: string | undefined;
  let strict = false;
  let removed = 0;
  if (request.uri.kind === 'sip' && isOwnRecordRouteUri(request.uri, addresses)) {
    const last = lastRoute(request);
    if (last !== undefined) {
      token = tokenOf(request.uri);
      const value = last.parts.pop() as string;
      const uri = parseNameAddress(value, 'route').uri;
      const entry = request.headers[last.at];
      if (last.parts.length === 0) request.headers.splice(last.at, 1);
      else {
        entry.value = last.parts.join(', ');
        entry.raw = undefined;
      }
      request.uri = uri;
      strict = true;
    }
  }
  for (let i = 0; i < 2; i++) {
    const top = firstRoute(request);
    if (top === undefined || top.uri.kind !== 'sip' || !addresses.isLocalUri(top.uri)) break;
    token ??= tokenOf(top.uri);
    request.replaceFirstListElement('route', undefined);
    removed++;
  }
  return { token, removed, strict };
}

/** `sip:<token>@<host>:<port>;transport=<t>;lr` — a Record-Route value for the relay's side on `protocol` (§16.6 step 4). */
export function recordRouteValue(address: { host: string; port: number }, protocol: TransportProtocol, token: string): string {
  const port = address.port > 0 ? ':' + address.port : '';
  return '<sip:' + token + '@' + viaHost(address.host) + port + ';transport=' + protocol.toLowerCase() + ';lr>';
}
