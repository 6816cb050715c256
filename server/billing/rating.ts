import { billingError } from './billing-error.js';
import type { CurrencyCode } from './currency.js';
import type { Money } from './money.js';
import { checkedAdd, checkedMultiply, divideCeil, divideFloor, divideRoundHalfUp } from './safe-integer.js';
import { MAX_TARIFF_SECONDS, type Tariff } from './tariff.js';

/**
 * One stretch of an established session with unchanged service details. A
 * session starts with one segment; each accepted change of service details
 * (re-INVITE or UPDATE, flow 7) ends the current segment and starts the next.
 *
 * `startMs` and `endMs` are integer milliseconds on one clock shared by all
 * segments of the session — the relay's monotonic clock, or UTC epoch
 * milliseconds; rating uses only their differences. Session time runs from
 * the relayed ACK to the relayed 2xx to BYE (flow 4).
 */
export interface SessionSegment {
  /** The service of this segment; its tariff comes from the lookup given to {@link rateSession}. */
  readonly service: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Finds the tariff of a service (already resolved for the user's plan). */
export type TariffLookup = (service: string) => Tariff;

/** What rating made of one segment: a line of the session's rating. */
export interface RatedSegment {
  readonly service: string;
  readonly tariffId: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly durationMs: number;
  /** Free time of the session that fell in this segment. */
  readonly freeMs: number;
  /**
   * Seconds of the increments that started in this segment. An increment is
   * priced by the segment it starts in, even when it runs on into the next
   * one, so this may be more or less than the segment's own duration.
   */
  readonly billableSeconds: number;
  /** The segment tariff's price per minute, for display. */
  readonly pricePerMinute: number;
  /** This segment's share of the session's time charge. */
  readonly amount: Money;
}

/** The rating of one established session. */
export interface RatedSession {
  /** The tariff that set the session terms (setup fee, free time, minimum): the first segment's. */
  readonly tariffId: string;
  readonly currency: CurrencyCode;
  /** Measured session time: the sum of the segments' durations. */
  readonly durationMs: number;
  /** Free time used, ≤ the tariff's free time and ≤ `durationMs`. */
  readonly freeMs: number;
  /** Sum of the segments' billable seconds. */
  readonly billableSeconds: number;
  /** True when the chargeable time was shorter than the minimum, so the minimum was billed. */
  readonly minimumApplied: boolean;
  readonly setupFee: Money;
  /** Price of the billable time, rounded once for the session (half-up). */
  readonly timeCharge: Money;
  /** `setupFee + timeCharge`. */
  readonly total: Money;
  readonly segments: readonly RatedSegment[];
}

/**
 * Rates an established session from its segments: a pure function of the
 * tariffs and the measured times. Failed or cancelled attempts are never
 * rated; an established session of 0 ms is (setup fee plus minimum).
 *
 * The rules, in order (docs/billing.md has worked examples):
 *
 * 1. **Session terms** — setup fee, free time and minimum billable time are
 *    taken once per session from the tariff of the first segment (the service
 *    the session was established for). All segments' tariffs must share its
 *    currency.
 * 2. **Free time** comes first: the first `freeSeconds` of session time are
 *    not charged, whichever segments they fall in.
 * 3. **Minimum**: chargeable time (session time after free time) counts as at
 *    least `minimumBillableSeconds`; the shortfall is treated as if the last
 *    segment had gone on.
 * 4. **Increments** are laid end to end from the end of the free time: one
 *    `first` increment, then `next` increments, until the chargeable time is
 *    covered — always rounding up. Each increment takes its length and price
 *    from the segment in which it starts (so a change of service inside an
 *    increment does not start a new one, and splitting a session into
 *    segments with one tariff never changes its price).
 * 5. **Price**: the exact time charge is Σ billableSeconds × pricePerMinute / 60
 *    over the segments; it is rounded once, half-up, to a whole minor unit.
 *    Each line gets its exact share rounded down, and the minor units the
 *    total's rounding adds go to the lines with the largest remainders
 *    (earliest first), so the lines always sum to the time charge.
 * 6. **Total** = setup fee + time charge.
 *
 * @param tariffs one tariff for every segment, or a lookup by service.
 * @throws BillingError `BILLING_ERR_SEGMENT` (no segments; times not integers;
 *   a segment ending before it starts or starting before the previous one
 *   ended), `BILLING_ERR_TARIFF` (no tariff for a segment's service, or a
 *   tariff with impossible numbers),
 *   `BILLING_ERR_CURRENCY_MISMATCH` (segments priced in different
 *   currencies), `BILLING_ERR_OVERFLOW`.
 *
 * @example
 * ```ts
 * // "A 61 s session at 1.20 EUR/min with 60/60 increments costs 2.40 EUR."
 * const t = parseTariff({ id: 'std', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } });
 * rateSession(t, [{ service: 'lesson', startMs: 0, endMs: 61_000 }]).total; // { amount: 240, currency: 'EUR' }
 *
 * // A change of service by re-INVITE: two segments, two tariffs.
 * rateSession((s) => tariffs[s], [
 *   { service: 'wine', startMs: 0, endMs: 90_000 },
 *   { service: 'beer', startMs: 90_000, endMs: 200_000 },
 * ]);
 * ```
 */
export function rateSession(tariffs: Tariff | TariffLookup, segments: readonly SessionSegment[]): RatedSession {
  const n = segments.length;
  if (n === 0) throw billingError('BILLING_ERR_SEGMENT', 'a session has at least one segment');

  const segTariffs: Tariff[] = new Array<Tariff>(n);
  const offsets: number[] = new Array<number>(n); // segment start in session time
  const durations: number[] = new Array<number>(n);
  let sessionMs = 0;
  let prevEnd = 0;
  for (let i = 0; i < n; i++) {
    const s = segments[i];
    if (!Number.isSafeInteger(s.startMs) || !Number.isSafeInteger(s.endMs)) {
      throw billingError('BILLING_ERR_SEGMENT', `segment ${i}: startMs and endMs must be integer milliseconds`);
    }
    if (s.endMs < s.startMs) throw billingError('BILLING_ERR_SEGMENT', `segment ${i} ends before it starts`);
    if (i > 0 && s.startMs < prevEnd) throw billingError('BILLING_ERR_SEGMENT', `segment ${i} starts before segment ${i - 1} ends`);
    prevEnd = s.endMs;
    const tariff = typeof tariffs === 'function' ? tariffs(s.service) : tariffs;
    if (tariff == null) throw billingError('BILLING_ERR_TARIFF', `no tariff for service ${JSON.stringify(s.service)} (segment ${i})`);
    if (i === 0) assertRatable(tariff);
    else if (tariff !== segTariffs[i - 1]) assertRatable(tariff);
    if (i > 0 && tariff.currency !== segTariffs[0].currency) {
      throw billingError(
        'BILLING_ERR_CURRENCY_MISMATCH',
        `segment ${i} (${tariff.id}) is priced in ${tariff.currency}, the session in ${segTariffs[0].currency}`,
      );
    }
    segTariffs[i] = tariff;
    offsets[i] = sessionMs;
    durations[i] = s.endMs - s.startMs;
    // Gaps between segments (there should be none) are not session time.
    sessionMs = checkedAdd(sessionMs, durations[i]);
  }

  const terms = segTariffs[0];
  const currency = terms.currency;
  const freeEnd = terms.freeSeconds * 1000;
  const minimumEnd = freeEnd + terms.minimumBillableSeconds * 1000;
  // Increments must cover session time, and at least the minimum after the free time.
  const coverEnd = Math.max(sessionMs, minimumEnd);

  const billable: number[] = new Array<number>(n).fill(0);
  let t = freeEnd; // start of the next increment, in session time
  let firstLaid = false;
  if (coverEnd > freeEnd) {
    for (let i = 0; i < n; i++) {
      // Increments that start after the session's end (the minimum) belong to the last segment.
      const windowEnd = i === n - 1 ? coverEnd : offsets[i] + durations[i];
      if (t >= windowEnd) continue;
      // Here t ≥ this segment's start: earlier segments advanced t past their ends.
      const inc = segTariffs[i].increments;
      if (!firstLaid) {
        billable[i] += inc.first;
        t += inc.first * 1000;
        firstLaid = true;
      }
      if (t < windowEnd) {
        const k = divideCeil(windowEnd - t, inc.next * 1000);
        const secs = checkedMultiply(k, inc.next);
        billable[i] = checkedAdd(billable[i], secs);
        t = checkedAdd(t, secs * 1000);
      }
    }
  }

  // Exact amounts in 1/60 minor units; round the session total once.
  const exact: number[] = new Array<number>(n);
  let exactSum = 0;
  let billableSum = 0;
  for (let i = 0; i < n; i++) {
    exact[i] = checkedMultiply(billable[i], segTariffs[i].pricePerMinute);
    exactSum = checkedAdd(exactSum, exact[i]);
    billableSum += billable[i];
  }
  const timeCharge = divideRoundHalfUp(exactSum, 60);
  const lineAmounts = apportion(exact, timeCharge);

  const rated: RatedSegment[] = new Array<RatedSegment>(n);
  for (let i = 0; i < n; i++) {
    const s = segments[i];
    const freeMs = Math.max(0, Math.min(offsets[i] + durations[i], freeEnd) - offsets[i]);
    rated[i] = {
      service: s.service,
      tariffId: segTariffs[i].id,
      startMs: s.startMs,
      endMs: s.endMs,
      durationMs: durations[i],
      freeMs,
      billableSeconds: billable[i],
      pricePerMinute: segTariffs[i].pricePerMinute,
      amount: { amount: lineAmounts[i], currency },
    };
  }

  return {
    tariffId: terms.id,
    currency,
    durationMs: sessionMs,
    freeMs: Math.min(sessionMs, freeEnd),
    billableSeconds: billableSum,
    minimumApplied: minimumEnd > sessionMs && terms.minimumBillableSeconds > 0,
    setupFee: { amount: terms.setupFee, currency },
    timeCharge: { amount: timeCharge, currency },
    total: { amount: checkedAdd(terms.setupFee, timeCharge), currency },
    segments: rated,
  };
}

/**
 * Splits `total` (the half-up rounding of Σexact/60) into one integer per
 * line: each line's exact share rounded down, plus one minor unit to each of
 * the lines with the largest remainders until the sum is `total` (largest
 * remainder method; ties go to the earlier line).
 */
function apportion(exact: readonly number[], total: number): number[] {
  const n = exact.length;
  const out: number[] = new Array<number>(n);
  const rems: number[] = new Array<number>(n);
  let floorSum = 0;
  for (let i = 0; i < n; i++) {
    const [q, r] = divideFloor(exact[i], 60);
    out[i] = q;
    rems[i] = r;
    floorSum += q;
  }
  let extra = total - floorSum; // 0 ≤ extra ≤ number of non-zero remainders
  if (extra > 0) {
    const order = [...out.keys()].sort((a, b) => rems[b] - rems[a] || a - b);
    for (const i of order) {
      if (extra === 0) break;
      out[i] += 1;
      extra -= 1;
    }
  }
  return out;
}

const isSecs = (v: number, min: number) => Number.isSafeInteger(v) && v >= min && v <= MAX_TARIFF_SECONDS;
const isAmount = (v: number) => Number.isSafeInteger(v) && v >= 0;

/** Guards against tariffs built by hand that the schema would have refused. */
function assertRatable(t: Tariff): void {
  if (
    !isAmount(t.setupFee) ||
    !isAmount(t.pricePerMinute) ||
    !isSecs(t.increments?.first, 1) ||
    !isSecs(t.increments?.next, 1) ||
    !isSecs(t.minimumBillableSeconds, 0) ||
    !isSecs(t.freeSeconds, 0)
  ) {
    throw billingError('BILLING_ERR_TARIFF', `tariff ${JSON.stringify(t.id)} does not follow the tariff schema (see tariffSchema)`);
  }
}
