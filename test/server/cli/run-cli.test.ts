import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../server/store/open-store.js';
import { computeHa1 } from '../../../sip/auth/digest-algorithm.js';
import { cli } from './cli-harness.js';

let dir: string;
let db: string;
/** The CLI against this test's SQLite file. */
const run = (args: string[], options?: { stdin?: string; env?: Record<string, string> }) =>
  cli([...args, '--database', db], options);

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'siprelay-cli-'));
  db = `sqlite:${join(dir, 'relay.sqlite')}`;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function withStore<T>(fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(db);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function configFile(yaml: string): string {
  const path = join(dir, 'relay.yaml');
  writeFileSync(path, yaml);
  return path;
}

describe('siprelay user', () => {
  it('add stores the user in the first configured domain with HA1 digests of the password', async () => {
    const r = await run(['user', 'add', 'alice', '--password', 'alice-secret', '--display-name', 'Alice']);
    expect(r).toEqual({ status: 0, stdout: 'added user alice@portal.test\n', stderr: '' });
    await withStore(async (s) => {
      expect(await s.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBe(computeHa1('MD5', 'alice', 'portal.test', 'alice-secret'));
      expect((await s.subscribers.find('alice', 'portal.test'))?.displayName).toBe('Alice');
    });
  });

  it('add reads the password from piped standard input', async () => {
    expect((await run(['user', 'add', 'bob'], { stdin: 'bob-secret\nignored\n' })).status).toBe(0);
    await withStore(async (s) =>
      expect(await s.subscribers.findHa1('bob', 'portal.test', 'SHA-256')).toBe(computeHa1('SHA-256', 'bob', 'portal.test', 'bob-secret')),
    );
  });

  it('add takes user@domain and --domain, and the default domain from the configuration file', async () => {
    await run(['user', 'add', 'carol@Shop.Example', '--password', 'x']);
    await run(['user', 'add', 'dave', '--domain', 'other.example', '--password', 'x']);
    const config = configFile('domains: [relay.example, portal.test]\n');
    await run(['user', 'add', 'erin', '--password', 'x', '--config', config]);
    const list = await run(['user', 'list', '--json']);
    expect(JSON.parse(list.stdout).map((u: { username: string; domain: string }) => `${u.username}@${u.domain}`)).toEqual([
      'dave@other.example',
      'erin@relay.example',
      'carol@shop.example',
    ]);
  });

  it('add without any password fails with exit status 2 and says how to give one', async () => {
    const r = await run(['user', 'add', 'alice']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('error: no password: give --password, or pipe it on standard input\n');
  });

  it('add of an existing user fails with exit status 1', async () => {
    await run(['user', 'add', 'alice', '--password', 'a']);
    const r = await run(['user', 'add', 'alice', '--password', 'b']);
    expect(r).toMatchObject({ status: 1, stdout: '', stderr: 'error: user alice@portal.test already exists\n' });
  });

  it('add refuses a username that cannot be a SIP user part', async () => {
    const r = await run(['user', 'add', 'al ice', '--password', 'x']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: username "al ice" contains " "/);
  });

  it('list shows a table for people', async () => {
    await run(['user', 'add', 'alice', '--password', 'x']);
    await run(['user', 'add', 'bob', '--password', 'x', '--display-name', 'Bob B', '--plan', 'gold']);
    await run(['user', 'disable', 'bob']);
    const lines = (await run(['user', 'list'])).stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^USER\s+DOMAIN\s+DISPLAY NAME\s+PLAN\s+STATUS\s+CREATED$/);
    expect(lines[1]).toMatch(/^alice\s+portal\.test\s+-\s+-\s+enabled\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(lines[2]).toMatch(/^bob\s+portal\.test\s+Bob B\s+gold\s+disabled\s+/);
  });

  it('passwd, disable, enable and rm change what the store holds', async () => {
    await run(['user', 'add', 'alice', '--password', 'old']);
    expect((await run(['user', 'passwd', 'alice', '--password', 'new'])).stdout).toBe(
      'changed the password of alice@portal.test\n',
    );
    await withStore(async (s) =>
      expect(await s.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBe(computeHa1('MD5', 'alice', 'portal.test', 'new')),
    );
    expect((await run(['user', 'disable', 'alice'])).stdout).toBe('disabled user alice@portal.test\n');
    await withStore(async (s) => expect(await s.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBeUndefined());
    expect((await run(['user', 'enable', 'alice'])).stdout).toBe('enabled user alice@portal.test\n');
    expect((await run(['user', 'rm', 'alice'])).stdout).toBe('removed user alice@portal.test\n');
    expect(JSON.parse((await run(['user', 'list', '--json'])).stdout)).toEqual([]);
  });

  it('passwd, disable and rm of an unknown user fail with exit status 1 naming the user', async () => {
    for (const cmd of ['passwd', 'disable', 'enable', 'rm']) {
      const r = await run(['user', cmd, 'nobody', '--password', 'x'].slice(0, cmd === 'passwd' ? 5 : 3));
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('error: no user nobody@portal.test\n');
    }
  });

  it('--json reports errors as JSON with the stable code', async () => {
    const r = await run(['user', 'rm', 'nobody', '--json']);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stderr)).toEqual({ error: { code: 'STORE_ERR_NOT_FOUND', message: 'no user nobody@portal.test' } });
  });
});

describe('siprelay appserver', () => {
  const demo = () => configFile('services:\n  - name: wine\n  - name: bookstore\n    fork: race\n    allowNoCancel: true\n');

  it('add, service add, list: the account and the services it provides', async () => {
    const config = demo();
    expect((await run(['appserver', 'add', 'books-a', '--password', 'pw', '--operator', 'Acme Books', '--config', config])).stdout).toBe(
      'added application server books-a (operator Acme Books)\n',
    );
    expect(
      (await run(['appserver', 'service', 'add', 'books-a', 'bookstore', '--weight', '3', '--target', 'sip:127.0.0.1:5072', '--config', config]))
        .stdout,
    ).toBe('application server books-a provides bookstore (weight 3, target sip:127.0.0.1:5072)\n');
    const list = JSON.parse((await run(['appserver', 'list', '--json'])).stdout);
    expect(list).toMatchObject([{ name: 'books-a', operator: 'Acme Books', disabled: false, services: ['bookstore'] }]);
    await withStore(async (s) => {
      expect(await s.services.find('bookstore')).toMatchObject({ forkMode: 'race', allowNoCancel: true });
      expect(await s.appServers.providers('bookstore')).toMatchObject([{ appServer: 'books-a', weight: 3, targetUri: 'sip:127.0.0.1:5072' }]);
      expect(await s.appServers.findHa1('books-a', 'portal.test', 'MD5')).toBe(computeHa1('MD5', 'books-a', 'portal.test', 'pw'));
    });
  });

  it('service add of a service the configuration does not define fails, naming the defined ones', async () => {
    const config = demo();
    await run(['appserver', 'add', 'shop', '--password', 'pw', '--config', config]);
    const r = await run(['appserver', 'service', 'add', 'shop', 'wnie', '--config', config]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'error: unknown service wnie; the configuration defines wine, bookstore (add it under "services:")\n',
    );
  });

  it('service add refuses a weight that is not a positive integer', async () => {
    const r = await run(['appserver', 'service', 'add', 'shop', 'wine', '--weight', 'heavy', '--config', demo()]);
    expect(r).toMatchObject({ status: 2, stderr: 'error: --weight must be a positive integer, not "heavy"\n' });
  });

  it('service rm, disable, enable, passwd and rm', async () => {
    const config = demo();
    await run(['appserver', 'add', 'shop', '--password', 'pw', '--config', config]);
    await run(['appserver', 'service', 'add', 'shop', 'wine', '--config', config]);
    expect((await run(['appserver', 'service', 'rm', 'shop', 'wine'])).stdout).toBe('application server shop no longer provides wine\n');
    expect((await run(['appserver', 'disable', 'shop'])).stdout).toBe('disabled application server shop\n');
    expect((await run(['appserver', 'enable', 'shop'])).stdout).toBe('enabled application server shop\n');
    expect((await run(['appserver', 'passwd', 'shop'], { stdin: 'new-pw\n' })).stdout).toBe(
      'changed the password of application server shop\n',
    );
    expect((await run(['appserver', 'rm', 'shop'])).stdout).toBe('removed application server shop\n');
    expect((await run(['appserver', 'rm', 'shop'])).stderr).toBe('error: no application server shop\n');
  });
});

describe('siprelay apikey', () => {
  it('create prints the key once; list shows only its prefix; revoke stops it', async () => {
    await run(['appserver', 'add', 'shop', '--password', 'pw']);
    const created = await run(['apikey', 'create', '--appserver', 'shop', '--label', 'charges']);
    expect(created.status).toBe(0);
    expect(created.stderr).toBe('Store this key now: it cannot be shown again.\n');
    const key = created.stdout.trim();
    expect(key).toMatch(/^srk_/);
    await withStore(async (s) => expect(await s.apiKeys.verify(key)).toMatchObject({ kind: 'app-server', appServer: 'shop' }));

    const list = await run(['apikey', 'list']);
    expect(list.stdout).toContain(key.slice(0, 12));
    expect(list.stdout).not.toContain(key.slice(12));
    expect(list.stdout).toMatch(/appserver shop\s+charges/);

    expect((await run(['apikey', 'revoke', key.slice(0, 12)])).stdout).toMatch(/^revoked API key 1 \(srk_/);
    await withStore(async (s) => expect(await s.apiKeys.verify(key)).toBeUndefined());
    expect((await run(['apikey', 'list', '--json'])).stdout).toBe('[]\n');
    expect(JSON.parse((await run(['apikey', 'list', '--all', '--json'])).stdout)).toHaveLength(1);
  });

  it('create needs exactly one owner', async () => {
    expect(await run(['apikey', 'create'])).toMatchObject({ status: 2, stderr: 'error: give exactly one of --appserver <name> and --admin\n' });
    const admin = await run(['apikey', 'create', '--admin', '--json']);
    expect(JSON.parse(admin.stdout)).toMatchObject({ ownerKind: 'admin', key: expect.stringMatching(/^srk_/) });
  });
});

describe('siprelay keys', () => {
  it('rotate makes a new active key and list shows the old one retired', async () => {
    const first = JSON.parse((await run(['keys', 'rotate', '--json'])).stdout);
    const second = JSON.parse((await run(['keys', 'rotate', '--algorithm', 'ES256', '--json'])).stdout);
    expect(second).toMatchObject({ algorithm: 'ES256', publicJwk: { kty: 'EC' } });
    const list = JSON.parse((await run(['keys', 'list', '--json'])).stdout);
    expect(list.map((k: { kid: string; status: string }) => [k.kid, k.status])).toEqual([
      [second.kid, 'active'],
      [first.kid, 'retired'],
    ]);
    expect(JSON.stringify(list)).not.toContain('"d":');
  });

  it('rotate refuses an unknown algorithm', async () => {
    const r = await run(['keys', 'rotate', '--algorithm', 'RS256']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/argument 'RS256' is invalid. Allowed choices are EdDSA, ES256/);
  });
});

describe('siprelay migrate', () => {
  it('applies the migrations once, then reports the database up to date', async () => {
    const first = await run(['migrate']);
    expect(first.stdout).toBe(
      `applied to ${db}:\n  0001-subscribers\n  0002-app-servers-and-services\n  0003-api-keys\n  0004-signing-keys\n  0005-accounting\n  0006-session-dialogs\n  0007-sessions-billed-index\n`,
    );
    expect((await run(['migrate'])).stdout).toBe(`${db} is up to date (7 migrations)\n`);
  });
});

describe('siprelay serve', () => {
  it('stops at a bad configuration with exit status 2 and the key path', async () => {
    const r = await cli(['serve', '--database', db, '--http-port', '99999']);
    expect(r).toEqual({
      status: 2,
      stdout: '',
      stderr: 'config error: http.port: expected an integer between 0 and 65535 (from flag --http-port)\n',
    });
    const env = await cli(['serve', '--database', db], { env: { SIPRELAY_LOG__LEVEL: 'chatty' } });
    expect(env.stderr).toBe(
      'config error: log.level: expected one of: fatal, error, warn, info, debug, trace, silent, got "chatty" (from environment variable SIPRELAY_LOG__LEVEL)\n',
    );
  });

  it('stops when the database cannot be opened, with exit status 1', async () => {
    writeFileSync(join(dir, 'file'), '');
    const r = await cli(['serve', '--database', `sqlite:${join(dir, 'file', 'x.sqlite')}`, '--log-level', 'silent']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot open SQLite database /);
  });
});

describe('command line usage', () => {
  it('an unknown command, option or missing argument exits with status 2 and says what is wrong', async () => {
    expect(await cli(['usr', 'list'])).toMatchObject({ status: 2, stderr: expect.stringContaining("error: unknown command 'usr'") });
    expect(await cli(['user', 'list', '--colour'])).toMatchObject({ status: 2, stderr: expect.stringContaining("error: unknown option '--colour'") });
    expect(await cli(['user', 'add'])).toMatchObject({ status: 2, stderr: expect.stringContaining("error: missing required argument 'user'") });
    expect(await cli(['user'])).toMatchObject({ status: 2, stderr: expect.stringContaining('Usage: siprelay user') });
  });

  it('--help prints usage on standard output with status 0', async () => {
    const r = await cli(['user', 'add', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: siprelay user add [options] <user>');
    expect(r.stdout).toContain('--database <url>');
    expect(r.stdout).toContain('--json');
  });

  it('accepts --database before the command name too', async () => {
    await cli(['--database', db, 'user', 'add', 'alice', '--password', 'x']);
    expect(JSON.parse((await cli(['--database', db, 'user', 'list', '--json'])).stdout)).toHaveLength(1);
  });

  it('a configuration error in a store command exits with status 2', async () => {
    const r = await cli(['user', 'list', '--database', 'mysql://db/relay']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      'config error: database.url: database URL scheme "mysql:" is not supported; expected sqlite:<path> or postgres://… (from flag --database)\n',
    );
  });
});
