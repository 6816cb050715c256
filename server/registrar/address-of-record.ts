import type { SipUri } from '../../sip/grammar/uri.js';

/**
 * The key of an address of record in the location service: the user part
 * unescaped once and the host lower-cased, `alice@portal.test` (RFC 3261
 * §10.3 step 5: "converting it to a canonical form"; §19.1.4: users compare
 * after unescaping, hosts case-insensitively). Scheme, port and parameters
 * are not part of it, so `sips:alice@Portal.Test:5061;transport=tls` is the
 * same AOR. A URI without a user names its host.
 *
 * The relay core uses the same function to find where a request for a
 * user goes: `location.lookup(addressOfRecord(requestUri))`.
 */
export function addressOfRecord(uri: SipUri): string {
  const host = uri.host.toLowerCase();
  const user = uri.userDecoded;
  return user === undefined ? host : user + '@' + host;
}
