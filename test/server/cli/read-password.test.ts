import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../../server/cli/cli-io.js';
import { readPassword } from '../../../server/cli/read-password.js';

function pipedIo(input: string): CliIo {
  return {
    stdout: { write: () => true },
    stderr: { write: () => true },
    stdin: Object.assign(Readable.from([input]), { isTTY: false }),
    env: {},
  };
}

/** A fake terminal: raw mode is recorded, keystrokes are written by the test. */
function terminalIo() {
  const stdin = Object.assign(new PassThrough(), { isTTY: true, rawModes: [] as boolean[], setRawMode(raw: boolean) { stdin.rawModes.push(raw); return stdin; } });
  let stderr = '';
  const io: CliIo = { stdout: { write: () => true }, stderr: { write: (s: string) => (stderr += s) }, stdin, env: {} };
  return { io, stdin, stderr: () => stderr };
}

describe('readPassword', () => {
  it('takes --password as given', async () => {
    expect(await readPassword(pipedIo(''), { password: 'p@ss word' })).toBe('p@ss word');
  });

  it('reads the first line of piped input', async () => {
    expect(await readPassword(pipedIo('secret\r\nsecond\n'), {})).toBe('secret');
    expect(await readPassword(pipedIo('no-newline'), {})).toBe('no-newline');
  });

  it('refuses empty input', async () => {
    await expect(readPassword(pipedIo(''), {})).rejects.toMatchObject({ exitCode: 2 });
    await expect(readPassword(pipedIo('\n'), {})).rejects.toMatchObject({ exitCode: 2 });
  });

  it('on a terminal asks twice without echo, honouring backspace', async () => {
    const t = terminalIo();
    const result = readPassword(t.io, {}, 'Password');
    t.stdin.write('secrex\u007ft\r');
    await new Promise((r) => setTimeout(r, 10));
    t.stdin.write('secret\n');
    expect(await result).toBe('secret');
    expect(t.stderr()).toBe('Password: \nPassword (again): \n');
    expect(t.stdin.rawModes).toEqual([true, false, true, false]);
  });

  it('on a terminal refuses two different entries', async () => {
    const t = terminalIo();
    const result = readPassword(t.io, {});
    t.stdin.write('one\r');
    await new Promise((r) => setTimeout(r, 10));
    t.stdin.write('two\r');
    await expect(result).rejects.toThrow('the two passwords differ');
  });
});
