/**
 * The one catalogue of errors the HTTP API answers with, besides the store's
 * own (`STORE_ERR_*`, server/store/store-error.ts), which pass through with
 * their code and status. Every error body is
 *
 *     { "error": { "code": "HTTP_ERR_VALIDATION", "message": "…", "field": "password" } }
 *
 * with `field` naming the body field, query parameter or path parameter at
 * fault when there is one. Clients test `code`, never `message`.
 */
export const HttpApiErrorCodes = {
  /** A body field, query or path parameter is missing, unknown or invalid; `field` names it. */
  HTTP_ERR_VALIDATION: 400,
  /** The body is not well-formed JSON. */
  HTTP_ERR_JSON: 400,
  /** No credentials, or not the admin token or an admin API key. */
  HTTP_ERR_UNAUTHORIZED: 401,
  /** No such resource, or no such path. */
  HTTP_ERR_NOT_FOUND: 404,
  /** The admin API is off because no `admin.token` is configured. */
  HTTP_ERR_ADMIN_DISABLED: 404,
  /** The path exists but not with this method (see the Allow header). */
  HTTP_ERR_METHOD_NOT_ALLOWED: 405,
  /** The body is larger than the API accepts (64 KiB). */
  HTTP_ERR_TOO_LARGE: 413,
  /** A body that is not `application/json`. */
  HTTP_ERR_MEDIA_TYPE: 415,
  /** A dependency of the relay (the store) does not answer: /readyz. */
  HTTP_ERR_NOT_READY: 503,
  /** A fault of the relay; the log has the details. */
  HTTP_ERR_INTERNAL: 500,
} as const;

export type HttpApiErrorCode = keyof typeof HttpApiErrorCodes;

/** An error the HTTP API answers with; see {@link HttpApiErrorCodes}. */
export class HttpApiError extends Error {
  override readonly name = 'HttpApiError';
  /** The HTTP status of the answer. */
  readonly status: number;
  constructor(
    readonly code: HttpApiErrorCode,
    message: string,
    /** The field, query or path parameter at fault. */
    readonly field?: string,
  ) {
    super(message);
    this.status = HttpApiErrorCodes[code];
  }
}

/** Creates a typed HTTP API error; the one place they are made. */
export function httpApiError(code: HttpApiErrorCode, message: string, field?: string): HttpApiError {
  return new HttpApiError(code, message, field);
}

/** The JSON body of an error answer. */
export interface ErrorBody {
  error: { code: string; message: string; field?: string };
}
