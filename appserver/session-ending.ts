import type { ChargeInput, ChargeItemInput } from './charge.js';

/**
 * The payload of a session's `ending` event: the other side sent BYE (the
 * user hung up, or the relay ended the session), and the app may still
 * give its final charges, which go in the body of the 2xx to that BYE
 * (design brief flow 6). Listeners may do async work first with
 * `waitUntil`; the answer waits for it, up to the app server's
 * `endingTimeoutMs`.
 *
 * @example
 * ```ts
 * session.on('ending', (ending) => {
 *   if (cart.length) ending.charge(cart.map((i) => ({ sku: i.sku, description: i.name, unitPrice: i.price })));
 * });
 * session.on('ending', (ending) => ending.waitUntil(saveOrder(session.id)));
 * ```
 */
export class SessionEnding {
  private readonly charges: Array<ChargeInput | readonly ChargeItemInput[]> = [];
  private readonly waits: Array<Promise<unknown>> = [];

  /** @internal Made by the session. */
  constructor(
    /** Who sent the BYE. */
    readonly by: 'user' | 'relay',
    /** `bye` for a user's hang-up; the relay's reason otherwise (`max-duration`, `credit-exhausted`…). */
    readonly reason: string,
  ) {}

  /**
   * Adds final charges to the 2xx to the BYE. Several calls are merged into
   * one charge (same currency). Checked when the answer is built; a bad
   * charge is logged and left out.
   */
  charge(input: ChargeInput | readonly ChargeItemInput[]): void {
    this.charges.push(input);
  }

  /** Makes the answer wait for `promise` (settled either way), within `endingTimeoutMs`. */
  waitUntil(promise: Promise<unknown>): void {
    this.waits.push(promise);
  }

  /** @internal Everything given so far, and a Promise of all waits. */
  collect(): { charges: ReadonlyArray<ChargeInput | readonly ChargeItemInput[]>; settled: Promise<unknown> } {
    return { charges: this.charges, settled: Promise.allSettled(this.waits) };
  }
}
