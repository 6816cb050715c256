import { parseBillPeriod, type BillPeriod } from '../billing/bill-period.js';
import { billMatchesLedger, buildBill, type Bill } from '../billing/bill.js';
import { userAccountId } from '../billing/ledger.js';
import { buildSettlement, type Settlement } from '../billing/settlement.js';
import type { Store } from '../store/store.js';

/**
 * Bills and settlements (issue 4, item 7; design brief flow 9) read from
 * the store and built by the billing core's pure functions: a bill from the
 * user's rated sessions and accepted charges of the period, a settlement
 * from the operator's ledger entries. Periods are UTC (`2026-11`,
 * `2026-W45`, `2026-11-05`).
 */
export class BillingReports {
  constructor(private readonly store: Store) {}

  /**
   * The bill of `userId` (`alice@portal.test`) for `period`.
   * @throws BillingError `BILLING_ERR_PERIOD` for a bad period label.
   */
  async bill(userId: string, period: BillPeriod | string): Promise<Bill> {
    const p = typeof period === 'string' ? parseBillPeriod(period) : period;
    const [sessions, charges] = await Promise.all([this.store.sessions.billable(userId, p), this.store.charges.billable(userId, p)]);
    return buildBill(userId, p, sessions, charges);
  }

  /**
   * The settlement of an application-server operator for `period`.
   * @throws BillingError `BILLING_ERR_PERIOD` for a bad period label.
   */
  async settlement(operator: string, period: BillPeriod | string): Promise<Settlement> {
    const p = typeof period === 'string' ? parseBillPeriod(period) : period;
    return buildSettlement(operator, p, await this.store.ledger.forAccount(`operator:${operator}`, p));
  }

  /** Whether the user's bill for `period` equals their ledger entries (the crash test's check). */
  async billMatchesLedger(userId: string, period: BillPeriod | string): Promise<boolean> {
    const p = typeof period === 'string' ? parseBillPeriod(period) : period;
    const bill = await this.bill(userId, p);
    return billMatchesLedger(bill, await this.store.ledger.forAccount(userAccountId(userId), p));
  }

  /** Operators with postings in `period`. */
  async operators(period: BillPeriod | string): Promise<string[]> {
    const p = typeof period === 'string' ? parseBillPeriod(period) : period;
    return this.store.ledger.operatorsInPeriod(p);
  }
}
