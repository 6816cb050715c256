import { isInBillPeriod, type BillPeriod } from './bill-period.js';
import { csvRecord } from './csv.js';
import type { CurrencyCode } from './currency.js';
import { operatorAccountId, type LedgerEntry, type LedgerReference } from './ledger.js';
import { moneyToDecimalString, type Money } from './money.js';
import { checkedAdd, checkedSubtract } from './safe-integer.js';

/** What one session or charge earned an operator in one currency. */
export interface SettlementLine {
  readonly reference: LedgerReference;
  /** Posting instant, UTC epoch ms. */
  readonly at: number;
  /** What users paid (negative for a refund). */
  readonly gross: Money;
  /** The relay's fee (negative when a refund returns it). */
  readonly fee: Money;
  /** `gross − fee`: what the relay owes the operator. */
  readonly net: Money;
}

/** An operator's totals in one currency. */
export interface SettlementTotal {
  readonly currency: CurrencyCode;
  readonly gross: Money;
  readonly fee: Money;
  readonly net: Money;
  /** Sessions and charges (refunds included) that moved money in this currency. */
  readonly sessions: number;
  readonly charges: number;
}

/** What the relay owes one application-server operator for one period. */
export interface Settlement {
  readonly operatorId: string;
  readonly period: BillPeriod;
  /** One line per posted session or charge, in time order. */
  readonly lines: readonly SettlementLine[];
  /** Per currency, sorted by code. */
  readonly totals: readonly SettlementTotal[];
}

/**
 * Builds an operator's settlement for `period` from ledger entries: the
 * settlement is read from the ledger, so it always agrees with it. Gross is
 * what the operator's account was credited for users' sessions and charges
 * (less refunds), fee what it was debited for the relay's fee (less fees
 * returned), and net the difference. Entries of other accounts or outside
 * the period are left out.
 *
 * @example
 * ```ts
 * const s = buildSettlement('acme', parseBillPeriod('2026-01'), entries);
 * s.totals; // [{ currency: 'EUR', gross: 10000, fee: 1000, net: 9000, sessions: 12, charges: 3 }] (as Money)
 * ```
 */
