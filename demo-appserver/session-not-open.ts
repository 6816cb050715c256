import type { Request, Response } from 'express';
import { demoPage, type DemoBrand } from './demo-page.js';
import { html } from './safe-html.js';

/**
 * Answers a page request whose (valid) token names a session this app does
 * not hold — ended long ago, or another server's: 409, as a page or JSON.
 *
 * @example
 * ```ts
 * if (!visit) return sessionNotOpen(req, res, brand);
 * ```
 */
export function sessionNotOpen(req: Request, res: Response, brand: DemoBrand): void {
  const s = req.siprelay!;
  if (req.accepts(['html', 'json']) === 'json') {
    res.status(409).json({ error: { code: 'SESSION_NOT_OPEN', message: `session ${s.sessionId} is not open here` } });
    return;
  }
  res
    .status(409)
    .type('html')
    .send(
      demoPage({
        brand,
        heading: 'This visit is not open',
        user: s.user,
        token: s.token,
        body: html`<div class="card"><p>This page belongs to a session that is not open in ${brand.name} any more. Open the service again from the portal.</p></div>`,
      }),
    );
}

