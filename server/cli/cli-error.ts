/** Exit statuses of the CLI (docs/operations.md, "Exit status"). */
export const CliExitCodes = {
  OK: 0,
  /** The command ran and failed: unknown user, database unreachable… */
  FAILED: 1,
  /** The command line or the configuration is wrong. */
  USAGE: 2,
} as const;

/**
 * A failure a command reports to the operator: the message is printed as
 * `error: <message>` and the process exits with `exitCode`.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = CliExitCodes.FAILED,
    /** A stable code for `--json` output. */
    readonly code: string = 'CLI_ERR_FAILED',
  ) {
    super(message);
  }
}

/** A wrong command line: exit status 2. */
export function usageError(message: string): CliError {
  return new CliError(message, CliExitCodes.USAGE, 'CLI_ERR_USAGE');
}
