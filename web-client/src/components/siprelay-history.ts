import { LitElement, css, html, nothing } from 'lit';
import { describeDuration } from '../billing/format-duration.js';
import { formatMoney, formatTotals, sumByCurrency } from '../billing/format-money.js';
import { PollController } from '../controllers/poll-controller.js';
import { PortalClientController } from '../controllers/portal-client-controller.js';
import { monthLabel, type UserBill, type UserSessionRecord } from '../model/user-records.js';
import { sharedStyles } from './shared-styles.js';

interface HistoryData {
  readonly sessions: readonly UserSessionRecord[];
  readonly bill: UserBill;
}

const STATE_WORDS: Record<string, string> = {
  attempt: 'opening',
  answered: 'answered',
  established: 'open',
  ended: 'ended',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'interrupted',
};

const ENDED_BY_WORDS: Record<string, string> = {
  caller: 'by you',
  callee: 'by the service',
  'session-timer': 'by the relay (session timer)',
  'max-duration': 'by the relay (maximum duration)',
  'credit-exhausted': 'by the relay (credit used up)',
  operator: 'by the operator',
  interrupted: 'relay restart',
};

/**
 * The user's past sessions (`GET /api/v1/me/sessions`) with their duration,
 * time charge and application charges, and the bill of a month
 * (`GET /api/v1/me/bill?period=YYYY-MM`, the current one by default) with
 * its lines and totals per currency — both read with the user token the
 * relay gave at sign-in.
 *
 * @csspart sessions - the sessions table
 * @csspart bill - the bill
 *
 * @example
 * ```html
 * <siprelay-history></siprelay-history>
 * ```
 */
