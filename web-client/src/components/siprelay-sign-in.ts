import { LitElement, css, html, nothing } from 'lit';
import type { PortalProblem } from '../model/portal-problem.js';
import { SignInEvent } from './portal-events.js';
import { sharedStyles } from './shared-styles.js';

/**
 * The sign-in form: SIP username and password. The password goes to the
 * portal client in the event and nowhere else (no storage, no URL).
 *
 * @fires siprelay-sign-in - {@link SignInEvent} with the username and password
 * @csspart form - the form
 *
 * @example
 * ```html
 * <siprelay-sign-in domain="portal.test"></siprelay-sign-in>
 * ```
 */
export class SiprelaySignIn extends LitElement {
  static override properties = {
    busy: { type: Boolean },
    domain: { type: String },
    problem: { attribute: false },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        max-width: 26rem;
        margin: 2rem auto;
        padding: 0 1rem;
      }
      form {
        display: grid;
        gap: 0.9rem;
        background: var(--_surface);
        border: 1px solid var(--_line);
        border-radius: var(--_radius);
        padding: 1.4rem;
      }
      h2 {
        margin: 0;
        font-size: 1.3rem;
      }
      label {
        display: grid;
        gap: 0.3rem;
        font-weight: 600;
      }
    `,
  ];

  /** True while signing in: the form is disabled. */
  declare busy: boolean;
  /** The SIP domain a bare username belongs to. */
  declare domain: string;
  /** Why the last attempt failed. */
  declare problem: PortalProblem | undefined;

  constructor() {
    super();
    this.busy = false;
    this.domain = '';
    this.problem = undefined;
  }

  override render() {
    const p = this.problem;
    return html`
      <form part="form" @submit=${this.submit} aria-describedby=${p ? 'sign-in-problem' : nothing} novalidate>
        <h2>Sign in</h2>
        <p class="muted">Use your SIP account${this.domain ? html` at <strong>${this.domain}</strong>` : nothing}. Your password stays in this tab's memory.</p>
        <label>Username <input name="username" autocomplete="username" required autocapitalize="none" spellcheck="false" ?disabled=${this.busy} /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required ?disabled=${this.busy} /></label>
        ${p
          ? html`<div id="sign-in-problem" class="problem" role="alert" data-code=${p.code}><strong>${p.title}.</strong> ${p.detail}</div>`
          : nothing}
        <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? 'Signing in…' : 'Sign in'}</button>
      </form>
    `;
  }

  override updated(changed: Map<string, unknown>): void {
    // After a failed attempt, put the person back in the password field.
    if (changed.has('problem') && this.problem && !this.busy) {
      const password = this.renderRoot.querySelector<HTMLInputElement>('input[name=password]');
      password?.select();
      password?.focus();
    }
  }

  override firstUpdated(): void {
    this.renderRoot.querySelector<HTMLInputElement>('input[name=username]')?.focus();
  }

  private submit(e: SubmitEvent): void {
    e.preventDefault();
    const form = e.currentTarget as HTMLFormElement;
    const data = new FormData(form);
    this.dispatchEvent(new SignInEvent(String(data.get('username') ?? ''), String(data.get('password') ?? '')));
  }
}

customElements.define('siprelay-sign-in', SiprelaySignIn);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-sign-in': SiprelaySignIn;
  }
}
