import type { SipResponse } from '../message/sip-response.js';

/**
 * The catalogue of errors the user-agent core reports to the application
 * (rejected Promises, `failed` events, or thrown by a call the current
 * state does not allow). Each code carries the SIP status RFC 3261 §8.1.3.1
 * says to act as if received, where there is one, else 0.
 */
export const UserAgentErrorCodes = {
  /** Timer B or F fired: no final response (act as 408, §8.1.3.1). */
  SIP_ERR_REQUEST_TIMEOUT: 408,
  /** The request could not be sent, or its connection closed first (act as 503, §8.1.3.1). */
  SIP_ERR_TRANSPORT: 503,
  /** A final non-2xx response ended the request; `error.response` holds it. */
  SIP_ERR_REJECTED: 0,
  /** The session (dialog) has ended; nothing more can be sent in it. */
  SIP_ERR_SESSION_TERMINATED: 0,
  /**
   * A re-INVITE or UPDATE is already in progress in this session (RFC 3261
   * §14.1: no new INVITE transaction while another is in progress in either
   * direction; RFC 3311 §5.1 for UPDATE).
   */
  SIP_ERR_REQUEST_PENDING: 491,
  /** The incoming INVITE was cancelled (CANCEL, or BYE on its early dialog) before the answer. */
  SIP_ERR_CANCELLED: 487,
  /** The call is not allowed in the current state (answering twice, BYE on a UAS early dialog...). */
  SIP_ERR_INVALID_STATE: 0,
  /** The peer did not announce this Info Package in Recv-Info (RFC 6086 §4.2.1). */
  SIP_ERR_INFO_PACKAGE: 469,
  /** The user-agent core was closed. */
  SIP_ERR_CLOSED: 0,
} as const;

export type UserAgentErrorCode = keyof typeof UserAgentErrorCodes;

/** An error the application may handle: test `error.code`, never the message. */
export class UserAgentError extends Error {
  override readonly name = 'UserAgentError';
  /** The SIP status to act on (408, 503, the response's status...), or 0. */
  readonly status: number;

  constructor(
    readonly code: UserAgentErrorCode,
    detail: string,
    /** The final response, for `SIP_ERR_REJECTED`. */
    readonly response?: SipResponse,
  ) {
    super(detail);
    this.status = response?.status ?? UserAgentErrorCodes[code];
  }
}

/** True when `e` is a {@link UserAgentError}. */
export function isUserAgentError(e: unknown): e is UserAgentError {
  return e instanceof UserAgentError;
}
