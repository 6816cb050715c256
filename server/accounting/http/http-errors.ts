import type { ErrorRequestHandler, Request } from 'express';
import { isBillingError } from '../../billing/billing-error.js';
import { isStoreError } from '../../store/store-error.js';
import { isAccountingError } from '../accounting-error.js';

/**
 * An error the accounting routers answer with: the status and the JSON body
 * `{ "error": { "code", "message", "field" } }` that the rest of the relay's
 * HTTP API uses (docs/api.md). Codes: `ACCT_ERR_*` (accounting-error.ts),
 * `BILLING_ERR_*` (billing-error.ts), `STORE_ERR_*`, and the HTTP ones below.
 */
export class AccountingHttpError extends Error {
  override readonly name = 'AccountingHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** A bad query, path or body field: 400 `HTTP_ERR_VALIDATION` naming it. */
export function validationError(field: string, message: string): AccountingHttpError {
  return new AccountingHttpError(400, 'HTTP_ERR_VALIDATION', `${field}: ${message}`, field);
}

/** No or wrong credentials: 401 `HTTP_ERR_UNAUTHORIZED`. */
export function unauthorized(message: string): AccountingHttpError {
  return new AccountingHttpError(401, 'HTTP_ERR_UNAUTHORIZED', message);
}

/** Nothing the caller may see: 404 `HTTP_ERR_NOT_FOUND`. */
export function notFound(message: string): AccountingHttpError {
  return new AccountingHttpError(404, 'HTTP_ERR_NOT_FOUND', message);
}

/** The `Authorization: Bearer <token>` credential (RFC 6750 §2.1), or undefined. */
export function bearerToken(req: Request): string | undefined {
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(req.get('authorization') ?? '');
  return m?.[1];
}

/** Answers every error of an accounting router as JSON; unknown faults as 500 without details. */
export function accountingHttpErrors(onError?: (error: unknown) => void): ErrorRequestHandler {
  return function accountingErrorHandler(err: unknown, _req, res, next) {
    if (res.headersSent) return next(err);
    let status = 500;
    let error: { code: string; message: string; field?: string } = {
      code: 'HTTP_ERR_INTERNAL',
      message: 'internal error; the relay log has the details',
    };
    const type = (err as { type?: unknown } | null)?.type;
    if (err instanceof AccountingHttpError) {
      status = err.status;
      error = { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
    } else if (isAccountingError(err)) {
      status = err.httpStatus;
      error = { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
    } else if (isBillingError(err)) {
      status = err.status;
      error = { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
    } else if (isStoreError(err)) {
      status = err.status;
      error = { code: err.code, message: err.message };
    } else if (type === 'entity.too.large') {
      status = 413;
      error = { code: 'HTTP_ERR_TOO_LARGE', message: 'the body is too large' };
    } else if (type === 'entity.parse.failed') {
      status = 400;
      error = { code: 'HTTP_ERR_JSON', message: 'the body is not valid JSON' };
    } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      status = 415;
      error = { code: 'HTTP_ERR_MEDIA_TYPE', message: 'the body must be JSON in UTF-8 without content encoding' };
    } else {
      onError?.(err);
    }
    if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="siprelay"');
    res.status(status).set('Cache-Control', 'no-store').json({ error });
  };
}
