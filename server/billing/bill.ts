import { isInBillPeriod, type BillPeriod } from './bill-period.js';
import { chargeTotal, type Charge, type ChargeItem } from './charge.js';
import { csvRecord } from './csv.js';
import { CurrencyTotals } from './currency-totals.js';
import { userAccountId, type LedgerEntry } from './ledger.js';
import { moneyToDecimalString, type Money } from './money.js';
import type { RatedSession } from './rating.js';

/** A rated session as the bill reads it from storage. */
export interface BillableSession {
  readonly sessionId: string;
  readonly userId: string;
  /** The service the session was established for. */
  readonly service: string;
  /** When the relay relayed the ACK, UTC epoch ms. */
  readonly startedAt: number;
  /** When the relay relayed the 2xx to BYE (or ended the session), UTC epoch ms. Decides the period. */
  readonly endedAt: number;
  readonly rated: RatedSession;
}

/** An accepted charge (or refund) as the bill reads it from storage. */
export interface BillableCharge {
  /** The stored charge's unique id (also the ledger reference). */
  readonly chargeRef: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly service?: string;
  /** When the relay stored the charge, UTC epoch ms. Decides the period. */
  readonly acceptedAt: number;
  readonly charge: Charge;
}

/** A bill line for a session's time charge. */
export interface SessionBillLine {
  readonly kind: 'session';
  /** The instant that put the line in this period: the session's end. */
  readonly at: number;
  readonly sessionId: string;
  readonly service: string;
  readonly startedAt: number;
  readonly durationMs: number;
  readonly billableSeconds: number;
  readonly tariffId: string;
  readonly description: string;
  readonly amount: Money;
}

/** A bill line for an application charge or refund. */
export interface ChargeBillLine {
  readonly kind: 'charge';
  /** The instant that put the line in this period: the charge's acceptance. */
  readonly at: number;
  readonly chargeRef: string;
  /** The application server's id (idempotency key) of the charge. */
  readonly chargeId: string;
  readonly refundOf?: string;
  readonly sessionId: string;
  readonly service?: string;
  readonly description: string;
  readonly items: readonly ChargeItem[];
  readonly amount: Money;
}

export type BillLine = SessionBillLine | ChargeBillLine;

/** One user's bill for one period. */
export interface Bill {
  readonly userId: string;
  readonly period: BillPeriod;
  /** Sessions and charges in time order (then sessions before charges, then by id). */
  readonly lines: readonly BillLine[];
  /** Sum of the lines per currency, sorted by code. */
  readonly totals: readonly Money[];
}

function describeItems(charge: Charge): string {
  const items = charge.items.map((i) => `${i.quantity} × ${i.description}`).join('; ');
  return charge.refundOf !== undefined ? `Refund of ${charge.refundOf}: ${items}` : items;
}

function lineKey(l: BillLine): string {
  return l.kind === 'session' ? l.sessionId : l.chargeRef;
}

/**
 * Builds the bill of `userId` for `period`: one line per session that ended
 * in the period and one per charge accepted in it, with totals per currency.
 * Records of other users or outside the period are left out, so the caller
 * may pass a superset. A pure function: the same records give the same bill.
 *
 * The bill equals the user's ledger entries for the period when sessions are
 * posted at their `endedAt` and charges at their `acceptedAt` (see
 * {@link billMatchesLedger}).
 *
 * @example
 * ```ts
 * const bill = buildBill('alice', billPeriod(Date.now()), sessions, charges);
 * bill.totals; // [{ amount: 7340, currency: 'EUR' }]
 * ```
 */
export function buildBill(
  userId: string,
  period: BillPeriod,
  sessions: Iterable<BillableSession>,
  charges: Iterable<BillableCharge>,
): Bill {
  const lines: BillLine[] = [];
  const totals = new CurrencyTotals();
  for (const s of sessions) {
    if (s.userId !== userId || !isInBillPeriod(period, s.endedAt)) continue;
    lines.push({
      kind: 'session',
      at: s.endedAt,
      sessionId: s.sessionId,
      service: s.service,
      startedAt: s.startedAt,
      durationMs: s.rated.durationMs,
      billableSeconds: s.rated.billableSeconds,
      tariffId: s.rated.tariffId,
      description: s.service,
      amount: s.rated.total,
    });
    totals.add(s.rated.total);
  }
  for (const c of charges) {
    if (c.userId !== userId || !isInBillPeriod(period, c.acceptedAt)) continue;
    const amount = chargeTotal(c.charge);
    lines.push({
      kind: 'charge',
      at: c.acceptedAt,
      chargeRef: c.chargeRef,
      chargeId: c.charge.id,
      ...(c.charge.refundOf !== undefined ? { refundOf: c.charge.refundOf } : {}),
      sessionId: c.sessionId,
      ...(c.service !== undefined ? { service: c.service } : {}),
      description: describeItems(c.charge),
      items: c.charge.items,
      amount,
    });
    totals.add(amount);
  }
  lines.sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'session' ? -1 : 1) || (lineKey(a) < lineKey(b) ? -1 : lineKey(a) > lineKey(b) ? 1 : 0));
  return { userId, period, lines, totals: totals.toArray() };
}

