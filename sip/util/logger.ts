/**
 * The logging interface the SIP core writes to. Its shape is pino's
 * (`logger.warn({ flow: id }, 'message')`), so a pino logger or a child of
 * one can be passed as is; anything else only needs these four methods.
 * The core never logs on the hot path of a well-formed message: only faults,
 * refusals and connection lifecycle events, most of them at `debug`.
 */
export interface SipLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

function ignore(): void {}

/** A logger that drops everything: the default wherever a logger is optional. */
export const noopLogger: SipLogger = Object.freeze({ debug: ignore, info: ignore, warn: ignore, error: ignore });
