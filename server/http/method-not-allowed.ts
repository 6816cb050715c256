import type { RequestHandler, Router } from 'express';
import { httpApiError } from './http-api-error.js';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Registers one handler per method on `path`, and answers any other method
 * with 405 and an Allow header (RFC 9110 §15.5.6) instead of a misleading
 * 404. Sets `res.locals.route` (the pattern, for metrics labels). Express 5 passes a rejected promise of a handler to the error
 * handler, so handlers may be async.
 */
export function route(router: Router, path: string, handlers: Partial<Record<Method, RequestHandler>>): void {
  const r = router.route(path);
  r.all(function routeLabel(req, res, next) {
    res.locals.route = req.baseUrl + path;
    next();
  });
  const methods = Object.keys(handlers) as Method[];
  for (const m of methods) r[m](handlers[m]!);
  const allow = methods.map((m) => m.toUpperCase());
  if (allow.includes('GET')) allow.push('HEAD');
  r.all((req, res, next) => {
    res.setHeader('Allow', allow.join(', '));
    next(httpApiError('HTTP_ERR_METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allow.join(', ')}`));
  });
}
