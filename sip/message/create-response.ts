import { type BodyInit, type HeaderInit } from './sip-message.js';
import type { SipRequest } from './sip-request.js';
import { SipResponse } from './sip-response.js';

/** Options of {@link createResponse}. */
export interface CreateResponseOptions {
  reason?: string;
  /** To tag to add when the request's To has none (§8.2.6.2); ignored for 100. */
  toTag?: string;
  /** Extra headers, appended after the copied ones. */
  headers?: HeaderInit;
  body?: BodyInit;
  /** Content-Type of `body`. */
  contentType?: string;
}

/**
 * Builds a response to `request` as RFC 3261 §8.2.6.2 prescribes: Via
 * values in order, From, Call-ID and CSeq copied exactly, To copied with a
 * tag added when it had none (not for 100 Trying), and Timestamp echoed on
 * 100 (§8.2.6.1).
 */
export function createResponse(request: SipRequest, status: number, options?: CreateResponseOptions): SipResponse {
  const res = new SipResponse(status, options?.reason);
  for (const h of request.headers) {
    switch (h.key) {
      case 'via':
      case 'from':
      case 'call-id':
      case 'cseq':
        res.headers.push({ name: h.name, key: h.key, value: h.value, raw: h.raw });
        break;
      case 'to':
        res.headers.push({ name: h.name, key: h.key, value: h.value, raw: h.raw });
        break;
      case 'timestamp':
        if (status === 100) res.headers.push({ ...h });
        break;
    }
  }
  if (status > 100 && options?.toTag) {
    const to = res.to;
    if (to.tag === undefined) {
      to.tag = options.toTag;
      res.commitTo();
    }
  }
  if (options?.headers) for (const [n, v] of options.headers) res.addHeader(n, v);
  if (options?.body !== undefined) {
    res.body = options.body;
    if (options.contentType) res.setHeader('Content-Type', options.contentType);
  }
  return res;
}