export class SiprelayHistory extends LitElement {
  static override properties = { period: { state: true } };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        gap: 1.2rem;
      }
      h2 {
        margin: 0;
        font-size: 1.1rem;
      }
      .bar {
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem;
        align-items: end;
      }
      label {
        display: grid;
        gap: 0.2rem;
        font-size: 0.9rem;
      }
      .scroll {
        overflow-x: auto;
        border: 1px solid var(--_line);
        border-radius: var(--_radius);
        background: var(--_surface);
      }
      table {
        border-collapse: collapse;
        width: 100%;
        min-width: 36rem;
      }
      th,
      td {
        text-align: left;
        padding: 0.45rem 0.6rem;
        border-bottom: 1px solid var(--_line);
        vertical-align: top;
      }
      td.num,
      th.num {
        text-align: right;
        font-variant-numeric: tabular-nums;
      }
      tfoot td {
        font-weight: 700;
        border-bottom: none;
      }
      caption {
        text-align: left;
        padding: 0.5rem 0.6rem;
        font-weight: 600;
      }
    `,
  ];

  declare period: string;

  private readonly portal = new PortalClientController(this);
  private readonly data = new PollController<HistoryData>(
    this,
    async (signal) => {
      const client = this.portal.client!;
      const token = client.token!;
      const [list, bill] = await Promise.all([
        client.http.getJson<{ sessions: UserSessionRecord[] }>('/api/v1/me/sessions?limit=100', token, signal),
        client.http.getJson<UserBill>(`/api/v1/me/bill?period=${encodeURIComponent(this.period)}`, token, signal),
      ]);
      return { sessions: list.sessions, bill };
    },
    0,
    () => this.portal.client?.token !== undefined,
  );

  constructor() {
    super();
    this.period = monthLabel(Date.now());
  }

  override render() {
    const d = this.data.state;
    return html`
      <div class="bar">
        <h2 style="flex:1">History and bill</h2>
        <label>Bill for <input type="month" .value=${this.period} @change=${this.pickPeriod} /></label>
        <button type="button" @click=${() => void this.data.refresh()} ?disabled=${d.loading}>${d.loading ? 'Loading…' : 'Refresh'}</button>
      </div>
      ${d.error ? html`<p class="problem" role="alert"><strong>Could not load your history.</strong> ${d.error}</p>` : nothing}
      ${d.value ? html`${this.bill(d.value.bill)} ${this.sessions(d.value)}` : d.loading ? html`<p class="muted" role="status">Loading…</p>` : nothing}
    `;
  }

  private pickPeriod(e: Event): void {
    const v = (e.target as HTMLInputElement).value;
    if (/^\d{4}-\d{2}$/.test(v)) {
      this.period = v;
      void this.data.refresh();
    }
  }

  private bill(bill: UserBill) {
    return html`<div class="scroll" part="bill">
      <table data-test="bill">
        <caption>
          Bill ${bill.period.label}
        </caption>
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">What</th>
            <th scope="col">Service</th>
            <th scope="col" class="num">Amount</th>
          </tr>
        </thead>
        <tbody>
          ${bill.lines.length === 0 ? html`<tr><td colspan="4" class="muted">Nothing billed in this period yet.</td></tr>` : nothing}
          ${bill.lines.map(
            (l) => html`<tr data-kind=${l.kind}>
              <td>${new Date(l.at).toLocaleString()}</td>
              <td>${l.kind === 'session' ? `Time: ${describeDuration(l.durationMs)} (${l.billableSeconds} s billed, ${l.tariffId})` : l.description}</td>
              <td>${l.service ?? ''}</td>
              <td class="num">${formatMoney(l.amount.amount, l.amount.currency)}</td>
            </tr>`,
          )}
        </tbody>
        <tfoot>
          <tr>
            <td colspan="3">Total</td>
            <td class="num" data-test="bill-total">${formatTotals(bill.totals, formatMoney(0, 'EUR'))}</td>
          </tr>
        </tfoot>
      </table>
    </div>`;
  }

  private sessions(d: HistoryData) {
    // Charges per session from this period's bill (the session list carries time charges only).
    const charges = new Map<string, Array<{ amount: number; currency: string }>>();
    for (const l of d.bill.lines) if (l.kind === 'charge') charges.set(l.sessionId, [...(charges.get(l.sessionId) ?? []), l.amount]);
    return html`<div class="scroll" part="sessions">
      <table data-test="sessions">
        <caption>
          Your sessions
        </caption>
        <thead>
          <tr>
            <th scope="col">Started</th>
            <th scope="col">Service</th>
            <th scope="col">State</th>
            <th scope="col" class="num">Duration</th>
            <th scope="col" class="num">Time charge</th>
            <th scope="col" class="num">Charges (${d.bill.period.label})</th>
          </tr>
        </thead>
        <tbody>
          ${d.sessions.length === 0 ? html`<tr><td colspan="6" class="muted">No sessions yet.</td></tr>` : nothing}
          ${d.sessions.map((s) => {
            const c = charges.get(s.id);
            return html`<tr data-session=${s.id} data-state=${s.state}>
              <td>${new Date(s.startedAt ?? s.requestedAt ?? 0).toLocaleString()}</td>
              <td>${s.service}${s.linkedFrom ? html` <span class="muted">(transferred)</span>` : nothing}</td>
              <td>
                ${STATE_WORDS[s.state] ?? s.state}${s.endedBy ? ` ${ENDED_BY_WORDS[s.endedBy] ?? `by ${s.endedBy}`}` : ''}${s.sipStatus && s.state === 'failed'
                  ? ` (${s.sipStatus})`
                  : ''}
              </td>
              <td class="num">${s.durationMs !== null ? describeDuration(s.durationMs) : '—'}</td>
              <td class="num">${s.amount ? formatMoney(s.amount.amount, s.amount.currency) : s.state === 'ended' ? 'free' : '—'}</td>
              <td class="num">${c ? formatTotals(sumByCurrency(c)) : '—'}</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>`;
  }
}

customElements.define('siprelay-history', SiprelayHistory);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-history': SiprelayHistory;
  }
}
