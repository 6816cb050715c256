/**
 * Typed errors of the proxy core. Callers test `code`, never the message.
 * Each code carries the SIP status the proxy answers with when the error
 * stops a request (RFC 3261 §16.7 step 6 maps branch failures to
 * responses; §16.9 treats transport errors as 503; RFC 5626 §5.3 answers
 * 430 when a flow is gone).
 */
export const ProxyErrorCodes = {
  /** The next-hop URI names a host that cannot be resolved (or a `.invalid` one, RFC 7118 §5.2). */
  PROXY_ERR_UNRESOLVABLE: 503,
  /** The next hop needs a transport the relay has no listener for. */
  PROXY_ERR_NO_TRANSPORT: 503,
  /** The flow a flow token or registration names has closed (RFC 5626 §5.3). */
  PROXY_ERR_FLOW_GONE: 430,
  /** The next-hop URI is not a SIP or SIPS URI. */
  PROXY_ERR_NOT_SIP: 416,
} as const;

export type ProxyErrorCode = keyof typeof ProxyErrorCodes;

/** Why the proxy could not send a request to a next hop. */
export class ProxyError extends Error {
  override readonly name = 'ProxyError';
  /** The SIP status this failure stands for. */
  readonly status: number;
  constructor(
    readonly code: ProxyErrorCode,
    detail: string,
  ) {
    super(detail);
    this.status = ProxyErrorCodes[code];
  }
}

/** True when `e` is a {@link ProxyError}. */
export function isProxyError(e: unknown): e is ProxyError {
  return e instanceof ProxyError;
}
