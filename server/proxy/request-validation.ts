import type { HeaderInit } from '../../sip/message/sip-message.js';
import type { SipRequest } from '../../sip/message/sip-request.js';

/** Why a request cannot be proxied, as the response to send (RFC 3261 §16.3). */
export interface ValidationFailure {
  status: number;
  reason?: string;
  headers?: HeaderInit;
}

/** Request-URI schemes the relay routes; anything else gets 416 (§16.3 step 2, RFC 4475 §3.3.2). */
const ROUTABLE_SCHEMES: ReadonlySet<string> = new Set(['sip', 'sips', 'tel']);

const UNSUPPORTED_SCHEME: ValidationFailure = { status: 416 };
const URI_HEADERS: ValidationFailure = { status: 400, reason: 'Headers Not Allowed In Request-URI' };
const TOO_MANY_HOPS: ValidationFailure = { status: 483 };

/** Options of {@link validateProxyRequest}. */
export interface ProxyValidationOptions {
  /** Option tags the proxy understands in Proxy-Require (lower case); others get 420. */
  proxyRequireSupported: ReadonlySet<string>;
}

/**
 * The checks of RFC 3261 §16.3 that need no routing state, in the RFC's
 * order (the parser has done step 1, syntax; loop detection, step 4,
 * needs Route processing first and is {@link isLooped}):
 *
 * - step 2: the Request-URI scheme must be one the relay routes (416);
 * - a Request-URI with escaped headers (`sip:x@y?Route=...`) is refused
 *   with 400: a proxy must never turn them into real header fields, and
 *   forwarding them would let a client smuggle headers to an application
 *   server (RFC 4475 §3.1.2.11; §19.1.5 defines them for Contact and
 *   Refer-To, not for Request-URIs);
 * - step 3: Max-Forwards 0 means the request must not be forwarded (483);
 *   the caller answers an OPTIONS to the relay itself instead (§11);
 * - step 5: every Proxy-Require option tag must be understood (420 with
 *   Unsupported listing the others).
 *
 * Returns the failure, or `undefined` when the request may go on.
 * `maxForwardsZeroOk` lets the caller skip the 483 for a request it
 * answers itself.
 */
export function validateProxyRequest(request: SipRequest, options: ProxyValidationOptions, maxForwardsZeroOk = false): ValidationFailure | undefined {
  const uri = request.uri;
  if (!ROUTABLE_SCHEMES.has(uri.scheme)) return UNSUPPORTED_SCHEME;
  if (uri.kind === 'sip' && uri.headers.length > 0) return URI_HEADERS;
  if (!maxForwardsZeroOk && request.maxForwards === 0) return TOO_MANY_HOPS;
  if (request.hasHeader('proxy-require')) {
    const unsupported: string[] = [];
    for (const tag of request.optionTags('proxy-require')) if (!options.proxyRequireSupported.has(tag)) unsupported.push(tag);
    if (unsupported.length) return { status: 420, headers: [['Unsupported', unsupported.join(', ')]] };
  }
  return undefined;
}
