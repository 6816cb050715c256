import type { Via } from '../grammar/via.js';
import type { SipRequest } from '../message/sip-request.js';

/**
 * Map keys of the transaction layer, as plain strings so that matching is
 * one Map lookup.
 *
 * Branch values compare case-insensitively (RFC 3261 §7.3.1: parameter
 * values are case-insensitive unless a header says otherwise), so keys
 * hold them lower-cased.
 */

/** Client key (§17.1.3): the branch of the top Via plus the CSeq method. CANCEL shares the INVITE's branch and differs by method. */
export function clientTransactionKey(branch: string, method: string): string {
  return branch.toLowerCase() + ' ' + method;
}

/**
 * Server key (§17.2.3) of `request`, looked up as if its method were
 * `method` (ACK and CANCEL look for their INVITE, §9.2).
 *
 * With an RFC 3261 branch (magic cookie and more): branch, sent-by and
 * method, ACK counting as INVITE. Without one (RFC 2543 peers, and the bare
 * `z9hG4bK` of RFC 4475 §3.2.1) the fallback of §17.2.3: Request-URI, From
 * tag, Call-ID, CSeq number and method, top Via, and the To tag for
 * non-INVITE requests. INVITE and ACK leave the To tag out of the key
 * because the ACK's To tag is that of the response, not of the INVITE;
 * {@link isRfc2543Key} tells the layer to compare To tags itself.
 */
export function serverTransactionKey(request: SipRequest, method: string = request.method): string {
  const via = request.topVia;
  const m = method === 'ACK' ? 'INVITE' : method;
  if (via.hasRfc3261Branch) return (via.branch as string).toLowerCase() + ' ' + via.sentBy + ' ' + m;
  const toTag = m === 'INVITE' ? '' : (request.to.tag ?? '');
  return (
    '2543 ' + request.rawUri + ' ' + toTag + ' ' + (request.from.tag ?? '') + ' ' + request.callId + ' ' + request.cseq.seq + ' ' + m + ' ' + viaIdentity(via)
  );
}

/** True for keys made by the RFC 2543 fallback. */
export function isRfc2543Key(key: string): boolean {
  return key.startsWith('2543 ');
}

/**
 * The top Via as the RFC 2543 match compares it: transport, sent-by and
 * branch. `received` and `rport` are left out: the layer adds them itself
 * (§18.2.1), so they say nothing about the sender's identity.
 */
function viaIdentity(via: Via): string {
  return via.transport + ' ' + via.sentBy + ' ' + (via.branch ?? '');
}
