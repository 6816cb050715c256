import { ContextProvider } from '@lit/context';
import { LitElement, css, html, nothing } from 'lit';
import { adminApiContext } from '../context/admin-api-context.js';
import { AdminApi } from '../model/admin-api.js';
import { RelayHttp, RelayHttpError } from '../model/relay-http.js';
import './siprelay-console-billing.js';
import './siprelay-console-servers.js';
import './siprelay-console-sessions.js';
import { sharedStyles } from './shared-styles.js';

type Tab = 'live' | 'servers' | 'billing';

/**
 * The operator console: the operator types the relay's admin token (kept
 * in memory only), and sees live sessions with running timers and their
 * charges as they arrive, the application servers and the health of their
 * targets, and bills and settlements. It provides the {@link AdminApi} to
 * the views below through `@lit/context`.
 *
 * @csspart header - the top bar
 *
 * @example
 * ```html
 * <siprelay-console api=""></siprelay-console>
 * ```
 */
export class SiprelayConsole extends LitElement {
  static override properties = {
    api: { type: String },
    tab: { state: true },
    problem: { state: true },
    checking: { state: true },
    signedIn: { state: true },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
        background: var(--_tint);
      }
      header {
        background: var(--_surface);
        border-bottom: 1px solid var(--_line);
        padding: 0.6rem 1rem;
        display: flex;
        flex-wrap: wrap;
        gap: 0.6rem 1rem;
        align-items: center;
      }
      h1 {
        margin: 0;
        font-size: 1.2rem;
        flex: 1 1 auto;
      }
      nav {
        display: flex;
        gap: 0.4rem;
        flex-wrap: wrap;
      }
      nav button[aria-current='page'] {
        background: var(--_ink);
        color: var(--_surface);
      }
      main {
        padding: 1rem;
      }
      form.token {
        max-width: 28rem;
        margin: 2rem auto;
        display: grid;
        gap: 0.8rem;
        background: var(--_surface);
        border: 1px solid var(--_line);
        border-radius: var(--_radius);
        padding: 1.2rem;
      }
      label {
        display: grid;
        gap: 0.3rem;
        font-weight: 600;
      }
    `,
  ];

  /** Base URL of the relay's HTTP API; default the page's origin. */
  declare api: string;
  declare tab: Tab;
  declare problem: string | undefined;
  declare checking: boolean;
  declare signedIn: boolean;

  private readonly provider = new ContextProvider(this, { context: adminApiContext, initialValue: undefined });

  constructor() {
    super();
    this.api = '';
    this.tab = 'live';
    this.problem = undefined;
    this.checking = false;
    this.signedIn = false;
  }

  override render() {
    return html`
      <header part="header">
        <h1>siprelay operator console</h1>
        ${this.signedIn
          ? html`<nav aria-label="Console">
                ${(['live', 'servers', 'billing'] as const).map(
                  (t) =>
                    html`<button type="button" aria-current=${this.tab === t ? 'page' : 'false'} @click=${() => (this.tab = t)}>
                      ${t === 'live' ? 'Live sessions' : t === 'servers' ? 'Application servers' : 'Bills & settlements'}
                    </button>`,
                )}
              </nav>
              <button type="button" @click=${this.forget}>Forget token</button>`
          : nothing}
      </header>
      <main>
        ${this.signedIn
          ? this.tab === 'live'
            ? html`<siprelay-console-sessions></siprelay-console-sessions>`
            : this.tab === 'servers'
              ? html`<siprelay-console-servers></siprelay-console-servers>`
              : html`<siprelay-console-billing></siprelay-console-billing>`
          : html`<form class="token" @submit=${this.submit}>
              <p>The console reads the relay's admin API. Type the admin token (<code>admin.token</code>, or an admin API key); it stays in this tab's memory.</p>
              <label>Admin token <input name="token" type="password" autocomplete="off" required ?disabled=${this.checking} /></label>
              ${this.problem ? html`<p class="problem" role="alert">${this.problem}</p>` : nothing}
              <button class="primary" type="submit" ?disabled=${this.checking}>${this.checking ? 'Checking…' : 'Open the console'}</button>
            </form>`}
      </main>
    `;
  }

  private async submit(e: SubmitEvent): Promise<void> {
    e.preventDefault();
    const token = String(new FormData(e.currentTarget as HTMLFormElement).get('token') ?? '').trim();
    if (!token) return;
    this.checking = true;
    this.problem = undefined;
    const api = new AdminApi(new RelayHttp(this.api), token);
    try {
      await api.liveSessions();
      this.provider.setValue(api);
      this.signedIn = true;
    } catch (err) {
      this.problem =
        err instanceof RelayHttpError && err.status === 401
          ? 'This token is not the admin token or an admin API key.'
          : err instanceof RelayHttpError && err.code === 'HTTP_ERR_ADMIN_DISABLED'
            ? 'The admin API is off on this relay (no admin.token is configured).'
            : err instanceof Error
              ? err.message
              : String(err);
    } finally {
      this.checking = false;
    }
  }

  private forget(): void {
    this.provider.setValue(undefined);
    this.signedIn = false;
    this.tab = 'live';
  }
}

customElements.define('siprelay-console', SiprelayConsole);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-console': SiprelayConsole;
  }
}
