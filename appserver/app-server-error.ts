/**
 * The one catalogue of errors the application-server SDK reports. Each code
 * carries the HTTP status the express middleware and the sidecar's local API
 * answer with, and the SIP status an INVITE is refused with when the error
 * happens while one is being admitted (0 when it never concerns an INVITE).
 * Callers test `code`, never the message.
 *
 * @example
 * ```ts
 * try {
 *   await session.charge([{ sku: 'BDX-2015', description: 'Bordeaux 2015', unitPrice: 2450 }]);
 * } catch (e) {
 *   if (isAppServerError(e, 'APPSERVER_ERR_CHARGE_REFUSED') && e.status === 402) showNoCredit(e.reason);
 * }
 * ```
 */
export const AppServerErrorCodes = {
  /** A request came without the relay's token (`Siprelay-Token`, `?token=`, `Authorization: Bearer`, cookie). */
  APPSERVER_ERR_TOKEN_MISSING: { http: 401, sip: 403 },
  /** The token is malformed, its signature does not verify, no relay key matches it, or a claim is missing. */
  APPSERVER_ERR_TOKEN_INVALID: { http: 403, sip: 403 },
  /** The token has expired (or is not valid yet). */
  APPSERVER_ERR_TOKEN_EXPIRED: { http: 403, sip: 403 },
  /** The token was issued for another application server (its `aud` is not this account's name). */
  APPSERVER_ERR_TOKEN_AUDIENCE: { http: 403, sip: 403 },
  /** The relay's public keys could not be fetched, so no token can be checked now. */
  APPSERVER_ERR_JWKS_UNAVAILABLE: { http: 503, sip: 503 },
  /** The relay refused a charge: `status` and `reason` are its answer (400, 402, 403, 413, 481…). */
  APPSERVER_ERR_CHARGE_REFUSED: { http: 0, sip: 0 },
  /** The relay answered a charge with 2xx but without `Siprelay-Charge: stored;id=…`, so it is not known to be stored. */
  APPSERVER_ERR_CHARGE_UNCONFIRMED: { http: 502, sip: 0 },
  /** No answer to a charge after every retry; it may or may not be stored (retry later with the same `id`). */
  APPSERVER_ERR_CHARGE_TIMEOUT: { http: 504, sip: 0 },
  /** The session has ended (or never started); nothing more can be sent in it. */
  APPSERVER_ERR_SESSION_ENDED: { http: 409, sip: 0 },
  /** The client refused the REFER, or the new session it tried failed: `status` says how. */
  APPSERVER_ERR_TRANSFER_FAILED: { http: 502, sip: 0 },
  /** The transfer did not complete in time. */
  APPSERVER_ERR_TRANSFER_TIMEOUT: { http: 504, sip: 0 },
  /** The INVITE was cancelled by the client before the handler answered it. */
  APPSERVER_ERR_CANCELLED: { http: 0, sip: 487 },
  /** The INVITE (or change request) was already answered. */
  APPSERVER_ERR_ALREADY_ANSWERED: { http: 0, sip: 0 },
  /** The relay could not be reached, or did not answer the registration. */
  APPSERVER_ERR_RELAY_UNREACHABLE: { http: 503, sip: 0 },
  /** The relay refused to register a service: wrong credentials (403), a service this account may not provide (403), … */
  APPSERVER_ERR_REGISTRATION_REFUSED: { http: 0, sip: 0 },
  /** The application server was closed. */
  APPSERVER_ERR_CLOSED: { http: 503, sip: 0 },
} as const;

/**
 * One of the codes of {@link AppServerErrorCodes}.
 *
 * @example
 * ```ts
 * const code: AppServerErrorCode = 'APPSERVER_ERR_CHARGE_REFUSED';
 * ```
 */
export type AppServerErrorCode = keyof typeof AppServerErrorCodes;

/**
 * An error an application may handle; see {@link AppServerErrorCodes}.
 *
 * @example
 * ```ts
 * session.charge(items).catch((e: unknown) => {
 *   if (e instanceof AppServerError) log.warn({ code: e.code, status: e.status, reason: e.reason }, 'charge failed');
 * });
 * ```
 */
export class AppServerError extends Error {
  override readonly name = 'AppServerError';
  /**
   * The status that goes with it: the relay's SIP answer for a refused
   * charge, registration or transfer; else the catalogue's HTTP status.
   */
  readonly status: number;
  /** The relay's (or client's) reason phrase, when a SIP answer caused the error. */
  readonly reason: string | undefined;

  constructor(
    readonly code: AppServerErrorCode,
    message: string,
    options: { status?: number; reason?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.status = options.status ?? AppServerErrorCodes[code].http;
    this.reason = options.reason;
  }

  /** HTTP status the middleware and the sidecar's API answer this error with. */
  get httpStatus(): number {
    const h = AppServerErrorCodes[this.code].http;
    if (h !== 0) return h;
    // A refusal relayed from the relay keeps its status when HTTP has the same meaning.
    return this.status >= 400 && this.status < 600 ? this.status : 500;
  }

  /** SIP status an INVITE is refused with when this error stops its admission (0: not an admission error). */
  get sipStatus(): number {
    return AppServerErrorCodes[this.code].sip;
  }
}

/**
 * Creates a typed SDK error; the one place they are made.
 *
 * @example
 * ```ts
 * throw appServerError('APPSERVER_ERR_SESSION_ENDED', `session ${id} has ended`);
 * ```
 */
export function appServerError(code: AppServerErrorCode, message: string, options?: { status?: number; reason?: string; cause?: unknown }): AppServerError {
  return new AppServerError(code, message, options);
}

/**
 * True when `e` is an {@link AppServerError}, optionally with the given code.
 *
 * @example
 * ```ts
 * if (isAppServerError(e, 'APPSERVER_ERR_TOKEN_EXPIRED')) askToReopen();
 * ```
 */
export function isAppServerError(e: unknown, code?: AppServerErrorCode): e is AppServerError {
  return e instanceof AppServerError && (code === undefined || e.code === code);
}
