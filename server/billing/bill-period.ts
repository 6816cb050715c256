import { billingError } from './billing-error.js';

/** How long a billing period is. Monthly is the default. */
export type BillPeriodKind = 'monthly' | 'weekly' | 'daily';

/**
 * A billing period: the half-open interval `[start, end)` of UTC epoch
 * milliseconds. Boundaries are UTC midnights — the first of the month,
 * Monday (ISO 8601 weeks), or each day — whatever the user's time zone, so
 * every node of a cluster puts an instant in the same period.
 */
export interface BillPeriod {
  readonly kind: BillPeriodKind;
  /** `2026-01` (monthly), `2026-W03` (ISO week), `2026-01-15` (daily). */
  readonly label: string;
  /** First instant in the period (inclusive), UTC epoch ms. */
  readonly start: number;
  /** First instant after the period (exclusive), UTC epoch ms. */
  readonly end: number;
}

const DAY_MS = 86_400_000;
/** Instants from 1970 up to the end of year 9999 have four-digit labels. */
const MAX_INSTANT = Date.UTC(9999, 11, 1);

const pad = (n: number, width: number) => String(n).padStart(width, '0');

function checkInstant(instant: number): void {
  if (!Number.isSafeInteger(instant) || instant < 0 || instant >= MAX_INSTANT) {
    throw billingError('BILLING_ERR_PERIOD', `not an instant in UTC epoch milliseconds from 1970 to 9999: ${String(instant)}`);
  }
}

/** Monday 00:00 UTC of the ISO week holding `dayStart`, and the ISO week-year and number. */
function isoWeek(dayStart: number): { monday: number; year: number; week: number } {
  const weekday = (new Date(dayStart).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  const monday = dayStart - weekday * DAY_MS;
  // ISO 8601: a week belongs to the year of its Thursday.
  const thursday = new Date(monday + 3 * DAY_MS);
  const year = thursday.getUTCFullYear();
  const week = Math.floor((thursday.getTime() - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1;
  return { monday, year, week };
}

/**
 * The period of `kind` that holds `instant` (UTC epoch ms).
 *
 * @throws BillingError `BILLING_ERR_PERIOD` for an instant that is not an
 *   integer between 1970 and December 9999, or an unknown kind.
 * @example
 * ```ts
 * billPeriod(Date.UTC(2026, 0, 31, 23, 59, 59, 999));
 * // { kind: 'monthly', label: '2026-01', start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 1, 1) }
 * billPeriod(Date.UTC(2027, 0, 1), 'weekly').label; // '2026-W53'
 * ```
 */
export function billPeriod(instant: number, kind: BillPeriodKind = 'monthly'): BillPeriod {
  checkInstant(instant);
  const d = new Date(instant);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const dayStart = Date.UTC(y, m, d.getUTCDate());
  switch (kind) {
    case 'monthly':
      return { kind, label: `${pad(y, 4)}-${pad(m + 1, 2)}`, start: Date.UTC(y, m, 1), end: Date.UTC(y, m + 1, 1) };
    case 'daily':
      return { kind, label: `${pad(y, 4)}-${pad(m + 1, 2)}-${pad(d.getUTCDate(), 2)}`, start: dayStart, end: dayStart + DAY_MS };
    case 'weekly': {
      const w = isoWeek(dayStart);
      return { kind, label: `${pad(w.year, 4)}-W${pad(w.week, 2)}`, start: w.monday, end: w.monday + 7 * DAY_MS };
    }
    default:
      throw billingError('BILLING_ERR_PERIOD', `unknown billing period kind ${JSON.stringify(kind)}`);
  }
}

const MONTH = /^(\d{4})-(\d{2})$/;
const WEEK = /^(\d{4})-W(\d{2})$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * The period a label names, for the CLI and the API (`/bills/2026-01`).
 * The label must be the canonical one that {@link billPeriod} gives.
 *
 * @throws BillingError `BILLING_ERR_PERIOD` for anything else (`2026-13`, `2026-W54`, `2026-02-30`).
 * @example
 * ```ts
 * parseBillPeriod('2026-02').end === Date.UTC(2026, 2, 1); // true
 * parseBillPeriod('2026-W01').start === Date.UTC(2025, 11, 29); // true: ISO week 1 of 2026 starts on Monday 29 December 2025
 * ```
 */
export function parseBillPeriod(label: string): BillPeriod {
  const p = periodOfLabel(label);
  // Date.UTC rolls month 13 or day 30 of February over: accept only labels that come back unchanged.
  if (!p || p.label !== label) throw billingError('BILLING_ERR_PERIOD', `not a billing period: ${JSON.stringify(label)}`);
  return p;
}

function periodOfLabel(label: string): BillPeriod | undefined {
  if (label.length > 16) return undefined;
  let m: RegExpExecArray | null;
  let instant: number;
  let kind: BillPeriodKind;
  if ((m = MONTH.exec(label))) {
    instant = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
    kind = 'monthly';
  } else if ((m = WEEK.exec(label))) {
    // Week 1 is the week holding 4 January.
    instant = isoWeek(Date.UTC(Number(m[1]), 0, 4)).monday + (Number(m[2]) - 1) * 7 * DAY_MS;
    kind = 'weekly';
  } else if ((m = DAY.exec(label))) {
    instant = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    kind = 'daily';
  } else {
    return undefined;
  }
  if (!Number.isSafeInteger(instant) || instant < 0 || instant >= MAX_INSTANT) return undefined;
  return billPeriod(instant, kind);
}

/**
 * The period right after `p`, of the same kind.
 *
 * @example
 * ```ts
 * nextBillPeriod(parseBillPeriod('2026-12')).label; // '2027-01'
 * ```
 */
export function nextBillPeriod(p: BillPeriod): BillPeriod {
  return billPeriod(p.end, p.kind);
}

/** True when `instant` falls in `p` (`start ≤ instant < end`). */
export function isInBillPeriod(p: BillPeriod, instant: number): boolean {
  return instant >= p.start && instant < p.end;
}
