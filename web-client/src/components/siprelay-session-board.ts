import { LitElement, css, html, nothing, type TemplateResult } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import { PortalClientController } from '../controllers/portal-client-controller.js';
import type { BoardItem } from '../model/portal-client.js';
import { ServiceSession } from '../model/service-session.js';
import './siprelay-opening-card.js';
import './siprelay-session-pane.js';
import { sharedStyles } from './shared-styles.js';

/**
 * The user's sessions: one pane per session, several at once, newest last;
 * the sessions of one compared request (the bookstore fork) side by side in
 * one group, each its own session, each closable.
 *
 * @csspart group - a group of compared panes
 *
 * @example
 * ```html
 * <siprelay-session-board></siprelay-session-board>
 * ```
 */
export class SiprelaySessionBoard extends LitElement {
  static override styles = [
    sharedStyles,
    css`
      :host {
        display: grid;
        gap: 1rem;
        min-width: 0;
      }
      h2 {
        margin: 0;
        font-size: 1.1rem;
      }
      .group {
        display: grid;
        gap: 0.8rem;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 22rem), 1fr));
        border: 2px solid var(--_line);
        border-radius: calc(var(--_radius) + 4px);
        padding: 0.6rem;
      }
      .group > h3 {
        grid-column: 1 / -1;
        margin: 0;
        font-size: 0.95rem;
      }
      .empty {
        border: 2px dashed var(--_line);
        border-radius: var(--_radius);
        padding: 2rem 1rem;
        text-align: center;
      }
    `,
  ];

  private readonly portal = new PortalClientController(this);

  override render() {
    const items = this.portal.client?.items ?? [];
    const live = items.filter((i) => i instanceof ServiceSession && i.live).length;
    return html`
      <h2 id="board-title">Your sessions <span class="muted" data-test="live-count">(${live} open)</span></h2>
      ${items.length === 0 ? html`<p class="empty muted">Open a service to start. Each session gets its own pane here.</p>` : nothing}
      ${repeat(
        groups(items),
        (g) => g.group ?? g.items[0].key,
        (g) =>
        g.group === undefined
          ? this.item(g.items[0])
          : html`<section class="group" part="group" data-group=${g.group} aria-label="Compared answers">
              <h3>Compared: ${g.items.length} ${g.items.length === 1 ? 'answer' : 'answers'} for ${g.items[0].service}</h3>
              ${repeat(g.items, (i) => i.key, (i) => this.item(i))}
            </section>`,
      )}
    `;
  }

  private item(i: BoardItem): TemplateResult {
    return i.kind === 'session'
      ? html`<siprelay-session-pane .session=${i} data-key=${i.key}></siprelay-session-pane>`
      : html`<siprelay-opening-card .request=${i} data-key=${i.key}></siprelay-opening-card>`;
  }
}

/** Consecutive items of one compare group together; others one by one. */
function groups(items: readonly BoardItem[]): Array<{ group: string | undefined; items: BoardItem[] }> {
  const out: Array<{ group: string | undefined; items: BoardItem[] }> = [];
  for (const i of items) {
    const last = out[out.length - 1];
    if (i.group !== undefined && last && last.group === i.group) last.items.push(i);
    else out.push({ group: i.group, items: [i] });
  }
  return out;
}

customElements.define('siprelay-session-board', SiprelaySessionBoard);

declare global {
  interface HTMLElementTagNameMap {
    'siprelay-session-board': SiprelaySessionBoard;
  }
}
