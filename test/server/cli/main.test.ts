import { execFile, spawn } from 'node:child_process';
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

describe('siprelay serve', () => {
  it('validates, migrates, writes the services, starts the relay, answers SIP, and stops cleanly on SIGTERM', async () => {
    const db = `sqlite:${join(cwd, 'serve.sqlite')}`;
    const child = spawn(
      process.execPath,
      [
        '--import', tsx, main, 'serve', '--config', fileURLToPath(new URL('../../../config/demo.yaml', import.meta.url)),
        '--set', 'demo=false', '--database', db, '--http-port', '0', '--log-level', 'info',
        '--set', 'listeners[0].port=0', '--set', 'listeners[1].port=0',
      ],
      { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!stdout.includes('"relay started"') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    expect(stdout, stderr).toContain('"relay started"');
    const started = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.msg === 'relay started');
    // The relay answers an OPTIONS over TCP while it runs.
    const tcp = started.sip.find((a: string) => a.startsWith('tcp:')).split(':');
    const { connect } = await import('node:net');
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(Number(tcp[2]), tcp[1], () => {
        sock.write(
          'OPTIONS sip:portal.test SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKserve1\r\nMax-Forwards: 70\r\n' +
            'From: <sip:probe@portal.test>;tag=1\r\nTo: <sip:portal.test>\r\nCall-ID: serve-test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
        );
      });
      let got = '';
      sock.setEncoding('utf8').on('data', (d: string) => {
        got += d;
        if (got.includes('\r\n\r\n')) {
          sock.destroy();
          resolve(got);
        }
      });
      sock.on('error', reject);
    });
    expect(answer).toMatch(/^SIP\/2.0 200 OK/);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const messages = stdout.trim().split('\n').map((l) => JSON.parse(l).msg);
    expect(messages.slice(0, 4)).toEqual(['configuration loaded', 'store open', 'services written to the store', 'token signing key']);
    expect(messages).toContain('relay started');
    expect(messages.slice(-2)).toEqual(['shutting down', 'stopped']);
  }, 60_000);
});
