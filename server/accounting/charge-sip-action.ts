import type { ChargeResult } from './charge-service.js';

/** The header of the relay's receipt for a stored charge: `Siprelay-Charge: stored;id="<id>"`. */
export const CHARGE_RECEIPT_HEADER = 'Siprelay-Charge';

/**
 * What the relay does with a charge INFO once the charge service has
 * decided (docs/wire-contracts.md, "INFO package for charges"): it answers
 * the application server itself, and forwards the INFO to the client only
 * for a charge it has just stored.
 */
export interface ChargeSipAction {
  /** Status of the relay's answer to the application server. */
  readonly status: number;
  /** One line of printable ASCII: `OK`, or the refusal naming the field. */
  readonly reason: string;
  /** `Siprelay-Charge: stored;id="<id>"` on a 200; none on a refusal. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** Forward the INFO to the client (and absorb its answer), so the user sees the charge. */
  readonly forwardToClient: boolean;
}

/**
 * Maps the outcome of a charge INFO (RFC 6086) to the relay's answer:
 *
 * - accepted → `200 OK` with the receipt, and the INFO forwarded to the
 *   client ("store first, then relay");
 * - duplicate (the same charge again) → `200 OK` with the receipt of the
 *   first, not forwarded again;
 * - refused → the refusal's SIP status with a reason phrase naming the
 *   field: `400 items[0].quantity: must be a positive integer`,
 *   `402 insufficient credit: …`, `403 only the application server of …`,
 *   `413 body exceeds 65536 bytes`, `481 no session …`. Not forwarded.
 *
 * @example
 * ```ts
 * const a = chargeSipAction(await charges.charge({ sessionId, appServer, body: info.body, route: 'info' }));
 * respond(info, a.status, a.reason, a.headers);
 * if (a.forwardToClient) forwardToClient(info);
 * ```
 */
export function chargeSipAction(result: ChargeResult): ChargeSipAction {
  if (result.status === 'refused') return { status: result.sipStatus, reason: result.reason, headers: [], forwardToClient: false };
  return {
    status: 200,
    reason: 'OK',
    headers: [[CHARGE_RECEIPT_HEADER, `stored;id=${quoted(result.charge.idempotencyKey)}`]],
    forwardToClient: result.status === 'accepted',
  };
}

/** A quoted-string (RFC 3261 §25.1): an id may hold `;` or `,`. */
function quoted(s: string): string {
  return '"' + s.replace(/["\\]/g, (c) => '\\' + c) + '"';
}
