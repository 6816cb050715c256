import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { SipLogger } from '../../sip/util/logger.js';
import { isStoreError } from '../store/store-error.js';
import { type ErrorBody, HttpApiError, httpApiError } from './http-api-error.js';

/** The last route: anything not matched is 404 in the API's error format. */
export const notFound: RequestHandler = function notFound(req, _res, next) {
  next(httpApiError('HTTP_ERR_NOT_FOUND', `nothing at ${req.method} ${req.path}`));
};

/**
 * Turns every error into the JSON error body with its status:
 * {@link HttpApiError}s and store errors as they are (a store error may
 * carry `field`, set by the route that knows which input it is about),
 * body-parser failures as `HTTP_ERR_JSON`, `HTTP_ERR_TOO_LARGE` or
 * `HTTP_ERR_MEDIA_TYPE`, and anything else as 500 `HTTP_ERR_INTERNAL`,
 * logged with its stack, its text not shown to the client.
 */
export function jsonErrors(logger: SipLogger): ErrorRequestHandler {
  return function jsonErrorHandler(err: unknown, req, res, next) {
    if (res.headersSent) return next(err);
    const { status, body } = toErrorBody(err);
    if (status >= 500) logger.error({ err, method: req.method, path: req.path }, 'HTTP request failed');
    res.status(status).set('Cache-Control', 'no-store').json(body);
  };
}

function toErrorBody(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof HttpApiError) return answer(err.status, err.code, err.message, err.field);
  if (isStoreError(err)) {
    const field = (err as { field?: unknown }).field;
    return answer(err.status, err.code, err.message, typeof field === 'string' ? field : undefined);
  }
  // body-parser (express.json) errors carry a `type`.
  const type = (err as { type?: unknown } | null)?.type;
  if (type === 'entity.parse.failed') return answer(400, 'HTTP_ERR_JSON', 'the body is not valid JSON');
  if (type === 'entity.too.large') return answer(413, 'HTTP_ERR_TOO_LARGE', 'the body is too large');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
    return answer(415, 'HTTP_ERR_MEDIA_TYPE', 'the body must be JSON in UTF-8 without content encoding');
  }
  return answer(500, 'HTTP_ERR_INTERNAL', 'internal error; the relay log has the details');
}

function answer(status: number, code: string, message: string, field?: string): { status: number; body: ErrorBody } {
  return { status, body: { error: field === undefined ? { code, message } : { code, message, field } } };
}
