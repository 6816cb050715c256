import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The real `siprelay` command as a child process (through tsx, so no build
 * is needed), against a temp SQLite file, from a temp working directory.
 */
const main = fileURLToPath(new URL('../../../server/cli/main.ts', import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const cwd = mkdtempSync(join(tmpdir(), 'siprelay-main-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

/** The environment without SIPRELAY_* variables of the developer's shell. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SIPRELAY_')));

function siprelay(args: string[], stdin?: string): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', tsx, main, ...args], { cwd, env, encoding: 'utf8' }, (error, stdout, stderr) =>
      resolve({ status: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(stdin ?? '');
  });
}

describe('the siprelay command', () => {
  it('adds a user to ./data/siprelay.sqlite by default and lists it', async () => {
    const added = await siprelay(['user', 'add', 'alice'], 'alice-secret\n');
    expect(added).toEqual({ status: 0, stdout: 'added user alice@portal.test\n', stderr: '' });
    const listed = await siprelay(['user', 'list', '--database', `sqlite:${join(cwd, 'data', 'siprelay.sqlite')}`]);
    expect(listed.status).toBe(0);
    expect(listed.stdout).toMatch(/^USER\s+DOMAIN/);
    expect(listed.stdout).toMatch(/\nalice\s+portal\.test\s+-\s+-\s+enabled\s/);
  });

  it('exits non-zero with a clear message on wrong usage', async () => {
    const r = await siprelay(['user', 'ad', 'bob']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("error: unknown command 'ad'");
    expect(r.stderr).toContain('(Did you mean add?)');
    expect(r.stdout).toBe('');
  });

  it('exits non-zero when the command fails', async () => {
    const r = await siprelay(['user', 'rm', 'nobody']);
    expect(r).toEqual({ status: 1, stdout: '', stderr: 'error: no user nobody@portal.test\n' });
  });
});
