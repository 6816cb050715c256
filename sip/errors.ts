/**
 * The one catalogue of protocol errors the SIP core raises. Callers test
 * `error.code`, never the message text. Each code carries the SIP status a
 * server answers with when the message that caused it was a request
 * (RFC 3261 §8.2, §16.3; RFC 4475 expectations), or `0` when the right action
 * is to drop the message silently (responses that cannot be trusted).
 */
export const SipErrorCodes = {
  /** No blank line ends the header section (RFC 3261 §7). */
  SIP_ERR_UNTERMINATED_HEADERS: 400,
  /** The start line is neither a Request-Line nor a Status-Line (§7.1, §7.2). */
  SIP_ERR_START_LINE: 400,
  /** SIP-Version other than SIP/2.0: 505 (§8.2.x, §21.5.7). */
  SIP_ERR_VERSION: 505,
  /** Status-Code not 3 digits in 100..699 (§7.2): the response is discarded. */
  SIP_ERR_STATUS_CODE: 0,
  /** Method is not a token (§25.1). */
  SIP_ERR_METHOD: 400,
  /** A header line has no colon or a name that is not a token (§7.3). */
  SIP_ERR_HEADER_LINE: 400,
  /** A header value does not follow its grammar (§25.1). */
  SIP_ERR_HEADER_SYNTAX: 400,
  /** A header that may appear once appears more than once (§7.3.1, RFC 4475 §3.3.8). */
  SIP_ERR_DUPLICATE_HEADER: 400,
  /** A mandatory header is missing (§8.1.1, §8.2.?; RFC 4475 §3.3.1). */
  SIP_ERR_MISSING_HEADER: 400,
  /** Content-Length is not a non-negative integer or appears with two values (§20.14). */
  SIP_ERR_CONTENT_LENGTH: 400,
  /** A datagram holds fewer body bytes than Content-Length announces (§18.3). */
  SIP_ERR_BODY_INCOMPLETE: 400,
  /** A message exceeds a configured size or count limit. */
  SIP_ERR_TOO_LARGE: 513,
  /** A URI does not follow RFC 3261 §19.1 / RFC 3966 / RFC 3986. */
  SIP_ERR_URI: 400,
  /** CSeq number above 2**32-1 or method not a token (§8.1.1.5). */
  SIP_ERR_CSEQ: 400,
  /** CSeq method differs from the request method (§8.1.1.5; RFC 4475 §3.1.2.17). */
  SIP_ERR_CSEQ_METHOD: 400,
  /** A numeric header value is out of range (Max-Forwards, Expires...). */
  SIP_ERR_NUMBER_RANGE: 400,
  /** A stream transport's framing can no longer be trusted: close the connection. */
  SIP_ERR_FRAMING: 400,
} as const;

export type SipErrorCode = keyof typeof SipErrorCodes;

/**
 * A message could not be parsed or is not well formed. Thrown only by the
 * parser and the typed-header accessors; anything else thrown is a bug.
 */
export class SipParseError extends Error {
  override readonly name = 'SipParseError';
  /** The SIP status to answer a request with, or 0 to drop the message. */
  readonly status: number;
  /**
   * What was parsed before the fault was found (a SipRequest or SipResponse
   * whose start line and header lines are known), so that a server can still
   * answer with 400 or 505. Typed loosely because errors sit below messages.
   */
  partial: unknown = undefined;
  constructor(
    readonly code: SipErrorCode,
    detail: string,
    /** The header (lower-case full name) that was at fault, when there is one. */
    readonly header?: string,
  ) {
    super(detail);
    this.status = SipErrorCodes[code];
  }
}

/** Creates the typed parse error; the one place errors with codes are made. */
export function parseError(code: SipErrorCode, detail: string, header?: string): SipParseError {
  return new SipParseError(code, detail, header);
}

/** True when `e` is a {@link SipParseError}. */
export function isSipParseError(e: unknown): e is SipParseError {
  return e instanceof SipParseError;
}
