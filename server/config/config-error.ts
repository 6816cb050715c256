/**
 * The catalogue of configuration failures. Callers test `error.code`.
 */
export const ConfigErrorCodes = {
  /** The configuration file cannot be read. */
  CONFIG_ERR_FILE: 'CONFIG_ERR_FILE',
  /** The file is not valid YAML, or not a mapping at the top. */
  CONFIG_ERR_SYNTAX: 'CONFIG_ERR_SYNTAX',
  /** One or more values are wrong or unknown; see `issues`. */
  CONFIG_ERR_INVALID: 'CONFIG_ERR_INVALID',
} as const;

export type ConfigErrorCode = keyof typeof ConfigErrorCodes;

/** One thing wrong with the configuration. */
export interface ConfigIssue {
  /** Key path as an operator writes it: `listeners[1].port`, or an environment variable / flag name. */
  readonly path: string;
  /** What is wrong, e.g. `expected an integer between 0 and 65535`. */
  readonly message: string;
  /** Where the value came from: `from file relay.yaml`, `from environment variable SIPRELAY_HTTP__PORT`, `from flag --http-port`, `default`. */
  readonly source: string;
}

/**
 * The configuration cannot be used. The message has one line per issue,
 * each `config error: <path>: <what is wrong> (<where it came from>)`, so
 * that start-up stops with a message naming the bad key.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** The path of the first issue (what to fix first). */
  readonly path: string;
  constructor(
    readonly code: ConfigErrorCode,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map(formatConfigIssue).join('\n'));
    this.path = issues[0]?.path ?? '';
  }
}

/** `config error: <path>: <message> (<source>)` */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.path ? `${issue.path}: ` : '';
  return `config error: ${where}${issue.message} (${issue.source})`;
}
