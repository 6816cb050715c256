/**
 * The one catalogue of errors of identity assertion (server/identity/).
 * Callers test `error.code`, never the message text.
 */
export const IdentityErrorCodes = {
  /** No signing key was loaded: call `SigningKeyRing.load()` before the relay takes requests. */
  IDENTITY_ERR_NO_KEY: 'no signing key loaded',
  /** A stored signing key could not be used (unknown algorithm, malformed JWK). */
  IDENTITY_ERR_KEY: 'unusable signing key',
} as const;

export type IdentityErrorCode = keyof typeof IdentityErrorCodes;

/** A failure of identity assertion the relay assembly may handle. */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  constructor(
    readonly code: IdentityErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Creates a typed identity error; the one place they are made. */
export function identityError(code: IdentityErrorCode, message: string, cause?: unknown): IdentityError {
  return new IdentityError(code, message, cause === undefined ? undefined : { cause });
}
