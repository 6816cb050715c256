import { LitElement, css, html, nothing } from 'lit';
import { describeTariff } from '../billing/describe-tariff.js';
import { PortalClientController } from '../controllers/portal-client-controller.js';
import type { CatalogueService } from '../model/catalogue-service.js';
import { detailsFor, serviceDetailHint } from '../model/service-hints.js';
import { OpenServiceEvent, ReloadCatalogueEvent } from './portal-events.js';
import { sharedStyles } from './shared-styles.js';

/** Services whose providers are worth comparing side by side (several application servers, no-cancel allowed). */
const COMPARABLE = new Set(['bookstore']);

/**
 * The service catalogue (`GET /api/v1/services`): each service with its
 * description and tariff, an optional detail (shelf, search, topic) and
 * buttons to open it — and, for the bookstores, to compare every provider's
 * answer side by side.
 *
 * @fires siprelay-open-service - {@link OpenServiceEvent} when a service is opened
 * @fires siprelay-reload-catalogue - {@link ReloadCatalogueEvent} when loading failed and the user retries
 * @csspart service - one service card
 *
 * @example
 * ```html
 * <siprelay-service-catalogue></siprelay-service-catalogue>
 * ```
 */
export class SiprelayServiceCatalogue extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
      }
      h2 {
        font-size: 1.1rem;
        margin: 0 0 0.6rem;
      }
      ul {
        list-style: none;
        padding: 0;
        margin: 0;
        display: grid;
        gap: 0.7rem;
      }
      li {
        background: var(--_surface);
        border: 1px solid var(--_line);
        border-radius: var(--_radius);
        padding: 0.8rem;
        display: grid;
        gap: 0.45rem;
      }
      h3 {
        margin: 0;
        font-size: 1rem;
        text-transform: capitalize;
      }
      p {
        margin: 0;
      }
      .tariff {
        font-size: 0.9rem;
      }
      form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: end;
      }
      label {
        display: grid;
        gap: 0.2rem;
        font-size: 0.9rem;
        flex: 1 1 9rem;
      }
    `,
  ];

  private readonly portal = new PortalClientController(this);

  override render() {
    const client = this.portal.client;
    const services = client?.catalogue;
    return html`
      <h2 id="catalogue-title">Services</h2>
      ${client?.catalogueProblem
        ? html`<div class="problem" role="alert">
            <strong>The catalogue could not be loaded.</strong> ${client.catalogueProblem}
            <button type="button" @click=${() => this.dispatchEvent(new ReloadCatalogueEvent())}>Try again</button>
          </div>`
        : nothing}
      ${services === undefined
        ? html`<p class="muted" role="status">Loading services…</p>`
        : services.length === 0
          ? html`<p class="muted">No services are offered.</p>`
          : html`<ul aria-labelledby="catalogue-title">
              ${services.map((s) => this.card(s))}
            </ul>`}
    `;
  }

  private card(s: CatalogueService) {
    const hint = serviceDetailHint(s.name);
    // While the connection is down nothing can be opened; the banner says why.
    const state = this.portal.client?.state;
    const usable = state === 'online' || state === 'restoring';
    const id = `svc-${s.name}`;
    return html`
      <li part="service" data-service=${s.name}>
        <h3 id=${id}>${s.name}</h3>
        ${s.description ? html`<p>${s.description}</p>` : nothing}
        <p class="tariff muted" data-test="tariff">${describeTariff(s.tariff)}</p>
        <form @submit=${(e: SubmitEvent) => this.open(e, s.name)} aria-labelledby=${id}>
          ${hint
            ? html`<label
                >${hint.label}
                ${hint.choices
                  ? html`<select name="detail">
                      ${hint.choices.map((c) => html`<option value=${c.value} ?selected=${c.value === hint.initial}>${c.label}</option>`)}
                    </select>`
                  : html`<input name="detail" .value=${hint.initial} placeholder=${hint.placeholder ?? ''} autocomplete="off" />`}
              </label>`
            : nothing}
          <button class="primary" type="submit" name="mode" value="open" ?disabled=${!usable}>Open ${s.name}</button>
          ${COMPARABLE.has(s.name) ? html`<button type="submit" name="mode" value="compare" ?disabled=${!usable}>Compare all</button>` : nothing}
        </form>
      </li>
    `;
  }

  private open(e: SubmitEvent, service: string): void {
    e.preventDefault();
    const clickedAt = performance.now();
    const form = e.currentTarget as HTMLFormElement;
    const detail = new FormData(form).get('detail');
    const compare = (e.submitter as HTMLButtonElement | null)?.value === 'compare';
    this.dispatchEvent(new OpenServiceEvent(service, detailsFor(service, detail === null ? undefined : String(detail)), compare, clickedAt));
  }
}

customElements.define('siprelay-service-catalogue', SiprelayServiceCatalogue);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-service-catalogue': SiprelayServiceCatalogue;
  }
}
