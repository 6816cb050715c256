import { splitCommaList } from '../../sip/grammar/header-scanner.js';
import { parseNameAddress } from '../../sip/grammar/name-address.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import { SipRequest } from '../../sip/message/sip-request.js';
import type { RelayedDialog } from './dialog-registry.js';

/**
 * The BYE the relay sends itself to one side of a dialog it record-routed,
 * to end it (shutdown, maximum duration, credit): built as the other side
 * would build it (RFC 3261 §12.2.1.1, §15.1.1) — Request-URI the side's
 * remote target, From and To of the other side with both tags, CSeq one
 * above the highest the other side used, and the part of the route set
 * that lies beyond the relay toward that side:
 *
 * - toward the callee: the Record-Route entries above the relay's own,
 *   reversed (the caller's route set past the relay, §12.1.2);
 * - toward the caller: the entries below the relay's own, in order (the
 *   callee's route set past the relay, §12.1.1).
 *
 * `isRelayRoute` tells the relay's own Record-Route URIs. Returns
 * undefined when the side has no known Contact.
 */
export function relayBye(
  dialog: RelayedDialog,
  toward: 'caller' | 'callee',
  isRelayRoute: (uri: SipUri) => boolean,
  reason: string | undefined,
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
  const bye = new SipRequest('BYE', target);
  for (const r of routes) bye.addHeader('Route', r);
  bye.addHeader('Max-Forwards', '70');
  if (toward === 'callee') {
    bye.addHeader('From', dialog.callerAddress);
    bye.addHeader('To', dialog.calleeAddress);
    bye.addHeader('Call-ID', dialog.callId);
    bye.addHeader('CSeq', `${++dialog.callerCSeq} BYE`);
  } else {
    bye.addHeader('From', dialog.calleeAddress);
    bye.addHeader('To', dialog.callerAddress);
    bye.addHeader('Call-ID', dialog.callId);
    bye.addHeader('CSeq', `${++dialog.calleeCSeq} BYE`);
  }
  if (reason !== undefined) bye.addHeader('Reason', reason);
  bye.addHeader('Content-Length', '0');
  return bye;
}
