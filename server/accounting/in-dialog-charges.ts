import { parseMultipart } from '../../sip/message/multipart.js';
import type { SipMessage } from '../../sip/message/sip-message.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import { CHARGE_MEDIA_TYPE } from '../billing/charge.js';
import type { DialogMilestone, InDialogVerdict } from '../relay-ports.js';
import type { ChargeResult, ChargeService } from './charge-service.js';
import { chargeSipAction } from './charge-sip-action.js';

/** The INFO package of charges (docs/wire-contracts.md, RFC 6086). */
export const CHARGE_INFO_PACKAGE = 'siprelay-charge';

/**
 * The charge body of a message: the body when its type is
 * `application/vnd.siprelay.charge+json`, or the first part of that type in
 * a `multipart/mixed` body. Undefined for anything else (and for a
 * malformed multipart body, which is then not a charge).
 */
export function chargeBodyOf(message: SipMessage): Uint8Array | undefined {
  const type = message.contentType;
  if (type === CHARGE_MEDIA_TYPE) return message.body;
  if (type !== 'multipart/mixed' || message.body.length === 0) return undefined;
  try {
    return parseMultipart(message.header('content-type')!, message.body).find((p) => p.contentType === CHARGE_MEDIA_TYPE)?.body;
  } catch {
    return undefined;
  }
}

/**
 * Charges that travel inside a dialog, for the relay core's
 * `SessionObserver.inDialogRequest` / `inDialogResponse` (the session
 * recorder delegates to this):
 *
 * - an **INFO** whose body is a charge (`Info-Package: siprelay-charge`,
 *   or just the charge media type), sent by the application-server side, is
 *   stored before anything is relayed, and the relay answers it itself
 *   (docs/wire-contracts.md): `200` with the receipt `Siprelay-Charge:
 *   stored;id="<id>"` — for a new charge with `forward: true`, so that the
 *   INFO also goes to the client (whose answer the relay absorbs) and the
 *   user sees it; for a charge already stored without forwarding — or
 *   `<4xx> <reason naming the field>` for a refused one. A charge INFO from
 *   the client side is refused with 403: charges come from application servers;
 * - the **2xx to a BYE the user sent**, when it carries a charge, is the
 *   application server's last charge (`route: 'bye'`), stored before the
 *   2xx is relayed. Nobody can be told of a refusal on this route; it goes
 *   to `onRefused` (the log).
 *
 * Anything else is left alone (no verdict: the relay forwards it).
 */
export class InDialogCharges {
  constructor(
    private readonly charges: ChargeService,
    private readonly onRefused?: (result: ChargeResult & { status: 'refused' }, sessionId: string) => void,
  ) {}

  request(request: SipRequest, m: DialogMilestone, by: 'caller' | 'callee'): Promise<InDialogVerdict> | void {
    if (request.method !== 'INFO') return;
    const body = chargeBodyOf(request);
    if (body === undefined) return;
    if (by === 'caller') {
      return Promise.resolve({ action: 'respond', status: 403, reason: 'charges come from the application server' });
    }
    return this.charges.charge({ sessionId: m.sessionId, appServer: m.target.appServer, body, route: 'info' }).then(verdictOf);
  }

  response(request: SipRequest, response: SipResponse, m: DialogMilestone, by: 'caller' | 'callee'): Promise<void> | void {
    // Only the application server's 2xx to the user's BYE carries its last charges.
    if (request.method !== 'BYE' || by !== 'caller' || !response.isSuccess) return;
    const body = chargeBodyOf(response);
    if (body === undefined) return;
    return this.charges.charge({ sessionId: m.sessionId, appServer: m.target.appServer, body, route: 'bye' }).then((r) => {
      if (r.status === 'refused') this.onRefused?.(r, m.sessionId);
    });
  }
}

function verdictOf(result: ChargeResult): InDialogVerdict {
  const a = chargeSipAction(result);
  return { action: 'respond', status: a.status, reason: a.reason, headers: a.headers, forward: a.forwardToClient };
}
