import { LitElement, css, html, nothing } from 'lit';
import { ClockController } from '../controllers/clock-controller.js';
import { PortalClientController } from '../controllers/portal-client-controller.js';
import { sharedStyles } from './shared-styles.js';

/**
 * The state of the connection to the relay, in words: reconnecting (with
 * the attempt and a countdown), registering again, offline with the
 * reason, and what the last reconnect found out. Silent while all is well.
 *
 * @csspart banner - the banner
 *
 * @example
 * ```html
 * <siprelay-connection-banner></siprelay-connection-banner>
 * ```
 */
export class SiprelayConnectionBanner extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      p {
        margin: 0;
      }
      .banner {
        padding: 0.5rem 1rem;
        display: flex;
        gap: 0.6rem;
        align-items: center;
        flex-wrap: wrap;
      }
      [data-state='reconnecting'],
      [data-state='restoring'] {
        background: #fffbeb;
        color: var(--_warn);
      }
      [data-state='offline'] {
        background: #fef2f2;
        color: var(--_danger);
      }
      [data-state='online'] {
        background: #ecfdf5;
        color: var(--_ok);
      }
    `,
  ];

  private readonly portal = new PortalClientController(this);
  private readonly clock = new ClockController(this, () => this.portal.client?.state === 'reconnecting');

  override render() {
    const c = this.portal.client;
    if (!c) return nothing;
    // Always present, so screen readers hear changes in this live region.
    return html`<div role="status" aria-live="polite" part="banner">${this.message()}</div>`;
  }

  private message() {
    const c = this.portal.client!;
    switch (c.state) {
      case 'reconnecting': {
        const r = c.retry;
        const wait = r ? Math.max(0, Math.ceil((r.at - this.clock.now) / 1000)) : undefined;
        return html`<p class="banner" data-state="reconnecting">
          <strong>Connection to the relay lost.</strong> Reconnecting${r ? html` (attempt ${r.attempt}${wait ? `, in ${wait} s` : ''})` : nothing}…
        </p>`;
      }
      case 'restoring':
        return html`<p class="banner" data-state="restoring"><strong>Reconnected.</strong> Signing in again and checking your sessions…</p>`;
      case 'offline':
        return html`<p class="banner" data-state="offline">
          <strong>Offline.</strong> ${c.problem ? `${c.problem.title}: ${c.problem.detail}` : 'The relay cannot be reached.'} Sign out and in again to retry.
        </p>`;
      case 'online':
        return c.connectionNote ? html`<p class="banner" data-state="online">${c.connectionNote}</p>` : nothing;
      default:
        return nothing;
    }
  }
}

customElements.define('siprelay-connection-banner', SiprelayConnectionBanner);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-connection-banner': SiprelayConnectionBanner;
  }
}
