import { LitElement, html, nothing } from 'lit';
import { formatDuration } from '../billing/format-duration.js';
import { formatMoney, formatTotals, sumByCurrency } from '../billing/format-money.js';
import { AdminApiController } from '../controllers/admin-api-controller.js';
import { ClockController } from '../controllers/clock-controller.js';
import { PollController } from '../controllers/poll-controller.js';
import type { AdminChargeRecord, AdminSessionRecord } from '../model/admin-api.js';
import { consoleStyles } from './console-styles.js';
import { sharedStyles } from './shared-styles.js';

interface LiveView {
  readonly sessions: readonly AdminSessionRecord[];
  readonly charges: ReadonlyMap<string, readonly AdminChargeRecord[]>;
}

/** How often the console asks for live sessions and their charges. */
const POLL_MS = 2000;

/**
 * Live sessions with running timers, and charges as they arrive (polled
 * every 2 s from `/admin/v1/sessions?live=true` and each live session's
 * `/charges`): who, which service, which application server, since when,
 * and what was charged — newest charges first in the feed.
 *
 * @csspart table - the sessions table
 *
 * @example
 * ```html
 * <siprelay-console-sessions></siprelay-console-sessions>
 * ```
 */
export class SiprelayConsoleSessions extends LitElement {
  static override styles = [sharedStyles, consoleStyles];

  private readonly admin = new AdminApiController(this, () => void this.live.refresh());
  private readonly clock = new ClockController(this);
  private readonly live = new PollController<LiveView>(
    this,
    async (signal) => {
      const api = this.admin.api!;
      const sessions = await api.liveSessions(signal);
      const charges = new Map<string, readonly AdminChargeRecord[]>();
      await Promise.all(sessions.filter((s) => s.state === 'established').map(async (s) => charges.set(s.id, await api.sessionCharges(s.id, signal))));
      return { sessions, charges };
    },
    POLL_MS,
    () => this.admin.api !== undefined,
  );

  override render() {
    const st = this.live.state;
    const v = st.value;
    const now = this.clock.now;
    const feed = v ? [...v.charges.values()].flat().sort((a, b) => (a.acceptedAt < b.acceptedAt ? 1 : -1)).slice(0, 20) : [];
    return html`
      <div class="bar">
        <h2 style="flex:1">Live sessions <span class="muted" data-test="live-sessions-count">(${v?.sessions.length ?? '…'})</span></h2>
        <span class="muted" role="status">${st.error ? `Not updated: ${st.error}` : st.loadedAt ? `Updated ${new Date(st.loadedAt).toLocaleTimeString()}` : 'Loading…'}</span>
      </div>
      <div class="scroll">
        <table part="table" data-test="live-sessions">
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Service</th>
              <th scope="col">Application server</th>
              <th scope="col">State</th>
              <th scope="col" class="num">Running</th>
              <th scope="col" class="num">Charges</th>
            </tr>
          </thead>
          <tbody>
            ${v && v.sessions.length === 0 ? html`<tr><td colspan="6" class="muted">No live sessions.</td></tr>` : nothing}
            ${v?.sessions.map((s) => {
              const started = s.startedAt ? Date.parse(s.startedAt) : undefined;
              const charges = v.charges.get(s.id) ?? [];
              return html`<tr data-session=${s.id}>
                <td>${s.user}</td>
                <td>${s.service}${s.linkedFrom ? html` <span class="muted">(transfer)</span>` : nothing}</td>
                <td>${s.appServer ?? '—'}</td>
                <td>${s.state}</td>
                <td class="num" role="timer">${started !== undefined ? formatDuration(now - started) : '—'}</td>
                <td class="num">${formatTotals(sumByCurrency(charges.map((c) => c.total)), '—')}</td>
              </tr>`;
            })}
          </tbody>
        </table>
      </div>
      <h2>Latest charges of live sessions</h2>
      ${feed.length === 0
        ? html`<p class="muted">None yet.</p>`
        : html`<ol class="feed" aria-live="polite" data-test="charge-feed">
            ${feed.map(
              (c) => html`<li>
                ${new Date(c.acceptedAt).toLocaleTimeString()} — ${c.appServer}: ${c.items.map((i) => `${i.quantity} × ${i.description}`).join('; ')}
                <strong class="money">${formatMoney(c.total.amount, c.total.currency)}</strong> <span class="muted">(${c.route})</span>
              </li>`,
            )}
          </ol>`}
    `;
  }
}

customElements.define('siprelay-console-sessions', SiprelayConsoleSessions);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-console-sessions': SiprelayConsoleSessions;
  }
}
