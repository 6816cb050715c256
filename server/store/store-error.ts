/**
 * The one catalogue of errors the store raises for a caller to handle (the
 * CLI, the admin API). Callers test `error.code`, never the message text.
 * Each code carries the HTTP status an API answers with, so the admin API
 * and the CLI agree on what a failure means.
 */
export const StoreErrorCodes = {
  /** The database URL has an unknown scheme or is malformed. */
  STORE_ERR_URL: 400,
  /** The database could not be opened or reached. */
  STORE_ERR_CONNECT: 503,
  /** A migration failed; nothing of the failed batch was applied. */
  STORE_ERR_MIGRATION: 500,
  /**
   * The database holds migrations this version does not know: it was
   * migrated by a newer siprelay. Refusing protects data written by it.
   */
  STORE_ERR_SCHEMA_NEWER: 500,
  /** Input does not satisfy the rules of the record (name syntax, ranges). */
  STORE_ERR_INVALID: 400,
  /** A record with the same unique name already exists. */
  STORE_ERR_DUPLICATE: 409,
  /** The named record does not exist. */
  STORE_ERR_NOT_FOUND: 404,
  /** The record is still referenced by others and cannot be removed. */
  STORE_ERR_IN_USE: 409,
  /** A prefix or name matches more than one record. */
  STORE_ERR_AMBIGUOUS: 409,
} as const;

export type StoreErrorCode = keyof typeof StoreErrorCodes;

/** A failure of the store that the caller may handle; see {@link StoreErrorCodes}. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  /** The HTTP status an API answers with for this failure. */
  readonly status: number;
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = StoreErrorCodes[code];
  }
}

/** Creates a typed store error; the one place store errors with codes are made. */
export function storeError(code: StoreErrorCode, message: string, cause?: unknown): StoreError {
  return new StoreError(code, message, cause === undefined ? undefined : { cause });
}

/** True when `e` is a {@link StoreError}, optionally with the given code. */
export function isStoreError(e: unknown, code?: StoreErrorCode): e is StoreError {
  return e instanceof StoreError && (code === undefined || e.code === code);
}
