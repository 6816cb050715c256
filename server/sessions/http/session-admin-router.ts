import express, { Router, type RequestHandler } from 'express';
import { systemClock, type Clock } from '../../../sip/util/clock.js';
import { sessionJson } from '../../accounting/http/accounting-json.js';
import { httpApiError } from '../../http/http-api-error.js';
import type { SessionSupervisor } from '../session-supervisor.js';

/** Options of {@link createSessionAdminRouter}. */
export interface SessionAdminRouterOptions {
  readonly supervisor: Pick<SessionSupervisor, 'endSession'>;
  /** The admin API's check of `Authorization: Bearer …` (admin token or admin API key). */
  readonly verifyAdmin: (bearer: string) => Promise<boolean>;
  /**
   * How long the answer waits for both sides to answer the relay's BYEs:
   * within it 200 with their statuses, else 202 (the session is ended and
   * recorded either way; a side that vanished takes up to 64·T1 to time
   * out). Default 2000 ms.
   */
  readonly byeWaitMs?: number;
  /** Default the system clock. */
  readonly clock?: Clock;
}

/** Longest `reason` taken. */
const MAX_REASON = 200;

/**
 * The operator's session control, an Express 5 router to mount at
 * `/admin/v1` (it checks the bearer itself):
 *
 * `POST /sessions/:id/end` with an optional JSON body `{ "reason": "…" }`
 * ends a live session: its record is ended as `operator` (stored before
 * the answer) and the relay sends BYE to both sides. **200** `{ session,
 * byes: { caller, callee } }` when both BYEs were answered within
 * `byeWaitMs`, **202** with `byes: null` otherwise; **404**
 * `HTTP_ERR_NOT_FOUND` (field `id`) when no live session has that id
 * (unknown, not answered yet, or ended already).
 */
export function createSessionAdminRouter(options: SessionAdminRouterOptions): Router {
  const clock = options.clock ?? systemClock;
  const byeWaitMs = options.byeWaitMs ?? 2000;
  if (!Number.isSafeInteger(byeWaitMs) || byeWaitMs < 0) throw new TypeError('SessionAdminRouterOptions.byeWaitMs must be a non-negative integer');
  const router = Router();

  const admin: RequestHandler = async function sessionAdminAuth(req, res, next) {
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(req.get('authorization') ?? '');
    if (match && (await options.verifyAdmin(match[1]))) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="siprelay-admin"');
    next(httpApiError('HTTP_ERR_UNAUTHORIZED', 'send Authorization: Bearer <admin token or admin API key>'));
  };
  const json = express.json({ limit: 4 * 1024, type: ['application/json', 'application/*+json'] });

  const path = '/sessions/:id/end';
  router
    .route(path)
    .all(function routeLabel(req, res, next) {
      res.locals.route = req.baseUrl + path;
      next();
    })
    .post(admin, json, async function endSession(req, res) {
      const id = String(req.params.id);
      const body: unknown = req.body;
      let reason: string | undefined;
      if (body !== undefined && body !== null && !(typeof body === 'object' && Object.keys(body).length === 0)) {
        if (typeof body !== 'object' || Array.isArray(body)) throw httpApiError('HTTP_ERR_VALIDATION', 'the body must be a JSON object', 'reason');
        const extra = Object.keys(body).filter((k) => k !== 'reason');
        if (extra.length) throw httpApiError('HTTP_ERR_VALIDATION', `unknown field ${extra[0]}`, extra[0]);
        const r = (body as { reason?: unknown }).reason;
        if (r !== undefined) {
          if (typeof r !== 'string' || r.trim() === '' || r.length > MAX_REASON) {
            throw httpApiError('HTTP_ERR_VALIDATION', `must be a non-empty string of at most ${MAX_REASON} characters`, 'reason');
          }
          reason = r;
        }
      }
      const ending = options.supervisor.endSession(id, 'operator', reason);
      if (ending === undefined) throw httpApiError('HTTP_ERR_NOT_FOUND', `no live session ${id}`, 'id');
      const closed = await ending.recorded;
      let timer: ReturnType<Clock['setTimeout']> | undefined;
      const byes = await Promise.race([
        ending.byes,
        new Promise<null>((resolve) => {
          timer = clock.setTimeout(() => resolve(null), byeWaitMs);
        }),
      ]);
      if (timer !== undefined) clock.clearTimeout(timer);
      res
        .status(byes === null ? 202 : 200)
        .set('Cache-Control', 'no-store')
        .json({
          session: closed ? sessionJson(closed.record, { internals: true }) : { id, endedBy: ending.endedBy, endReason: ending.reason },
          byes,
        });
    })
    .all(function methodNotAllowed(_req, res, next) {
      res.setHeader('Allow', 'POST');
      next(httpApiError('HTTP_ERR_METHOD_NOT_ALLOWED', 'use POST'));
    });
  return router;
}
