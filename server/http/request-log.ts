import type { RequestHandler } from 'express';
import type { SipLogger } from '../../sip/util/logger.js';
import type { RelayMetrics } from './relay-metrics.js';

/** Paths polled by machines; logged at `debug` so they do not drown the rest. */
const QUIET = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Logs each request when its answer is finished (method, path without the
 * query, status, time, client address, and the admin actor when there is
 * one; never headers, so no credentials), and counts it in the metrics by
 * route pattern (`/admin/v1/subscribers/:user`), not by raw path, so that
 * the label set stays small.
 */
export function requestLog(logger: SipLogger, metrics: RelayMetrics): RequestHandler {
  return function logRequest(req, res, next) {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // Set by `route()` when a route matched; a raw path would make a label per user.
      const route = typeof res.locals.route === 'string' ? res.locals.route : 'unmatched';
      metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      metrics.httpRequestSeconds.observe({ method: req.method, route }, seconds);
      const entry: Record<string, unknown> = {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms: Math.round(seconds * 10_000) / 10,
        remote: req.ip,
      };
      if (res.locals.adminActor !== undefined) entry.actor = res.locals.adminActor;
      if (QUIET.has(req.path) && res.statusCode < 400) logger.debug(entry, 'http request');
      else logger.info(entry, 'http request');
    });
    next();
  };
}
