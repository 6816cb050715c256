import { LitElement, html, nothing } from 'lit';
import { AdminApiController } from '../controllers/admin-api-controller.js';
import { PollController } from '../controllers/poll-controller.js';
import type { AdminAppServer, AdminTarget } from '../model/admin-api.js';
import { consoleStyles } from './console-styles.js';
import { sharedStyles } from './shared-styles.js';

/** How often the console asks for the directory's targets. */
const POLL_MS = 5000;

/**
 * Application servers and their targets: each service's targets with
 * their health as the relay's OPTIONS probes see it (up or down, last probe
 * status, load, weight, registration expiry), and each account with its
 * operator and services (`/admin/v1/targets`, `/admin/v1/app-servers`).
 *
 * @csspart targets - the targets table
 *
 * @example
 * ```html
 * <siprelay-console-servers></siprelay-console-servers>
 * ```
 */
export class SiprelayConsoleServers extends LitElement {
  static override styles = [sharedStyles, consoleStyles];

  private readonly admin = new AdminApiController(this, () => void this.data.refresh());
  private readonly data = new PollController<{ targets: AdminTarget[]; servers: AdminAppServer[] }>(
    this,
    async (signal) => {
      const api = this.admin.api!;
      const [targets, servers] = await Promise.all([api.targets(signal), api.appServers(signal)]);
      return { targets, servers };
    },
    POLL_MS,
    () => this.admin.api !== undefined,
  );

  override render() {
    const st = this.data.state;
    const v = st.value;
    return html`
      <div class="bar">
        <h2 style="flex:1">Targets</h2>
        ${st.error ? html`<span class="problem" role="alert">${st.error}</span>` : nothing}
      </div>
      <div class="scroll">
        <table part="targets" data-test="targets">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Application server</th>
              <th scope="col">Address</th>
              <th scope="col">Health</th>
              <th scope="col" class="num">Last probe</th>
              <th scope="col" class="num">Load</th>
              <th scope="col" class="num">Weight</th>
              <th scope="col">Registration ends</th>
            </tr>
          </thead>
          <tbody>
            ${v && v.targets.length === 0 ? html`<tr><td colspan="8" class="muted">No targets.</td></tr>` : nothing}
            ${v?.targets.map(
              (t) => html`<tr data-target=${`${t.service}/${t.appServer}`}>
                <td>${t.service}</td>
                <td>${t.appServer}</td>
                <td><code>${t.uri}</code> <span class="muted">(${t.source})</span></td>
                <td class=${t.up ? 'up' : 'down'}>${t.up ? 'up' : 'down'}</td>
                <td class="num">${t.lastStatus === 0 ? '—' : t.lastStatus === -1 ? 'no answer' : t.lastStatus}</td>
                <td class="num">${t.load}</td>
                <td class="num">${t.weight}</td>
                <td>${t.expiresAt ? new Date(t.expiresAt).toLocaleTimeString() : '—'}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <h2>Application-server accounts</h2>
      <div class="scroll">
        <table data-test="app-servers">
          <thead>
            <tr>
              <th scope="col">Account</th>
              <th scope="col">Operator</th>
              <th scope="col">Services</th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            ${v?.servers.map(
              (a) => html`<tr>
                <td>${a.name}${a.displayName ? html` <span class="muted">${a.displayName}</span>` : nothing}</td>
                <td>${a.operator ?? a.name}</td>
                <td>${a.services.map((s) => s.service).join(', ') || '—'}</td>
                <td class=${a.disabled ? 'down' : 'up'}>${a.disabled ? 'disabled' : 'enabled'}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
    `;
  }
}

customElements.define('siprelay-console-servers', SiprelayConsoleServers);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-console-servers': SiprelayConsoleServers;
  }
}
