import { splitCommaList } from '../../sip/grammar/header-scanner.js';
import { parseNameAddress } from '../../sip/grammar/name-address.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import { SipRequest } from '../../sip/message/sip-request.js';
import type { RelayedDialog } from './dialog-registry.js';

/**
 * How far ahead of the last known CSeq number a BYE goes when the side it
 * speaks for may have sent requests the relay never saw (a dialog rebuilt
 * after a restart). Any higher number is in order (RFC 3261 §12.2.2).
 */
export const STALE_CSEQ_MARGIN = 100_000;

/** Options of {@link relayRequest}. */
export interface RelayRequestOptions {
  /** A Reason header value (RFC 3326). */
  reason?: string;
  /**
   * `next`: one above the highest CSeq the impersonated side used (a BYE,
   * §12.2.1.1), or {@link STALE_CSEQ_MARGIN} above when that number may be
   * stale. `current`: the highest seen, never more — for a probe that
   * must not push the receiver's remote sequence number past what the
   * real side will use next (§12.2.2 would then refuse the side's next
   * request with 500); a lower one only earns a 500, which still proves
   * the receiver has the dialog.
   */
  cseq: 'next' | 'current';
}

/**
 * A request the relay sends itself into a dialog it record-routed —
 * the BYE that ends it (shutdown, maximum duration, session timer, credit,
 * operator) or the OPTIONS that asks whether a side still has it — built
 * as the other side would build it (RFC 3261 §12.2.1.1): Request-URI the
 * side's remote target, From and To of the other side with both tags, and
 * the part of the route set that lies beyond the relay toward that side:
 *
 * - toward the callee: the Record-Route entries above the relay's own,
 *   reversed (the caller's route set past the relay, §12.1.2);
 * - toward the caller: the entries below the relay's own, in order (the
 *   callee's route set past the relay, §12.1.1).
 *
 * `isRelayRoute` tells the relay's own Record-Route URIs. Returns
 * undefined when the side has no known Contact.
 */
export function relayRequest(
  dialog: RelayedDialog,
  toward: 'caller' | 'callee',
  method: string,
  isRelayRoute: (uri: SipUri) => boolean,
  options: RelayRequestOptions,
): SipRequest | undefined {
  const contact = toward === 'caller' ? dialog.callerContact : dialog.calleeContact;
  if (contact === undefined) return undefined;
  let target: string;
  const routes: string[] = [];
  try {
    target = parseNameAddress(splitCommaList(contact)[0], 'contact').uri.toString();
    const rr = dialog.recordRoute;
    let first = -1;
    let last = -1;
    for (let i = 0; i < rr.length; i++) {
      const uri = parseNameAddress(rr[i], 'record-route').uri;
      if (uri.kind === 'sip' && isRelayRoute(uri)) {
        if (first < 0) first = i;
        last = i;
      }
    }
    if (first >= 0) {
      if (toward === 'callee') for (let i = first - 1; i >= 0; i--) routes.push(rr[i]);
      else for (let i = last + 1; i < rr.length; i++) routes.push(rr[i]);
    }
  } catch {
    return undefined;
  }
  const request = new SipRequest(method, target);
  for (const r of routes) request.addHeader('Route', r);
  request.addHeader('Max-Forwards', '70');
  // Toward the callee the relay speaks as the caller, and the other way round.
  const asCaller = toward === 'callee';
  request.addHeader('From', asCaller ? dialog.callerAddress : dialog.calleeAddress);
  request.addHeader('To', asCaller ? dialog.calleeAddress : dialog.callerAddress);
  request.addHeader('Call-ID', dialog.callId);
  request.addHeader('CSeq', `${sequenceNumber(dialog, asCaller, options.cseq)} ${method}`);
  if (options.reason !== undefined) request.addHeader('Reason', options.reason);
  request.addHeader('Content-Length', '0');
  return request;
}

function sequenceNumber(dialog: RelayedDialog, asCaller: boolean, mode: 'next' | 'current'): number {
  const seen = asCaller ? dialog.callerCSeq : dialog.calleeCSeq;
  if (mode === 'current') return Math.max(1, seen);
  const stale = asCaller ? dialog.callerCSeqStale : dialog.calleeCSeqStale;
  // CSeq numbers stay below 2^31 (§8.1.1.5).
  const next = Math.min(seen + (stale ? STALE_CSEQ_MARGIN : 1), 2 ** 31 - 1);
  if (asCaller) dialog.callerCSeq = next;
  else dialog.calleeCSeq = next;
  return next;
}
