import { SipRequest } from '../message/sip-request.js';

/**
 * A copy of `request` that can be changed and sent without touching the
 * original: header lines (raw text kept), body bytes shared (never mutated).
 * The core keeps one template per request it may have to resend (a digest
 * retry) and sends copies, because the transaction layer adds Via to what
 * it sends and the digest client remembers the template across retries.
 */
export function cloneRequest(request: SipRequest): SipRequest {
  const copy = new SipRequest(request.method, request.rawUri);
  for (const h of request.headers) copy.headers.push({ name: h.name, key: h.key, value: h.value, raw: h.raw });
  if (request.body.length) copy.body = request.body;
  return copy;
}
