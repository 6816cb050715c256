import { ContextProvider } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { portalClientContext } from '../context/portal-client-context.js';
import { PortalActionsController } from '../controllers/portal-actions-controller.js';
import { PortalClientController } from '../controllers/portal-client-controller.js';
import { PortalClient } from '../model/portal-client.js';
import { OpenServiceEvent, SignOutEvent } from './portal-events.js';
import './siprelay-connection-banner.js';
import './siprelay-history.js';
import './siprelay-service-catalogue.js';
import './siprelay-session-board.js';
import './siprelay-sign-in.js';
import { sharedStyles } from './shared-styles.js';

type View = 'services' | 'history';

/**
 * The portal: sign-in, then the service catalogue beside the board of
 * session panes, and the history and bill. It makes the
 * {@link PortalClient} (the SIP user agent over the relay's WebSocket) and
 * provides it to every element below through `@lit/context`.
 *
 * @csspart header - the top bar
 * @csspart main - the content
 *
 * @example
 * ```html
 * <siprelay-portal domain="portal.test"></siprelay-portal>
 * <!-- relay="ws://localhost:8080/sip" api="" — default: the page's own host -->
 * ```
 */
export class SiprelayPortal extends LitElement {
  static override properties = {
    domain: { type: String },
    relay: { type: String },
    api: { type: String },
    view: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--_tint);
      }
      .skip {
        position: absolute;
        left: 0.5rem;
        top: -3rem;
        background: var(--_surface);
        padding: 0.5rem 0.8rem;
        border-radius: 6px;
        z-index: 10;
      }
      .skip:focus {
        top: 0.5rem;
      }
      header {
        background: var(--_surface);
        border-bottom: 1px solid var(--_line);
        padding: 0.6rem 1rem;
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem 1.2rem;
        align-items: center;
      }
      h1 {
        font-size: 1.2rem;
        margin: 0;
        flex: 1 1 auto;
      }
      nav {
        display: flex;
        gap: 0.4rem;
      }
      nav button[aria-current='page'] {
        background: var(--_ink);
        color: var(--_surface);
        border-color: var(--_ink);
      }
      .who {
        display: flex;
        gap: 0.6rem;
        align-items: center;
        flex-wrap: wrap;
      }
      main {
        padding: 1rem;
        display: grid;
        gap: 1rem;
        grid-template-columns: minmax(16rem, 20rem) minmax(0, 1fr);
        align-items: start;
      }
      main.single {
        grid-template-columns: minmax(0, 1fr);
      }
      main:focus {
        outline: none;
      }
      @media (max-width: 52rem) {
        main {
          grid-template-columns: minmax(0, 1fr);
          padding: 0.6rem;
        }
      }
    `,
  ];

  /** SIP domain of bare usernames and of services. */
  declare domain: string;
  /** The relay's SIP WebSocket; default `ws(s)://<this host>/sip`. */
  declare relay: string;
  /** Base URL of the relay's HTTP API; default the page's origin. */
  declare api: string;
  declare view: View;

  private client: PortalClient | undefined;
  private readonly provider = new ContextProvider(this, { context: portalClientContext });
  private readonly portal = new PortalClientController(this, () => this.client);
  private readonly actions = new PortalActionsController(this, () => this.ensureClient());
  private lastState = 'signed-out';

  constructor() {
    super();
    this.domain = 'portal.test';
    this.relay = '';
    this.api = '';
    this.view = 'services';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.ensureClient();
  }

  /** The client (made on first use, once attributes are known). */
  private ensureClient(): PortalClient {
    if (!this.client) {
      const wsUrl = this.relay || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/sip`;
      this.client = new PortalClient({ wsUrl, httpBase: this.api, domain: this.domain });
      this.provider.setValue(this.client);
      this.portal.follow();
    }
    return this.client;
  }

  override render() {
    const c = this.portal.client;
    const signedIn = c !== undefined && c.state !== 'signed-out' && c.state !== 'signing-in';
    return html`
      <a class="skip" href="#main" @click=${this.skip}>Skip to content</a>
      <header part="header">
        <h1>siprelay portal</h1>
        ${signedIn
          ? html`<nav aria-label="Portal">
                <button type="button" aria-current=${this.view === 'services' ? 'page' : 'false'} @click=${() => this.show('services')}>Services</button>
                <button type="button" aria-current=${this.view === 'history' ? 'page' : 'false'} @click=${() => this.show('history')}>History &amp; bill</button>
              </nav>
              <div class="who">
                <span data-test="user">${c!.user?.aor}</span>
                <button type="button" @click=${() => this.dispatchEvent(new SignOutEvent())}>Sign out</button>
              </div>`
          : nothing}
      </header>
      <siprelay-connection-banner></siprelay-connection-banner>
      ${signedIn
        ? html`<main id="main" tabindex="-1" part="main" class=${this.view === 'history' ? 'single' : ''}>
            ${this.view === 'services'
              ? html`<siprelay-service-catalogue></siprelay-service-catalogue><siprelay-session-board></siprelay-session-board>`
              : html`<siprelay-history></siprelay-history>`}
          </main>`
        : html`<main id="main" tabindex="-1" part="main" class="single">
            <siprelay-sign-in .domain=${this.domain} ?busy=${c?.state === 'signing-in'} .problem=${c?.problem}></siprelay-sign-in>
          </main>`}
    `;
  }

  override updated(): void {
    const state = this.portal.client?.state ?? 'signed-out';
    // After signing in (and out), move focus to the new content so keyboard users are not left on a vanished form.
    if ((state === 'online') !== (this.lastState === 'online') && (state === 'online' || state === 'signed-out')) {
      if (state === 'signed-out') this.view = 'services';
      this.renderRoot.querySelector<HTMLElement>('main')?.focus();
      if (state === 'online' && this.lastState === 'signing-in') this.openFromLink();
    }
    this.lastState = state;
  }

  /**
   * A link into the portal may name a service to open once signed in:
   * `/#open=wine` (the demo's refusal pages link to the portal). Opened
   * once; the fragment is then cleared.
   */
  private openFromLink(): void {
    const m = /^#open=([A-Za-z0-9._~!$&'()*+,;=%-]+)$/.exec(location.hash);
    if (!m) return;
    history.replaceState(null, '', location.pathname + location.search);
    this.dispatchEvent(new OpenServiceEvent(decodeURIComponent(m[1]), undefined, false, performance.now()));
  }

  private show(view: View): void {
    this.view = view;
  }

  private skip(e: Event): void {
    e.preventDefault();
    this.renderRoot.querySelector<HTMLElement>('main')?.focus();
  }
}

customElements.define('siprelay-portal', SiprelayPortal);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-portal': SiprelayPortal;
  }
}
