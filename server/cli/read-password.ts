import type { CliIo } from './cli-io.js';
import { usageError } from './cli-error.js';

/** How a command gets a password. */
export interface PasswordSource {
  /** Given on the command line (visible to other local users in the process list). */
  password?: string;
  /** Read the first line of standard input even when it is a terminal. */
  passwordStdin?: boolean;
}

/**
 * The password for `user add`, `user passwd` and the like: from `--password`,
 * else from standard input — prompted twice without echo on a terminal, or
 * the first line of piped input (`echo secret | siprelay user passwd alice`).
 *
 * @throws CliError when no password can be had or the two entries differ.
 */
export async function readPassword(io: CliIo, source: PasswordSource, prompt = 'Password'): Promise<string> {
  if (source.password !== undefined) {
    if (source.password === '') throw usageError('--password must not be empty');
    return source.password;
  }
  if (io.stdin.isTTY && io.stdin.setRawMode && !source.passwordStdin) {
    const first = await promptHidden(io, `${prompt}: `);
    const second = await promptHidden(io, `${prompt} (again): `);
    if (first !== second) throw usageError('the two passwords differ');
    if (first === '') throw usageError('the password must not be empty');
    return first;
  }
  const line = await firstLine(io.stdin);
  if (line === undefined || line === '') {
    throw usageError('no password: give --password, or pipe it on standard input');
  }
  return line;
}

/** The first line of a stream (without its line end), or undefined when it ends empty. */
async function firstLine(stream: NodeJS.ReadableStream): Promise<string | undefined> {
  let text = '';
  for await (const chunk of stream) {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const nl = text.search(/\r?\n/);
    if (nl >= 0) return text.slice(0, nl);
  }
  return text === '' ? undefined : text;
}

/** Reads one line from a terminal without echoing it. */
function promptHidden(io: CliIo, prompt: string): Promise<string> {
  const stdin = io.stdin;
  io.stderr.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    const finish = (error?: Error) => {
      stdin.removeListener('data', onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish();
        if (ch === '\u0003') return finish(usageError('interrupted'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}
