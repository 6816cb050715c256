import { LitElement, css, html, nothing } from 'lit';
import { keyed } from 'lit/directives/keyed.js';
import { describeDuration, formatDuration } from '../billing/format-duration.js';
import { formatMoney, formatTotals, sumByCurrency, type Money } from '../billing/format-money.js';
import { describeTariff } from '../billing/describe-tariff.js';
import { rateTime } from '../billing/rate-time.js';
import { ClockController } from '../controllers/clock-controller.js';
import { PortalClientController } from '../controllers/portal-client-controller.js';
import type { ReceivedCharge } from '../model/received-charge.js';
import { detailsFor, serviceDetailHint } from '../model/service-hints.js';
import type { ServiceSession } from '../model/service-session.js';
import { ChangeServiceEvent, DismissEvent, HangUpEvent, TransferEvent } from './portal-events.js';
import { sharedStyles } from './shared-styles.js';

/** Descriptor fields that are not shown as facts (the pane shows them otherwise, or they are secrets). */
const HIDDEN_FIELDS = new Set(['url', 'title', 'description', 'token']);

/**
 * One service session: the application's page (the service URL from the
 * 2xx) in an iframe, a live session timer, the running time charge
 * (computed here from the catalogue's tariff by the relay's rating rules),
 * each application charge as its INFO arrives, and the controls — change
 * the details in place (re-INVITE or UPDATE), move to another service, hang
 * up. When the session ends — by the user, the application server, the
 * relay or a lost connection — the page is closed and the pane says who
 * ended it and why, with the session's totals, until dismissed.
 *
 * @fires siprelay-hang-up - {@link HangUpEvent}
 * @fires siprelay-change-service - {@link ChangeServiceEvent}
 * @fires siprelay-transfer - {@link TransferEvent}
 * @fires siprelay-dismiss - {@link DismissEvent} when an ended pane is closed
 * @csspart frame - the application's iframe
 * @csspart meters - timer and charges
 *
 * @example
 * ```ts
 * html`<siprelay-session-pane .session=${session}></siprelay-session-pane>`
 * ```
 */
