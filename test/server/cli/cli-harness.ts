import { Readable } from 'node:stream';
import type { CliIo } from '../../../server/cli/cli-io.js';
import { runCli } from '../../../server/cli/run-cli.js';

/** What one in-process CLI run printed and returned. */
export interface CliRun {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with captured output, an empty environment (so
 * the developer's SIPRELAY_* variables cannot leak in) and `stdin` as piped
 * input.
 */
export async function cli(argv: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Object.assign(Readable.from(options.stdin === undefined ? [] : [options.stdin]), { isTTY: false }),
    env: options.env ?? {},
  };
  const status = await runCli(argv, io);
  return { status, stdout, stderr };
}
