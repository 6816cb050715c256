import type { ChargeResult } from './charge-service.js';

/**
 * What the relay does with a charge INFO once the charge service has
 * decided: forward it to the client (whose answer then goes back to the
 * application server as usual), or answer it itself and forward nothing.
 */
export type ChargeSipAction =
  | { readonly action: 'relay' }
  | { readonly action: 'respond'; readonly status: number; readonly reason: string };

/**
 * Maps the outcome of a charge INFO (RFC 6086) to what the relay does:
 *
 * - accepted → `relay`: the charge is stored, now the INFO goes to the
 *   client so the user sees it ("store first, then relay");
 * - duplicate (the application server sent the same charge again) →
 *   `respond 200 OK` without relaying: the client has seen it already;
 * - refused → `respond` with the refusal's SIP status and a reason phrase
 *   naming the field: `400 items[0].quantity: must be a positive integer`,
 *   `402 insufficient credit: …`, `403 only the application server of …`,
 *   `413 body exceeds 65536 bytes`, `481 no session …`. Not relayed.
 *
 * The reason is printable ASCII on one line, so it is safe as a
 * Reason-Phrase (RFC 3261 §25.1).
 *
 * @example
 * ```ts
 * const result = await charges.charge({ sessionId, appServer, body: info.body, route: 'info' });
 * const a = chargeSipAction(result);
 * if (a.action === 'relay') forwardToClient(info);
 * else respond(info, a.status, a.reason);
 * ```
 */
export function chargeSipAction(result: ChargeResult): ChargeSipAction {
  if (result.status === 'refused') return { action: 'respond', status: result.sipStatus, reason: result.reason };
  if (result.status === 'accepted') return { action: 'relay' };
  return { action: 'respond', status: 200, reason: 'OK' };
}
