import { Router } from 'express';
import { httpApiError } from '../http/http-api-error.js';
import type { AppServerDirectory } from './app-server-directory.js';

/** What {@link createDirectoryAdminRouter} needs. */
export interface DirectoryAdminRouterOptions {
  /** The directory whose targets are shown. */
  readonly directory: Pick<AppServerDirectory, 'list'>;
  /** The admin API's check of the bearer token (admin token or admin API key). */
  readonly verifyAdmin: (bearer: string) => Promise<boolean>;
}

/**
 * The application-server directory for the operator console, an Express 5
 * router to mount at `/admin/v1`:
 *
 * - `GET /targets` — every target of every service with its health
 *   (`{ "targets": [ { service, appServer, uri, source, up, load, weight,
 *   lastStatus, expiresAt } ] }`, `expiresAt` ISO 8601 or null), as
 *   `AppServerDirectory.list()` describes them (docs/protocol.md, "The
 *   directory"). This node's view: in a cluster each node probes on its own.
 *
 * It checks the bearer itself, like the accounting admin router.
 *
 * @example
 * ```ts
 * http.mount('/admin/v1', createDirectoryAdminRouter({ directory, verifyAdmin }));
 * ```
 */
export function createDirectoryAdminRouter(options: DirectoryAdminRouterOptions): Router {
  const router = Router();
  router.get('/targets', async (req, res) => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!m || !(await options.verifyAdmin(m[1]))) throw httpApiError('HTTP_ERR_UNAUTHORIZED', 'send Authorization: Bearer <admin token or admin API key>');
    const targets = options.directory.list().map((t) => ({
      ...t,
      expiresAt: t.expiresAt === undefined ? null : new Date(t.expiresAt).toISOString(),
    }));
    targets.sort((a, b) => (a.service === b.service ? (a.appServer < b.appServer ? -1 : 1) : a.service < b.service ? -1 : 1));
    res.set('Cache-Control', 'no-store').json({ targets });
  });
  return router;
}
