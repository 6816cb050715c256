import type { Express, Request, Response } from 'express';
import type { AppServer } from '../appserver/app-server.js';
import type { SipLogger } from '../sip/util/logger.js';

/**
 * What a demo app is mounted with: its SDK application server (routes are
 * added to it), its express app (pages are added to it, behind the relay
 * token middleware), and where it is reachable.
 *
 * @example
 * ```ts
 * mountShopApp({ appServer, web, publicUrl: () => 'http://localhost:8081', logger }, WINE_SHOP);
 * ```
 */
export interface DemoAppContext {
  readonly appServer: AppServer;
  readonly web: Express;
  /** The app's public base URL (`http://localhost:8081`), known once its HTTP server listens. */
  readonly publicUrl: () => string;
  /** The portal, linked from refusal pages. */
  readonly portalUrl?: string;
  /** The relay's HTTP API (`http://127.0.0.1:8080`), for the service catalogue. */
  readonly relayHttpUrl?: string;
  readonly logger: SipLogger;
}

/**
 * True when the client wants JSON back (an API call) rather than a page.
 *
 * @example
 * ```ts
 * if (wantsJson(req)) return res.json(state); else res.redirect(303, back);
 * ```
 */
export function wantsJson(req: Request): boolean {
  return req.accepts(['html', 'json']) === 'json' || req.is('application/json') === 'application/json';
}

/**
 * After a form post: back to the page (303, the token kept in the URL), or
 * JSON for API callers.
 *
 * @example
 * ```ts
 * done(req, res, 200, { ok: true });
 * ```
 */
export function done(req: Request, res: Response, status: number, json: unknown): void {
  if (wantsJson(req)) {
    res.status(status).json(json);
    return;
  }
  res.redirect(303, `/?token=${encodeURIComponent(req.siprelay!.token)}`);
}