export function buildSettlement(operatorId: string, period: BillPeriod, entries: Iterable<LedgerEntry>): Settlement {
  const account = operatorAccountId(operatorId);
  const byRef = new Map<string, { reference: LedgerReference; at: number; currency: CurrencyCode; gross: number; fee: number }>();
  for (const e of entries) {
    if (e.account !== account || !isInBillPeriod(period, e.at)) continue;
    const key = `${e.reference.type}\u0000${e.reference.id}\u0000${e.currency}`;
    let line = byRef.get(key);
    if (!line) {
      line = { reference: e.reference, at: e.at, currency: e.currency, gross: 0, fee: 0 };
      byRef.set(key, line);
    }
    if (e.kind === 'gross') line.gross = checkedAdd(line.gross, e.side === 'credit' ? e.amount : -e.amount);
    else line.fee = checkedAdd(line.fee, e.side === 'debit' ? e.amount : -e.amount);
    if (e.at < line.at) line.at = e.at;
  }

  const lines: SettlementLine[] = [];
  const totals = new Map<CurrencyCode, { gross: number; fee: number; sessions: number; charges: number }>();
  for (const l of byRef.values()) {
    const net = checkedSubtract(l.gross, l.fee);
    const m = (amount: number): Money => ({ amount: amount === 0 ? 0 : amount, currency: l.currency });
    lines.push({ reference: l.reference, at: l.at, gross: m(l.gross), fee: m(l.fee), net: m(net) });
    let t = totals.get(l.currency);
    if (!t) {
      t = { gross: 0, fee: 0, sessions: 0, charges: 0 };
      totals.set(l.currency, t);
    }
    t.gross = checkedAdd(t.gross, l.gross);
    t.fee = checkedAdd(t.fee, l.fee);
    if (l.reference.type === 'session') t.sessions++;
    else t.charges++;
  }
  lines.sort(
    (a, b) =>
      a.at - b.at ||
      (a.reference.type < b.reference.type ? 1 : a.reference.type > b.reference.type ? -1 : 0) ||
      (a.reference.id < b.reference.id ? -1 : a.reference.id > b.reference.id ? 1 : 0) ||
      (a.gross.currency < b.gross.currency ? -1 : a.gross.currency > b.gross.currency ? 1 : 0),
  );
  const totalList: SettlementTotal[] = [...totals.keys()].sort().map((currency) => {
    const t = totals.get(currency)!;
    const m = (amount: number): Money => ({ amount: amount === 0 ? 0 : amount, currency });
    return { currency, gross: m(t.gross), fee: m(t.fee), net: m(checkedSubtract(t.gross, t.fee)), sessions: t.sessions, charges: t.charges };
  });
  return { operatorId, period, lines, totals: totalList };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The header of {@link settlementToCsv}. */
export const SETTLEMENT_CSV_COLUMNS = [
  'period',
  'operator',
  'kind',
  'instant',
  'reference_id',
  'currency',
  'gross',
  'fee',
  'net',
  'gross_minor',
  'fee_minor',
  'net_minor',
] as const;

/**
 * The settlement as CSV (RFC 4180, CRLF): a header, one record per session
 * or charge (`kind` `session` or `charge`) and one `total` record per
 * currency. Decimal columns are exact major units; `*_minor` columns integer
 * minor units.
 *
 * @example
 * ```text
 * period,operator,kind,instant,reference_id,currency,gross,fee,net,gross_minor,fee_minor,net_minor
 * 2026-01,acme,session,2026-01-03T00:00:00.000Z,s1,EUR,2.40,0.29,2.11,240,29,211
 * 2026-01,acme,total,,,EUR,2.40,0.29,2.11,240,29,211
 * ```
 */
export function settlementToCsv(s: Settlement): string {
  let out = csvRecord(SETTLEMENT_CSV_COLUMNS);
  const amounts = (gross: Money, fee: Money, net: Money) =>
    [
      { raw: gross.currency },
      { raw: moneyToDecimalString(gross) },
      { raw: moneyToDecimalString(fee) },
      { raw: moneyToDecimalString(net) },
      gross.amount,
      fee.amount,
      net.amount,
    ] as const;
  for (const l of s.lines) {
    out += csvRecord([s.period.label, s.operatorId, l.reference.type, { raw: iso(l.at) }, l.reference.id, ...amounts(l.gross, l.fee, l.net)]);
  }
  for (const t of s.totals) {
    out += csvRecord([s.period.label, s.operatorId, 'total', null, null, ...amounts(t.gross, t.fee, t.net)]);
  }
  return out;
}

/**
 * The settlement as a JSON document: instants as ISO 8601 UTC strings,
 * amounts as `{ amount, currency, decimal }` (integer minor units plus the
 * exact decimal for people).
 *
 * @example
 * ```ts
 * settlementToJson(buildSettlement('acme', parseBillPeriod('2026-01'), entries), 2);
 * ```
 */
export function settlementToJson(s: Settlement, space?: number): string {
  const money = (m: Money) => ({ amount: m.amount, currency: m.currency, decimal: moneyToDecimalString(m) });
  return JSON.stringify(
    {
      operatorId: s.operatorId,
      period: { kind: s.period.kind, label: s.period.label, start: iso(s.period.start), end: iso(s.period.end) },
      lines: s.lines.map((l) => ({ reference: l.reference, at: iso(l.at), gross: money(l.gross), fee: money(l.fee), net: money(l.net) })),
      totals: s.totals.map((t) => ({ ...t, gross: money(t.gross), fee: money(t.fee), net: money(t.net) })),
    },
    null,
    space,
  );
}
