import type { SipUri } from '../../sip/grammar/uri.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { RelayedDialog } from './dialog-registry.js';
import { relayRequest } from './relay-request.js';

/**
 * The BYE the relay sends itself to one side of a dialog it record-routed,
 * to end it (shutdown, maximum duration, session timer, credit, operator):
 * built as the other side would build it (RFC 3261 §12.2.1.1, §15.1.1),
 * with a CSeq above the highest the other side used — see
 * {@link relayRequest}. Returns undefined when the side has no known
 * Contact.
 */
export function relayBye(
  dialog: RelayedDialog,
  toward: 'caller' | 'callee',
  isRelayRoute: (uri: SipUri) => boolean,
  reason: string | undefined,
): SipRequest | undefined {
  return relayRequest(dialog, toward, 'BYE', isRelayRoute, { reason, cseq: 'next' });
}