/**
 * True when the bill's totals equal what the user's ledger account was
 * debited (less credited) by the entries posted in the bill's period, in
 * every currency. A currency missing on one side counts as zero there (a
 * session rated at 0 is a bill line but posts no entry).
 *
 * @example
 * ```ts
 * // The crash test's check: every bill equals the sum of its ledger entries.
 * expect(billMatchesLedger(buildBill('alice', period, sessions, charges), entries)).toBe(true);
 * ```
 */
export function billMatchesLedger(bill: Bill, entries: Iterable<LedgerEntry>): boolean {
  const account = userAccountId(bill.userId);
  const ledger = new CurrencyTotals();
  for (const e of entries) {
    if (e.account !== account || !isInBillPeriod(bill.period, e.at)) continue;
    ledger.add({ amount: e.side === 'debit' ? e.amount : -e.amount, currency: e.currency });
  }
  const billed = new CurrencyTotals().addAll(bill.totals);
  const currencies = new Set([...ledger.currencies(), ...billed.currencies()]);
  for (const c of currencies) if (ledger.get(c).amount !== billed.get(c).amount) return false;
  return true;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The header of {@link billToCsv}. */
export const BILL_CSV_COLUMNS = [
  'period',
  'user',
  'kind',
  'instant',
  'session_id',
  'charge_id',
  'refund_of',
  'service',
  'description',
  'duration_ms',
  'billable_seconds',
  'currency',
  'amount',
  'amount_minor',
] as const;

/**
 * The bill as CSV (RFC 4180, CRLF, UTF-8): a header, one record per line and
 * one `total` record per currency. `instant` is ISO 8601 UTC; `amount` is the
 * exact decimal in major units (`2.40`), `amount_minor` the integer minor
 * units (`240`). Text from application servers is guarded against formula
 * injection (see csv.ts).
 *
 * @example
 * ```text
 * period,user,kind,instant,session_id,charge_id,refund_of,service,description,duration_ms,billable_seconds,currency,amount,amount_minor
 * 2026-01,alice,session,2026-01-05T10:01:01.000Z,s1,,,lesson,lesson,61000,120,EUR,2.40,240
 * 2026-01,alice,total,,,,,,,,,EUR,2.40,240
 * ```
 */
export function billToCsv(bill: Bill): string {
  let out = csvRecord(BILL_CSV_COLUMNS);
  for (const l of bill.lines) {
    const common = [bill.period.label, bill.userId] as const;
    if (l.kind === 'session') {
      out += csvRecord([
        ...common, 'session', { raw: iso(l.at) }, l.sessionId, null, null, l.service, l.description,
        l.durationMs, l.billableSeconds, { raw: l.amount.currency }, { raw: moneyToDecimalString(l.amount) }, l.amount.amount,
      ]);
    } else {
      out += csvRecord([
        ...common, 'charge', { raw: iso(l.at) }, l.sessionId, l.chargeId, l.refundOf, l.service, l.description,
        null, null, { raw: l.amount.currency }, { raw: moneyToDecimalString(l.amount) }, l.amount.amount,
      ]);
    }
  }
  for (const t of bill.totals) {
    out += csvRecord([
      bill.period.label, bill.userId, 'total', null, null, null, null, null, null,
      null, null, { raw: t.currency }, { raw: moneyToDecimalString(t) }, t.amount,
    ]);
  }
  return out;
}

/**
 * The bill as a JSON document: the {@link Bill} with instants as ISO 8601
 * UTC strings and every amount as `{ amount, currency }` in integer minor
 * units (the wire form of money), plus `decimal` for people.
 *
 * @example
 * ```ts
 * reply.type('application/json').send(billToJson(bill, 2));
 * // { "userId": "alice", "period": { "kind": "monthly", "label": "2026-01", "start": "2026-01-01T00:00:00.000Z", … },
 * //   "lines": [{ "kind": "session", "at": "2026-01-05T10:01:01.000Z", …, "amount": { "amount": 240, "currency": "EUR", "decimal": "2.40" } }],
 * //   "totals": [{ "amount": 240, "currency": "EUR", "decimal": "2.40" }] }
 * ```
 */
export function billToJson(bill: Bill, space?: number): string {
  const money = (m: Money) => ({ amount: m.amount, currency: m.currency, decimal: moneyToDecimalString(m) });
  return JSON.stringify(
    {
      userId: bill.userId,
      period: { kind: bill.period.kind, label: bill.period.label, start: iso(bill.period.start), end: iso(bill.period.end) },
      lines: bill.lines.map((l) =>
        l.kind === 'session'
          ? { ...l, at: iso(l.at), startedAt: iso(l.startedAt), amount: money(l.amount) }
          : { ...l, at: iso(l.at), amount: money(l.amount) },
      ),
      totals: bill.totals.map(money),
    },
    null,
    space,
  );
}
