import { escapeHtml } from '../appserver/refusal-page.js';

/**
 * HTML that is already safe to send: built by {@link html}, or trusted text
 * wrapped with {@link raw}.
 *
 * @example
 * ```ts
 * const cell: SafeHtml = html`<td>${book.title}</td>`;
 * ```
 */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/**
 * A tagged template for server-rendered pages: every interpolated value is
 * HTML-escaped unless it is a {@link SafeHtml}; arrays are joined; `null`,
 * `undefined` and `false` render nothing. User names, search queries and
 * tokens can go in as they are.
 *
 * @example
 * ```ts
 * html`<p>Hello ${user.displayName}</p><ul>${items.map((i) => html`<li>${i.name}</li>`)}</ul>`
 * ```
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/**
 * Marks trusted text (a stylesheet, a script of our own) as safe.
 *
 * @example
 * ```ts
 * html`<style>${raw(css)}</style>`
 * ```
 */
export function raw(text: string): SafeHtml {
  return new SafeHtml(text);
}

function render(v: unknown): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(String(v));
}
