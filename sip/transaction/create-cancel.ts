import type { HeaderInit } from '../message/sip-message.js';
import { SipRequest } from '../message/sip-request.js';

/** Options of {@link createCancel}. */
export interface CreateCancelOptions {
  /**
   * Extra header lines, e.g. `[['Reason', 'SIP;cause=200;text="Call completed elsewhere"']]`
   * (RFC 3326) on the CANCELs a forking proxy sends to losing branches.
   */
  headers?: HeaderInit;
}

/**
 * Builds the CANCEL for `invite` as RFC 3261 §9.1 prescribes: the same
 * Request-URI, Call-ID, To, From (tags included) and CSeq number, CSeq
 * method CANCEL, a single Via equal to the INVITE's top Via (so that it
 * reaches the same server transaction and shares the branch, §9.2), and
 * the INVITE's Route header fields. Header lines copied from the INVITE
 * keep their raw text. Max-Forwards is 70 (§8.1.1.6).
 *
 * `invite` must be the request as sent, i.e. already carrying the Via the
 * client transaction added.
 */
export function createCancel(invite: SipRequest, options?: CreateCancelOptions): SipRequest {
  if (invite.method !== 'INVITE') throw new TypeError(`createCancel needs an INVITE, got ${invite.method}`);
  const cancel = new SipRequest('CANCEL', invite.rawUri);
  const out = cancel.headers;
  let viaDone = false;
  for (const h of invite.headers) {
    switch (h.key) {
      case 'via':
        if (!viaDone) {
          out.push({ name: h.name, key: 'via', value: invite.topVia.toString(), raw: undefined });
          viaDone = true;
        }
        break;
      case 'route':
      case 'to':
      case 'from':
      case 'call-id':
        out.push({ name: h.name, key: h.key, value: h.value, raw: h.raw });
        break;
      case 'cseq':
        out.push({ name: h.name, key: 'cseq', value: invite.cseq.seq + ' CANCEL', raw: undefined });
        break;
      case 'max-forwards':
        out.push({ name: h.name, key: 'max-forwards', value: '70', raw: undefined });
        break;
    }
  }
  if (!cancel.hasHeader('max-forwards')) cancel.addHeader('Max-Forwards', '70');
  if (options?.headers) for (const [n, v] of options.headers) cancel.addHeader(n, v);
  return cancel;
}
