import type { Request, Response } from 'express';
import { billPeriod, parseBillPeriod, type BillPeriod } from '../../billing/bill-period.js';
import { billToCsv, billToJson, type Bill } from '../../billing/bill.js';
import { validationError } from './http-errors.js';

// The query parameters the accounting routers share, and answering with a
// bill in the format asked for. Each bad parameter is a 400 naming it.

/** Sends a bill as JSON, or CSV for `format=csv` / `Accept: text/csv`. */
export function sendBill(req: Request, res: Response, bill: Bill): void {
  res.set('Cache-Control', 'no-store');
  if (wantsCsv(req)) {
    res
      .type('text/csv; charset=utf-8')
      .set('Content-Disposition', `attachment; filename="bill-${bill.period.label}.csv"`)
      .send(billToCsv(bill));
    return;
  }
  res.type('application/json').send(billToJson(bill));
}

export function wantsCsv(req: Request): boolean {
  const format = req.query.format;
  if (format !== undefined) {
    if (format === 'csv') return true;
    if (format === 'json') return false;
    throw validationError('format', 'must be json or csv');
  }
  return req.accepts(['application/json', 'text/csv']) === 'text/csv';
}

/** The `period` query parameter (`2026-11`, `2026-W45`, `2026-11-05`), default the month of `now`. */
export function periodQuery(req: Request, now: number): BillPeriod {
  const p = req.query.period;
  if (p === undefined) return billPeriod(now);
  if (typeof p !== 'string') throw validationError('period', 'must be one period such as 2026-11');
  try {
    return parseBillPeriod(p);
  } catch {
    throw validationError('period', 'must be a month (2026-11), an ISO week (2026-W45) or a day (2026-11-05)');
  }
}

export function intQuery(req: Request, name: string, min: number, max: number): number | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,9}$/.test(v) || Number(v) < min || Number(v) > max) {
    throw validationError(name, `must be an integer from ${min} to ${max}`);
  }
  return Number(v);
}

/** An instant given as ISO 8601 or epoch ms. */
export function instantQuery(req: Request, name: string): number | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v === 'string') {
    if (/^\d{1,15}$/.test(v)) return Number(v);
    const t = Date.parse(v);
    if (/^\d{4}-\d{2}-\d{2}/.test(v) && Number.isFinite(t)) return t;
  }
  throw validationError(name, 'must be an ISO 8601 instant or epoch milliseconds');
}
