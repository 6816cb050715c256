import { LitElement, css, html, nothing } from 'lit';
import { PortalClientController } from '../controllers/portal-client-controller.js';
import type { OpeningRequest } from '../model/opening-request.js';
import { CancelOpeningEvent, DismissEvent, OpenServiceEvent } from './portal-events.js';
import { sharedStyles } from './shared-styles.js';

/**
 * A service being opened (the INVITE is out), or one that could not be
 * opened, with the reason in words a person understands (wrong service,
 * busy, no credit, unreachable…) and the SIP status beside it.
 *
 * @fires siprelay-cancel-opening - {@link CancelOpeningEvent} (CANCEL while it rings)
 * @fires siprelay-dismiss - {@link DismissEvent} to remove a failed card
 * @fires siprelay-open-service - {@link OpenServiceEvent} to try again
 * @csspart card - the card
 *
 * @example
 * ```ts
 * html`<siprelay-opening-card .request=${opening}></siprelay-opening-card>`
 * ```
 */
export class SiprelayOpeningCard extends LitElement {
  static override properties = { request: { attribute: false } };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      div[part='card'] {
        border: 1px solid var(--_line);
        border-radius: var(--_radius);
        padding: 0.8rem;
        background: var(--_surface);
        display: grid;
        gap: 0.5rem;
      }
      p {
        margin: 0;
      }
      .actions {
        display: flex;
        gap: 0.5rem;
        flex-wrap: wrap;
      }
    `,
  ];

  declare request: OpeningRequest | undefined;

  // The request object changes in place (calling → failed): follow the client to re-render.
  private readonly portal = new PortalClientController(this);

  constructor() {
    super();
    this.request = undefined;
  }

  override render() {
    const r = this.request;
    if (!r) return nothing;
    if (r.state === 'calling') {
      return html`<div part="card" data-state="calling" data-service=${r.service} role="status">
        <p>Opening <strong>${r.service}</strong>${r.group ? ' and asking every provider' : ''}…${r.progress ? html` <span class="muted">(${r.progress})</span>` : nothing}</p>
        <div class="actions"><button type="button" @click=${() => this.dispatchEvent(new CancelOpeningEvent(r.key))}>Cancel</button></div>
      </div>`;
    }
    const p = r.problem!;
    return html`<div part="card" class="problem" data-state="failed" data-service=${r.service} data-code=${p.code} role="alert">
      <p><strong>${p.title}.</strong> ${p.detail}</p>
      ${p.status ? html`<p class="muted">The relay answered ${p.status} ${p.reason ?? ''}.</p>` : nothing}
      <div class="actions">
        <button type="button" @click=${() => this.dispatchEvent(new OpenServiceEvent(r.service, r.details, r.group !== undefined, performance.now()))}>Try again</button>
        <button type="button" @click=${() => this.dispatchEvent(new DismissEvent(r.key))}>Dismiss</button>
      </div>
    </div>`;
  }
}

customElements.define('siprelay-opening-card', SiprelayOpeningCard);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-opening-card': SiprelayOpeningCard;
  }
}