export class SiprelaySessionPane extends LitElement {
  static override properties = {
    session: { attribute: false },
  };
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: block;
        min-width: 0;
      }
      article:focus {
        outline: none;
      }
      article:focus-visible {
        outline: 3px solid var(--siprelay-focus, #f59e0b);
        outline-offset: 2px;
      }
      article {
        background: var(--_surface);
        border: 1px solid var(--_line);
        border-radius: var(--_radius);
        display: grid;
        gap: 0.6rem;
        padding: 0.8rem;
      }
      article[data-state='ended'] {
        background: var(--_tint);
      }
      header {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem 1rem;
        align-items: baseline;
        justify-content: space-between;
      }
      h3 {
        margin: 0;
        font-size: 1.05rem;
        overflow-wrap: anywhere;
      }
      .badge {
        font-size: 0.8rem;
        border: 1px solid var(--_line);
        border-radius: 999px;
        padding: 0.05rem 0.5rem;
        margin-left: 0.3rem;
        white-space: nowrap;
      }
      dl {
        margin: 0;
        display: flex;
        flex-wrap: wrap;
        gap: 0.3rem 1.1rem;
      }
      dl div {
        display: grid;
      }
      dt {
        font-size: 0.75rem;
        color: var(--_muted);
        text-transform: uppercase;
        letter-spacing: 0.03em;
      }
      dd {
        margin: 0;
        font-weight: 600;
      }
      .facts dd {
        font-weight: normal;
      }
      iframe {
        width: 100%;
        height: var(--siprelay-frame-height, min(70vh, 36rem));
        min-height: 18rem;
        border: 1px solid var(--_line);
        border-radius: 6px;
        background: #fff;
      }
      .charges ol {
        margin: 0.2rem 0 0;
        padding-left: 1.2rem;
      }
      .charges h4 {
        margin: 0;
        font-size: 0.9rem;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 0.5rem;
        align-items: end;
      }
      .controls form {
        display: flex;
        flex-wrap: wrap;
        gap: 0.4rem;
        align-items: end;
        border: 1px dashed var(--_line);
        border-radius: 8px;
        padding: 0.4rem;
      }
      .controls label {
        display: grid;
        gap: 0.15rem;
        font-size: 0.85rem;
      }
      .controls label.inline {
        display: flex;
        align-items: center;
        gap: 0.3rem;
      }
      .ended {
        display: grid;
        gap: 0.4rem;
      }
      .ended p {
        margin: 0;
      }
    `,
  ];

  /** The session shown. */
  declare session: ServiceSession | undefined;

  private readonly portal = new PortalClientController(this);
  private readonly clock = new ClockController(this, () => this.session?.live ?? false);
  private markedFrame = '';

  constructor() {
    super();
    this.session = undefined;
  }

  override render() {
    const s = this.session;
    if (!s) return nothing;
    const now = this.clock.now;
    const elapsed = s.elapsedMs(now);
    const time = s.tariff ? rateTime(s.tariff, elapsed) : undefined;
    const appTotals = sumByCurrency(s.charges.flatMap((c) => c.totals));
    const all: Money[] = [...appTotals, ...(time ? [{ amount: time.total, currency: time.currency }] : [])];
    const titleId = `title-${s.key}`;
    const linkedFrom = s.linkedFrom;
    return html`
      <article tabindex="-1" aria-labelledby=${titleId} data-state=${s.live ? 'live' : 'ended'} data-service=${s.service} data-key=${s.key}>
        <header>
          <h3 id=${titleId}>
            ${s.displayName}<span class="badge">${s.service}</span>${s.group ? html`<span class="badge">compared</span>` : nothing}
          </h3>
          <dl part="meters" class="meters">
            <div>
              <dt>Time</dt>
              <dd class="timer" data-test="timer" role="timer" aria-label=${`Session time ${describeDuration(elapsed)}`}>${formatDuration(elapsed)}</dd>
            </div>
            <div>
              <dt>Time charge</dt>
              <dd class="money" data-test="time-charge" title=${describeTariff(s.tariff)}>
                ${time ? html`${formatMoney(time.total, time.currency)}${time.freeLeftMs > 0 && s.live ? html` <span class="muted">(free for ${Math.ceil(time.freeLeftMs / 1000)} s)</span>` : nothing}` : 'free'}
              </dd>
            </div>
            <div>
              <dt>Charges</dt>
              <dd class="money" data-test="charges-total">${formatTotals(appTotals, 'none')}</dd>
            </div>
            <div>
              <dt>Total</dt>
              <dd class="money" data-test="total">${formatTotals(sumByCurrency(all), formatMoney(0, time?.currency ?? 'EUR'))}</dd>
            </div>
          </dl>
        </header>
        ${s.descriptor?.description ? html`<p class="muted" style="margin:0">${s.descriptor.description}</p>` : nothing} ${this.facts(s)}
        ${linkedFrom
          ? html`<p class="note" data-test="linked-from">Continues your session in <strong>${linkedFrom.displayName}</strong> (${linkedFrom.service}).</p>`
          : nothing}
        ${s.transferNote ? html`<p class="note" data-test="transfer-note" role="status">${s.transferNote}</p>` : nothing}
        ${s.connectionLost && s.live ? html`<p class="problem" role="status">Connection lost — the portal is reconnecting; this session may not survive it.</p>` : nothing}
        ${s.recoveryNote && s.live ? html`<p class="note" role="status">${s.recoveryNote}</p>` : nothing}
        ${s.changeProblem
          ? html`<p class="problem" role="alert" data-code=${s.changeProblem.code}><strong>${s.changeProblem.title}.</strong> ${s.changeProblem.detail}</p>`
          : nothing}
        ${s.live ? this.frame(s) : this.ended(s, elapsed, all)} ${this.charges(s.charges)} ${s.live ? this.controls(s) : nothing}
      </article>
    `;
  }

  override updated(): void {
    if (this.session?.takeFocus) {
      this.session.takeFocus = false;
      const article = this.renderRoot.querySelector('article');
      article?.focus({ preventScroll: true });
      article?.scrollIntoView({ block: 'nearest' });
    }
    // The click-to-paint budget (docs/performance.md): mark when the pane first shows the service's page.
    const s = this.session;
    if (s?.live && s.descriptor && this.markedFrame !== s.key) {
      this.markedFrame = s.key;
      performance.mark(`siprelay:frame:${s.key}`, { detail: { clickedAt: s.clickedAt, url: s.descriptor.url } });
    }
  }

  private facts(s: ServiceSession) {
    const fields = s.descriptor?.fields;
    if (!fields) return nothing;
    const shown = Object.entries(fields).filter(([k, v]) => !HIDDEN_FIELDS.has(k) && describeValue(v) !== undefined);
    if (shown.length === 0) return nothing;
    return html`<dl class="facts" data-test="facts">
      ${shown.map(([k, v]) => html`<div><dt>${humanize(k)}</dt><dd>${describeValue(v)}</dd></div>`)}
    </dl>`;
  }

  private frame(s: ServiceSession) {
    const d = s.descriptor;
    if (!d) return nothing;
    // keyed(): a new revision (after an accepted change) makes a fresh iframe, so the page reloads.
    return keyed(
      `${s.key}:${s.frameRevision}`,
      html`<iframe
        part="frame"
        src=${d.url}
        title=${`${s.displayName} (${s.service})`}
        sandbox="allow-scripts allow-forms allow-same-origin allow-popups"
        referrerpolicy="no-referrer"
        loading="eager"
      ></iframe>`,
    );
  }

  private ended(s: ServiceSession, elapsed: number, totals: Money[]) {
    const end = s.end!;
    return html`<div class="ended" role="status" data-ended-by=${end.by}>
      <p data-test="end-reason"><strong>Session ended.</strong> ${end.text}</p>
      <p class="muted">Lasted ${describeDuration(elapsed)}; ${totals.length ? html`cost so far ${formatTotals(sumByCurrency(totals))}` : 'nothing charged'} — your bill has the final figures.</p>
      <div><button type="button" @click=${() => this.dispatchEvent(new DismissEvent(s.key))}>Close pane</button></div>
    </div>`;
  }

  private charges(charges: readonly ReceivedCharge[]) {
    if (charges.length === 0) return nothing;
    return html`<section class="charges" aria-label="Charges of this session">
      <h4>Charges</h4>
      <ol aria-live="polite" data-test="charges">
        ${charges.map(
          (c) =>
            html`<li data-charge-id=${c.id}>
              ${c.items.map((i) => `${i.quantity} × ${i.description}`).join('; ')} —
              <span class="money">${formatTotals(c.totals)}</span>${c.refundOf ? ' (refund)' : ''}${c.route === 'bye' ? html` <span class="muted">(with the end)</span>` : nothing}
              <span class="muted">at ${new Date(c.receivedAt).toLocaleTimeString()}</span>
            </li>`,
        )}
      </ol>
    </section>`;
  }

  private controls(s: ServiceSession) {
    const hint = serviceDetailHint(s.service);
    const catalogue = this.portal.client?.catalogue ?? [];
    const others = catalogue.filter((c) => c.name !== s.service);
    const current = hint ? s.details?.[hint.field] : undefined;
    return html`<div class="controls">
      ${hint
        ? html`<form @submit=${(e: SubmitEvent) => this.change(e, s)} aria-label=${`Change ${s.service} in place`}>
            <label
              >${hint.label}
              ${hint.choices
                ? html`<select name="detail">
                    ${hint.choices.map((c) => html`<option value=${c.value} ?selected=${c.value === current}>${c.label}</option>`)}
                  </select>`
                : html`<input name="detail" .value=${typeof current === 'string' ? current : hint.initial} autocomplete="off" />`}
            </label>
            <label
              >By
              <select name="method">
                <option value="INVITE">re-INVITE</option>
                <option value="UPDATE">UPDATE</option>
              </select>
            </label>
            <button type="submit" ?disabled=${s.changing}>${s.changing ? 'Changing…' : 'Change'}</button>
          </form>`
        : nothing}
      ${others.length
        ? html`<form @submit=${(e: SubmitEvent) => this.transfer(e, s)} aria-label=${`Move from ${s.service} to another service`}>
            <label
              >Move to
              <select name="service">
                ${others.map((c) => html`<option value=${c.name}>${c.name}</option>`)}
              </select>
            </label>
            <label class="inline"><input type="checkbox" name="keep" /> keep this open</label>
            <button type="submit">Move</button>
          </form>`
        : nothing}
      <button class="danger" type="button" @click=${() => this.dispatchEvent(new HangUpEvent(s.key))}>Hang up</button>
    </div>`;
  }

  private change(e: SubmitEvent, s: ServiceSession): void {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const details = detailsFor(s.service, String(data.get('detail') ?? ''));
    if (!details) return;
    this.dispatchEvent(new ChangeServiceEvent(s.key, details, data.get('method') === 'UPDATE' ? 'UPDATE' : 'INVITE'));
  }

  private transfer(e: SubmitEvent, s: ServiceSession): void {
    e.preventDefault();
    const data = new FormData(e.currentTarget as HTMLFormElement);
    const service = String(data.get('service') ?? '');
    if (!service) return;
    const hint = serviceDetailHint(service);
    this.dispatchEvent(new TransferEvent(s.key, service, hint ? detailsFor(service, hint.initial) : undefined, data.get('keep') !== null));
  }
}

/** `inStock` → `In stock`. */
function humanize(key: string): string {
  const words = key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/[_-]+/g, ' ').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A descriptor value as text: scalars as they are; `{ title, price, currency }` as `Dune €15.90`; others not shown. */
function describeValue(v: unknown): string | undefined {
  if (typeof v === 'string') return v.length > 0 && v.length <= 200 ? v : undefined;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    const price = typeof o.price === 'number' && Number.isSafeInteger(o.price) && typeof o.currency === 'string' ? formatMoney(o.price, o.currency) : undefined;
    const name = typeof o.title === 'string' ? o.title : typeof o.name === 'string' ? o.name : undefined;
    if (name !== undefined || price !== undefined) return [name, price].filter(Boolean).join(' ');
  }
  return undefined;
}

customElements.define('siprelay-session-pane', SiprelaySessionPane);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-session-pane': SiprelaySessionPane;
  }
}
