import type { AppServerError } from './app-server-error.js';

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example
 * ```ts
 * `<p>${escapeHtml(user.displayName)}</p>`
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** What each refusal tells a person. */
const EXPLANATIONS: Partial<Record<AppServerError['code'], { title: string; text: string }>> = {
  APPSERVER_ERR_TOKEN_MISSING: {
    title: 'Open this service through the portal',
    text: 'This page belongs to a service that you reach through your portal. Sign in there and open the service from its catalogue: the portal brings you here with a pass that proves who you are.',
  },
  APPSERVER_ERR_TOKEN_EXPIRED: {
    title: 'Your pass for this page has expired',
    text: 'Open the service again from the portal to get a fresh one.',
  },
  APPSERVER_ERR_TOKEN_AUDIENCE: {
    title: 'This pass is for another service',
    text: 'Open this service through the portal: the pass you came with was issued for a different one.',
  },
  APPSERVER_ERR_TOKEN_INVALID: {
    title: 'This pass is not valid',
    text: 'The pass you came with was not issued by the portal. Open the service through the portal.',
  },
  APPSERVER_ERR_JWKS_UNAVAILABLE: {
    title: 'The service cannot check your pass right now',
    text: 'The portal could not be reached to check it. Please try again in a moment.',
  },
  APPSERVER_ERR_SESSION_ENDED: {
    title: 'This session has ended',
    text: 'Open the service again from the portal to start a new one.',
  },
};

/**
 * The page a browser gets when a request is refused for want of a valid
 * relay token: plain, self-contained HTML (no external resources) that says
 * what happened and to come through the portal. `portalUrl` adds a link.
 *
 * @example
 * ```ts
 * res.status(401).type('html').send(refusalPage(error, { portalUrl: 'http://localhost:8080/' }));
 * ```
 */
export function refusalPage(error: AppServerError, options: { portalUrl?: string; serviceName?: string } = {}): string {
  const e = EXPLANATIONS[error.code] ?? { title: 'This page cannot be shown', text: 'Open the service through the portal.' };
  const link = options.portalUrl ? `<p><a class="button" href="${escapeHtml(options.portalUrl)}" target="_top">Go to the portal</a></p>` : '';
  const name = options.serviceName ? `<p class="service">${escapeHtml(options.serviceName)}</p>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(e.title)}</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f1ec; color: #222; }
  main { max-width: 32rem; margin: 1rem; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 2px 12px #0001; }
  h1 { font-size: 1.4rem; margin: 0 0 .75rem; }
  .service { color: #777; font-size: .9rem; margin: 0 0 .5rem; text-transform: uppercase; letter-spacing: .05em; }
  .code { color: #999; font-size: .8rem; }
  .button { display: inline-block; padding: .5rem 1rem; background: #6b2d5c; color: #fff; border-radius: 6px; text-decoration: none; }
</style>
</head>
<body>
<main role="alert">
${name}<h1>${escapeHtml(e.title)}</h1>
<p>${escapeHtml(e.text)}</p>
${link}<p class="code">${escapeHtml(error.code)}</p>
</main>
</body>
</html>
`;
}
