import type { RelayUser } from '../appserver/relay-token-verifier.js';
import { html, raw, type SafeHtml } from './safe-html.js';

/**
 * How a demo app looks: its name, a line under it, an accent colour and a mark.
 *
 * @example
 * ```ts
 * const brand: DemoBrand = { name: 'The Tap Room', tagline: 'Craft beer', accent: '#b5651d', mark: 'B' };
 * ```
 */
export interface DemoBrand {
  readonly name: string;
  readonly tagline: string;
  /** A CSS colour. */
  readonly accent: string;
  /** One or two characters shown in the badge. */
  readonly mark: string;
}

/**
 * What a page shows.
 *
 * @example
 * ```ts
 * demoPage({ brand, heading: 'Welcome', user, token, body: html`<p>Hi</p>`, version: 1 });
 * ```
 */
export interface DemoPageInput {
  brand: DemoBrand;
  /** The page's heading (and title, after the brand). */
  heading: string;
  /** The user, from the relay's token. */
  user: RelayUser;
  /** The relay token, carried on by links, forms and the state poll. */
  token: string;
  body: SafeHtml;
  /** A message from the last action. */
  notice?: { kind: 'ok' | 'error'; text: string };
  /**
   * The session's state version: the page polls `/api/state?token=…` and
   * reloads when it changes (a change from the portal: wine → beer; the
   * session ending).
   */
  version?: number;
}

const STYLE = `
  :root { --accent: #6b2d5c; --ink: #1f1d1a; --muted: #6d675f; --line: #e7e1d8; --bg: #faf7f2; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
  header { display: flex; align-items: center; gap: .75rem; padding: .75rem 1.25rem; background: #fff; border-bottom: 3px solid var(--accent); }
  .mark { width: 2.25rem; height: 2.25rem; border-radius: 50%; background: var(--accent); color: #fff; display: grid; place-items: center; font-weight: 700; }
  .brand { flex: 1; }
  .brand strong { display: block; font-size: 1.1rem; }
  .brand small, .who small { color: var(--muted); }
  .who { text-align: right; }
  main { max-width: 56rem; margin: 0 auto; padding: 1.25rem; }
  h1 { font-size: 1.35rem; margin: 0 0 1rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  .card { background: #fff; border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin-bottom: 1rem; }
  table { width: 100%; border-collapse: collapse; }
  th, td { text-align: left; padding: .45rem .4rem; border-bottom: 1px solid var(--line); vertical-align: middle; }
  th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
  td.num, th.num { text-align: right; white-space: nowrap; }
  .detail { color: var(--muted); font-size: .85rem; }
  button, .button { font: inherit; padding: .4rem .8rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
  button.quiet { background: #fff; color: var(--accent); }
  button:disabled { opacity: .5; cursor: default; }
  form.inline { display: inline; margin: 0; }
  input[type=number] { width: 4rem; }
  input[type=search] { font: inherit; padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; min-width: 14rem; }
  .tabs { display: flex; gap: .5rem; margin-bottom: 1rem; }
  .tab { padding: .3rem .8rem; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
  .tab.on { background: var(--accent); border-color: var(--accent); color: #fff; }
  .notice { padding: .6rem .9rem; border-radius: 8px; margin-bottom: 1rem; }
  .notice.ok { background: #e8f5ec; color: #1d5a32; }
  .notice.error { background: #fbeaea; color: #8a1f1f; }
  .ended { background: #fff4d6; color: #6b4e00; padding: .6rem .9rem; border-radius: 8px; margin-bottom: 1rem; }
  .total { font-weight: 600; }
  .row { display: flex; gap: 1rem; flex-wrap: wrap; align-items: center; }
  footer { max-width: 56rem; margin: 0 auto; padding: 0 1.25rem 2rem; color: var(--muted); font-size: .8rem; }
  @media (max-width: 32rem) { .who small { display: none; } main { padding: .75rem; } }
`;

/**
 * A complete demo page: header with the app's brand and the user the relay
 * vouches for, the body, and (with `version`) a small script that reloads
 * the page when the session changes on the SIP side.
 *
 * @example
 * ```ts
 * res.type('html').send(demoPage({ brand, heading: 'Wines', user, token, body: html`<p>…</p>`, version: 3 }));
 * ```
 */
export function demoPage(input: DemoPageInput): string {
  const { brand, user, token } = input;
  const who = user.displayName ?? user.username;
  const poll =
    input.version === undefined
      ? ''
      : html`<script>
(() => {
  const version = ${raw(JSON.stringify(input.version))};
  const url = '/api/state?token=' + encodeURIComponent(${raw(JSON.stringify(token))});
  setInterval(async () => {
    try {
      const r = await fetch(url, { headers: { accept: 'application/json' } });
      if (r.ok && (await r.json()).version !== version) location.reload();
    } catch { /* the next poll tries again */ }
  }, 1500);
})();
</script>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${input.heading} · ${brand.name}</title>
<style>${raw(STYLE)} :root { --accent: ${brand.accent}; }</style>
</head>
<body>
<header>
  <div class="mark" aria-hidden="true">${brand.mark}</div>
  <div class="brand"><strong>${brand.name}</strong><small>${brand.tagline}</small></div>
  <div class="who"><strong data-test="user">${who}</strong><br><small>${user.aor}</small></div>
</header>
<main>
  <h1>${input.heading}</h1>
  ${input.notice ? html`<div class="notice ${input.notice.kind}" role="status">${input.notice.text}</div>` : ''}
  ${input.body}
</main>
<footer>Signed in through the portal — ${brand.name} never sees a password.</footer>
${poll}
</body>
</html>
`.value;
}
