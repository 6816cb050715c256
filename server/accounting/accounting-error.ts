/**
 * The one catalogue of accounting refusals and failures. Each code carries
 * the HTTP status the API answers with and the SIP status the relay answers
 * an INFO charge with, so both routes refuse alike. Callers test `code`,
 * never the message. Billing rule violations keep their `BILLING_ERR_*`
 * codes (server/billing/billing-error.ts); these are the ones accounting
 * adds around them.
 */
export const AccountingErrorCodes = {
  /** No session with that id (or not one the caller may see). */
  ACCT_ERR_SESSION_UNKNOWN: { http: 404, sip: 481 },
  /** The session never got established (failed, cancelled, or not answered yet). */
  ACCT_ERR_SESSION_NOT_ESTABLISHED: { http: 409, sip: 481 },
  /** The session ended longer ago than the grace period for charges. */
  ACCT_ERR_SESSION_CLOSED: { http: 409, sip: 481 },
  /** Only the application server of a session may charge it. */
  ACCT_ERR_FORBIDDEN: { http: 403, sip: 403 },
  /** The idempotency key is missing or does not match the charge's `id`. */
  ACCT_ERR_IDEMPOTENCY_KEY: { http: 400, sip: 400 },
  /** The idempotency key was already used for a different charge. SIP has no 409. */
  ACCT_ERR_IDEMPOTENCY_CONFLICT: { http: 409, sip: 400 },
  /** The session has reached the most charges it may have. */
  ACCT_ERR_TOO_MANY_CHARGES: { http: 403, sip: 403 },
  /** The accounting service is shutting down; try again (another node). */
  ACCT_ERR_CLOSED: { http: 503, sip: 503 },
  /** The store failed; nothing was stored. */
  ACCT_ERR_STORE: { http: 503, sip: 500 },
} as const;

export type AccountingErrorCode = keyof typeof AccountingErrorCodes;

/** An accounting failure a caller may handle; see {@link AccountingErrorCodes}. */
export class AccountingError extends Error {
  override readonly name = 'AccountingError';
  /** HTTP status to answer with. */
  readonly httpStatus: number;
  /** SIP status to answer with. */
  readonly sipStatus: number;
  constructor(
    readonly code: AccountingErrorCode,
    message: string,
    /** The field at fault, when there is one (`id`, `Idempotency-Key`). */
    readonly field?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.httpStatus = AccountingErrorCodes[code].http;
    this.sipStatus = AccountingErrorCodes[code].sip;
  }
}

/** Creates a typed accounting error; the one place they are made. */
export function accountingError(code: AccountingErrorCode, message: string, field?: string, cause?: unknown): AccountingError {
  return new AccountingError(code, message, field, cause === undefined ? undefined : { cause });
}

/** True when `e` is an {@link AccountingError}, optionally with the given code. */
export function isAccountingError(e: unknown, code?: AccountingErrorCode): e is AccountingError {
  return e instanceof AccountingError && (code === undefined || e.code === code);
}
