import { LitElement, html, nothing } from 'lit';
import { formatMoney, formatTotals } from '../billing/format-money.js';
import { AdminApiController } from '../controllers/admin-api-controller.js';
import { PollController } from '../controllers/poll-controller.js';
import type { AdminAccount, AdminAppServer, AdminSettlement } from '../model/admin-api.js';
import { monthLabel, type UserBill } from '../model/user-records.js';
import { consoleStyles } from './console-styles.js';
import { sharedStyles } from './shared-styles.js';

/**
 * Bills and settlements: users' accounts with their balances, any user's
 * bill and any operator's settlement for a month (`/admin/v1/accounts`,
 * `/admin/v1/bills`, `/admin/v1/settlements`).
 *
 * @csspart bill - the bill shown
 * @csspart settlement - the settlement shown
 *
 * @example
 * ```html
 * <siprelay-console-billing></siprelay-console-billing>
 * ```
 */
export class SiprelayConsoleBilling extends LitElement {
  static override properties = { user: { state: true }, operator: { state: true }, period: { state: true } };
  static override styles = [sharedStyles, consoleStyles];

  declare user: string;
  declare operator: string;
  declare period: string;

  private readonly admin = new AdminApiController(this, () => void this.lists.refresh());
  private readonly lists = new PollController<{ accounts: AdminAccount[]; servers: AdminAppServer[] }>(
    this,
    async (signal) => {
      const api = this.admin.api!;
      const [accounts, servers] = await Promise.all([api.accounts(signal), api.appServers(signal)]);
      return { accounts, servers };
    },
    10_000,
    () => this.admin.api !== undefined,
  );
  private readonly bill = new PollController<UserBill>(this, (signal) => this.admin.api!.bill(this.user, this.period, signal), 0, () => this.admin.api !== undefined && this.user !== '');
  private readonly settlement = new PollController<AdminSettlement>(
    this,
    (signal) => this.admin.api!.settlement(this.operator, this.period, signal),
    0,
    () => this.admin.api !== undefined && this.operator !== '',
  );

  constructor() {
    super();
    this.user = '';
    this.operator = '';
    this.period = monthLabel(Date.now());
  }

  override render() {
    const lists = this.lists.state.value;
    const operators = [...new Set((lists?.servers ?? []).map((s) => s.operator ?? s.name))].sort();
    return html`
      <h2>Accounts</h2>
      <div class="scroll">
        <table data-test="accounts">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Mode</th>
              <th scope="col" class="num">Balance</th>
              <th scope="col" class="num">Available</th>
            </tr>
          </thead>
          <tbody>
            ${lists?.accounts.map(
              (a) => html`<tr>
                <td>${a.owner}</td>
                <td>${a.mode ?? '—'}</td>
                <td class="num">${a.balance ? formatMoney(a.balance.amount, a.balance.currency) : '—'}</td>
                <td class="num">${a.available ? formatMoney(a.available.amount, a.available.currency) : '—'}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <form class="bar" @submit=${this.show}>
        <label>Month <input type="month" name="period" .value=${this.period} required /></label>
        <label
          >User’s bill
          <select name="user">
            <option value="">—</option>
            ${lists?.accounts.map((a) => html`<option value=${a.owner} ?selected=${a.owner === this.user}>${a.owner}</option>`)}
          </select>
        </label>
        <label
          >Operator’s settlement
          <select name="operator">
            <option value="">—</option>
            ${operators.map((o) => html`<option value=${o} ?selected=${o === this.operator}>${o}</option>`)}
          </select>
        </label>
        <button class="primary" type="submit">Show</button>
      </form>
      ${this.billView()} ${this.settlementView()}
    `;
  }

  private show(e: SubmitEvent): void {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    this.period = String(data.get('period') ?? this.period);
    this.user = String(data.get('user') ?? '');
    this.operator = String(data.get('operator') ?? '');
    void this.bill.refresh();
    void this.settlement.refresh();
  }

  private billView() {
    if (!this.user) return nothing;
    const st = this.bill.state;
    if (st.error) return html`<p class="problem" role="alert">${st.error}</p>`;
    const b = st.value;
    if (!b) return html`<p class="muted">Loading…</p>`;
    return html`<div class="scroll" part="bill">
      <table data-test="admin-bill">
        <caption>Bill of ${b.userId}, ${b.period.label}</caption>
        <tbody>
          ${b.lines.map(
            (l) => html`<tr>
              <td>${new Date(l.at).toLocaleString()}</td>
              <td>${l.kind === 'session' ? `${l.service}: ${l.description}` : l.description}</td>
              <td class="num">${formatMoney(l.amount.amount, l.amount.currency)}</td>
            </tr>`,
          )}
        </tbody>
        <tfoot>
          <tr>
            <td colspan="2"><strong>Total</strong></td>
            <td class="num"><strong>${formatTotals(b.totals, formatMoney(0, 'EUR'))}</strong></td>
          </tr>
        </tfoot>
      </table>
    </div>`;
  }

  private settlementView() {
    if (!this.operator) return nothing;
    const st = this.settlement.state;
    if (st.error) return html`<p class="problem" role="alert">${st.error}</p>`;
    const s = st.value;
    if (!s) return html`<p class="muted">Loading…</p>`;
    return html`<div class="scroll" part="settlement">
      <table data-test="settlement">
        <caption>Settlement of ${s.operatorId}, ${s.period.label}</caption>
        <thead>
          <tr>
            <th scope="col">Currency</th>
            <th scope="col" class="num">Sessions</th>
            <th scope="col" class="num">Charges</th>
            <th scope="col" class="num">Gross</th>
            <th scope="col" class="num">Relay fee</th>
            <th scope="col" class="num">Net owed</th>
          </tr>
        </thead>
        <tbody>
          ${s.totals.length === 0 ? html`<tr><td colspan="6" class="muted">Nothing to settle in this period.</td></tr>` : nothing}
          ${s.totals.map(
            (t) => html`<tr>
              <td>${t.currency}</td>
              <td class="num">${t.sessions}</td>
              <td class="num">${t.charges}</td>
              <td class="num">${formatMoney(t.gross.amount, t.gross.currency)}</td>
              <td class="num">${formatMoney(t.fee.amount, t.fee.currency)}</td>
              <td class="num">${formatMoney(t.net.amount, t.net.currency)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }
}

customElements.define('siprelay-console-billing', SiprelayConsoleBilling);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-console-billing': SiprelayConsoleBilling;
  }
}
