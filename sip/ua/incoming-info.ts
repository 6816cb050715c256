import type { SipRequest } from '../message/sip-request.js';
import type { ServerTransaction } from '../transaction/transaction-user.js';
import type { Flow } from '../transport/transport.js';
import { IncomingRequest, type IncomingRequestOwner } from './incoming-request.js';

/**
 * An INFO request in a session (RFC 6086). The core has already checked
 * its Info-Package against the packages the session announced in
 * Recv-Info and answered 469 when it was not one of them (§4.2.2), so a
 * listener only sees packages it asked for — or legacy INFO without an
 * Info-Package header (RFC 2976 usage, §4.2.2 leaves it to the application),
 * where `package` is undefined.
 */
export class IncomingInfo extends IncomingRequest {
  /** The Info-Package value, lower-cased; undefined for legacy INFO. */
  readonly package: string | undefined;

  constructor(owner: IncomingRequestOwner, request: SipRequest, transaction: ServerTransaction, flow: Flow, infoPackage: string | undefined) {
    super(owner, request, transaction, flow);
    this.package = infoPackage;
  }
}
