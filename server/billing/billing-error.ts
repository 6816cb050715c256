/**
 * The one catalogue of billing errors. Callers test `error.code`, never the
 * message text. Each code carries the status the relay answers with when the
 * fault came from a request (the HTTP API and SIP share these numbers: 400
 * Bad Request, 402 Payment Required, 403 Forbidden, 413 too large), or 500
 * when the fault is in the relay's own data or configuration.
 */
export const BillingErrorCodes = {
  /** An amount is not an integer count of minor units within ±(2**53 − 1). */
  BILLING_ERR_AMOUNT: 400,
  /** A currency code is not an active ISO 4217 code with minor units. */
  BILLING_ERR_CURRENCY: 400,
  /** Two amounts in different currencies were combined (added, compared, netted). */
  BILLING_ERR_CURRENCY_MISMATCH: 400,
  /** A result would leave the safe integer range; nothing was computed. */
  BILLING_ERR_OVERFLOW: 400,
  /** A tariff (or relay fee) does not follow its schema. */
  BILLING_ERR_TARIFF: 500,
  /** Session segments are not usable for rating (empty, negative, overlapping, not integers). */
  BILLING_ERR_SEGMENT: 500,
  /** A charge body is not JSON or does not follow the charge schema. */
  BILLING_ERR_CHARGE_INVALID: 400,
  /** A charge exceeds a configured limit (items, lengths, quantity, total). */
  BILLING_ERR_CHARGE_LIMIT: 400,
  /** A charge body is larger than the configured number of bytes. */
  BILLING_ERR_CHARGE_TOO_LARGE: 413,
  /** A refund names a charge that is not among the earlier charges. */
  BILLING_ERR_REFUND_UNKNOWN: 400,
  /** A refund names a charge of another application server. */
  BILLING_ERR_REFUND_FORBIDDEN: 403,
  /** A refund would return more than the charge it names (less earlier refunds). */
  BILLING_ERR_REFUND_EXCEEDS: 400,
  /** The account cannot pay: INVITE or charge refused with 402. */
  BILLING_ERR_INSUFFICIENT_CREDIT: 402,
  /** A billing period label or kind is not understood. */
  BILLING_ERR_PERIOD: 400,
} as const;

export type BillingErrorCode = keyof typeof BillingErrorCodes;

/**
 * A billing rule was broken. Thrown by the constructors and arithmetic of the
 * billing core; validators of untrusted input (charges) return the same codes
 * in a result instead of throwing.
 *
 * @example
 * ```ts
 * try { money(1.5, 'EUR'); }
 * catch (e) { if (isBillingError(e) && e.code === 'BILLING_ERR_AMOUNT') { ... } }
 * ```
 */
export class BillingError extends Error {
  override readonly name = 'BillingError';
  /** The status to answer a request with (see {@link BillingErrorCodes}). */
  readonly status: number;
  constructor(
    readonly code: BillingErrorCode,
    detail: string,
    /** The field at fault, as a path like `items[2].quantity`, when there is one. */
    readonly field?: string,
  ) {
    super(detail);
    this.status = BillingErrorCodes[code];
  }
}

/** Creates the typed billing error; the one place billing errors are made. */
export function billingError(code: BillingErrorCode, detail: string, field?: string): BillingError {
  return new BillingError(code, detail, field);
}

/** True when `e` is a {@link BillingError}. */
export function isBillingError(e: unknown): e is BillingError {
  return e instanceof BillingError;
}
