import type { TimeTariff } from './time-tariff.js';

/** What a session's time costs so far. */
export interface RunningTimeCharge {
  readonly currency: string;
  /** Billable seconds after free time, minimum and increments. */
  readonly billableSeconds: number;
  readonly setupFee: number;
  /** Price of the billable time, rounded once, half-up. */
  readonly timeCharge: number;
  /** `setupFee + timeCharge`, minor units. */
  readonly total: number;
  /** Milliseconds of free time left (0 once it is used up). */
  readonly freeLeftMs: number;
  /** Milliseconds until the next increment starts and the charge goes up. */
  readonly nextStepInMs: number;
}

/**
 * The running time charge of a session `elapsedMs` long, by the relay's
 * rating rules (docs/billing.md, "Rating"; `rateSession` in
 * `server/billing/rating.ts` for one segment): the first `freeSeconds` are
 * free; chargeable time counts as at least `minimumBillableSeconds`; time
 * is rounded up to increments laid from the end of the free time (one
 * `first`, then `next` ones; ending exactly on a boundary does not start
 * the next); the price Σ seconds × pricePerMinute / 60 is rounded once,
 * half-up; the setup fee is added. An established session of 0 ms costs
 * the setup fee and the minimum.
 *
 * The portal's clock starts when the 2xx arrives and the relay's when it
 * relays the ACK, so the two may differ by a round trip; at an increment
 * boundary the bill (the relay's rating) is what counts.
 *
 * @example
 * ```ts
 * // 61 s at 1.20 EUR/min in whole minutes: 2.40 EUR.
 * rateTime({ id: 't', currency: 'EUR', setupFee: 0, pricePerMinute: 120, increments: { first: 60, next: 60 },
 *   minimumBillableSeconds: 0, freeSeconds: 0 }, 61_000).total; // 240
 * ```
 */
export function rateTime(tariff: TimeTariff, elapsedMs: number): RunningTimeCharge {
  const elapsed = Math.max(0, Math.floor(elapsedMs));
  const freeEnd = tariff.freeSeconds * 1000;
  const minimumEnd = freeEnd + tariff.minimumBillableSeconds * 1000;
  const coverEnd = Math.max(elapsed, minimumEnd);
  const first = tariff.increments.first;
  const next = tariff.increments.next;
  let billable = 0;
  // Start of the increment after the ones laid so far, in session time.
  let laidTo = freeEnd;
  if (coverEnd > freeEnd) {
    billable = first;
    laidTo = freeEnd + first * 1000;
    if (laidTo < coverEnd) {
      const k = Math.ceil((coverEnd - laidTo) / (next * 1000));
      billable += k * next;
      laidTo += k * next * 1000;
    }
  }
  const exact = billable * tariff.pricePerMinute; // in 1/60 minor units
  // Half-up for a non-negative exact amount: x.5 goes up.
  const timeCharge = Math.floor((exact + 30) / 60);
  // The charge next goes up when the session passes the end of the laid increments
  // (or, before any, the end of the free time).
  const nextStep = coverEnd > freeEnd ? laidTo : freeEnd;
  return {
    currency: tariff.currency,
    billableSeconds: billable,
    setupFee: tariff.setupFee,
    timeCharge,
    total: tariff.setupFee + timeCharge,
    freeLeftMs: Math.max(0, freeEnd - elapsed),
    nextStepInMs: Math.max(0, nextStep - elapsed),
  };
}
