/**
 * Replays the 4,527 PROTOS c07-sip test cases (University of Oulu; GPLv2
 * test data, not in this repository) against a running relay over UDP, and
 * after every case checks that the relay still answers a keep-alive OPTIONS
 * (issue 3, item 9).
 *
 *   npm run build
 *   npx tsx scripts/protos-replay.ts                      # starts its own relay (dist/), temp SQLite
 *   npx tsx scripts/protos-replay.ts --host 127.0.0.1 --port 5060   # against a relay you run
 *
 * Options: --cases DIR (default ../shared/testdata/protos-c07-sip/cases),
 * --from N --to N (case numbers, inclusive), --wait-ms N (how long to wait
 * for the answer to a case's INVITE; default 150), --to-uri USER@DOMAIN
 * (the <To> of the cases; default wine@portal.test), --json FILE (write
 * the counts).
 *
 * Each case file holds two messages, each preceded by its length and a
 * space: a (mostly malformed) INVITE and a teardown. The placeholders are
 * filled as the suite's README says: <To>, <From>, <From-Address>,
 * <From-IP>, <Local-Port>, <Call-ID>, <CSeq>, <Branch-ID>,
 * <Content-Length> (the body's byte length after substitution) and
 * <Teardown-Method>: ACK when the INVITE got a final response (it matches
 * that transaction and stops its retransmissions), else CANCEL.
 *
 * Exit status 0 when the relay answered OPTIONS after every case and did
 * not die; 1 otherwise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function option(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const casesDir = option('cases') ?? join(root, '..', 'shared', 'testdata', 'protos-c07-sip', 'cases');
const firstCase = Number(option('from') ?? 0);
const lastCase = Number(option('to') ?? Number.MAX_SAFE_INTEGER);
const waitMs = Number(option('wait-ms') ?? 150);
const toUri = option('to-uri') ?? 'wine@portal.test';
const jsonFile = option('json');
let relayHost = option('host') ?? '127.0.0.1';
let relayPort = option('port') !== undefined ? Number(option('port')) : undefined;

/** One case: the INVITE and teardown templates (bytes, placeholders unfilled). */
interface ProtosCase {
  name: string;
  invite: Buffer;
  teardown: Buffer;
}

/** `<length> <bytes><length> <bytes>`: the lengths count the template's bytes. */
function readCase(file: string): ProtosCase {
  const data = readFileSync(file);
  const messages: Buffer[] = [];
  let pos = 0;
  while (pos < data.length && messages.length < 2) {
    const space = data.indexOf(0x20, pos);
    const length = Number(data.subarray(pos, space).toString('latin1'));
    if (space < 0 || !Number.isSafeInteger(length)) throw new Error(`${file}: no length at byte ${pos}`);
    messages.push(data.subarray(space + 1, space + 1 + length));
    pos = space + 1 + length;
  }
  if (messages.length !== 2) throw new Error(`${file}: expected two messages`);
  return { name: file.slice(file.lastIndexOf('/') + 1), invite: messages[0], teardown: messages[1] };
}

/** Fills the placeholders; <Content-Length> last, as the body's byte length after the others. */
function fill(template: Buffer, values: Record<string, string>): Buffer {
  let text = template.toString('latin1');
  for (const [k, v] of Object.entries(values)) text = text.split(`<${k}>`).join(v);
  const bytes = Buffer.from(text, 'latin1');
  const headEnd = bytes.indexOf('\r\n\r\n');
  const bodyLength = headEnd < 0 ? 0 : bytes.length - headEnd - 4;
  return Buffer.from(text.split('<Content-Length>').join(String(bodyLength)), 'latin1');
}

/** A started relay (child process of `node dist/server/cli/main.js serve`). */
interface OwnRelay {
  child: ChildProcess;
  dir: string;
  log: string;
  exited: Promise<number | null>;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function startRelay(): Promise<OwnRelay> {
  const main = join(root, 'dist', 'server', 'cli', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run npm run build first`);
  const dir = mkdtempSync(join(tmpdir(), 'siprelay-protos-'));
  const port = await freeUdpPort();
  const httpPort = await freeUdpPort();
  const config = [
    'domains: [portal.test]',
    'listeners:',
    `  - { transport: udp, host: 127.0.0.1, port: ${port} }`,
    `http: { host: 127.0.0.1, port: ${httpPort} }`,
    `database: { url: 'sqlite:${join(dir, 'relay.sqlite')}' }`,
    'services: [{ name: wine }]',
    'log: { level: warn }',
  ].join('\n');
  writeFileSync(join(dir, 'relay.yaml'), config + '\n');
  const log = join(dir, 'relay.log');
  const out = createWriteStream(log);
  const child = spawn(process.execPath, [main, 'serve', '--config', join(dir, 'relay.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Never leave the relay behind when this script is interrupted or ends early.
  process.on('exit', () => child.exitCode === null && child.kill('SIGKILL'));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  relayHost = '127.0.0.1';
  relayPort = port;
  return { child, dir, log, exited };
}

/** A UDP client on 127.0.0.1 that collects every response by the token it contains. */
class Client {
  readonly socket: Socket = createSocket('udp4');
  private readonly waiting = new Map<string, (status: number) => void>();
  readonly statuses = new Map<string, number[]>();

  async open(): Promise<number> {
    this.socket.on('message', (data) => {
      const text = data.toString('latin1');
      if (process.env.PROTOS_DEBUG) console.log('<<<', text.slice(0, 300));
      const m = /^SIP\/2\.0 (\d{3})/.exec(text);
      if (!m) return;
      const token = /protos(\d+x[a-z0-9]+)/.exec(text)?.[1] ?? /keepalive-([a-z0-9]+)/.exec(text)?.[1];
      if (token === undefined) return;
      const status = Number(m[1]);
      const list = this.statuses.get(token) ?? [];
      list.push(status);
      this.statuses.set(token, list);
      if (status >= 200) this.waiting.get(token)?.(status);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    return this.socket.address().port;
  }

  send(bytes: Buffer): void {
    this.socket.send(bytes, relayPort!, relayHost);
  }

  /** The first final status for `token` within `ms`, or 0. */
  finalFor(token: string, ms: number): Promise<number> {
    const known = this.statuses.get(token)?.find((s) => s >= 200);
    if (known !== undefined) return Promise.resolve(known);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(token);
        resolve(0);
      }, ms);
      this.waiting.set(token, (status) => {
        clearTimeout(timer);
        this.waiting.delete(token);
        resolve(status);
      });
    });
  }
}

async function keepAlive(client: Client, localPort: number, n: number): Promise<boolean> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const token = `${n < 0 ? 'start' : n}a${attempt}`;
    const request =
      `OPTIONS sip:${relayHost}:${relayPort} SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 127.0.0.1:${localPort};branch=z9hG4bKka${token}\r\n` +
      `From: <sip:keepalive@portal.test>;tag=ka${token}\r\nTo: <sip:${relayHost}:${relayPort}>\r\n` +
      `Call-ID: keepalive-${token}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
    client.send(Buffer.from(request));
    if ((await client.finalFor(token, 1000)) === 200) return true;
  }
  return false;
}

async function main(): Promise<number> {
  if (!existsSync(casesDir)) throw new Error(`no PROTOS cases at ${casesDir} (see --cases)`);
  const own = relayPort === undefined ? await startRelay() : undefined;
  let relayDied = false;
  let stopping = false;
  void own?.exited.then(() => (relayDied = !stopping));
  const client = new Client();
  const localPort = await client.open();
  const files = readdirSync(casesDir)
    .filter((f) => /^\d+$/.test(f))
    .sort()
    .filter((f) => Number(f) >= firstCase && Number(f) <= lastCase);

  // Wait for the relay to answer before the first case.
  const readyBy = Date.now() + 15_000;
  while (!(await keepAlive(client, localPort, -1))) {
    if (Date.now() > readyBy || relayDied) throw new Error(`the relay does not answer OPTIONS at ${relayHost}:${relayPort}`);
  }
  console.log(`PROTOS c07-sip: ${files.length} cases from ${casesDir} against ${relayHost}:${relayPort} over UDP${own ? ` (relay started by this script, log ${own.log})` : ''}`);

  const counts = {
    sent: 0,
    answered: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, '6xx': 0 } as Record<string, number>,
    statuses: {} as Record<string, number>,
    silent: 0,
    aliveAfter: 0,
    notAlive: [] as string[],
    teardown: { ACK: 0, CANCEL: 0 },
  };
  const started = Date.now();
  for (const [i, file] of files.entries()) {
    const c = readCase(join(casesDir, file));
    const token = `${Number(file)}x${Math.random().toString(36).slice(2, 8)}`;
    const values = {
      To: toUri,
      From: 'protos@portal.test',
      'From-Address': '127.0.0.1',
      'From-IP': '127.0.0.1',
      'Local-Port': String(localPort),
      'Call-ID': `protos${token}`,
      CSeq: String(1 + (Number(file) % 65_000)),
      'Branch-ID': `protos${token}`,
    };
    client.send(fill(c.invite, values));
    counts.sent++;
    const status = await client.finalFor(token, waitMs);
    if (status === 0) {
      counts.silent++;
      if (process.env.PROTOS_DEBUG) console.log(`silent: ${c.name}\n${fill(c.invite, values).toString('latin1').slice(0, 400)}`);
    }
    else {
      counts.answered[`${Math.floor(status / 100)}xx`]++;
      counts.statuses[status] = (counts.statuses[status] ?? 0) + 1;
    }
    const method = status >= 200 ? 'ACK' : 'CANCEL';
    counts.teardown[method]++;
    client.send(fill(c.teardown, { ...values, 'Teardown-Method': method }));
    if (await keepAlive(client, localPort, i)) counts.aliveAfter++;
    else {
      counts.notAlive.push(c.name);
      console.error(`case ${c.name}: the relay did not answer OPTIONS afterwards${relayDied ? ' (it exited)' : ''}`);
      if (relayDied) break;
    }
    if ((i + 1) % 250 === 0 || i + 1 === files.length) {
      const secs = (Date.now() - started) / 1000;
      console.log(
        `  ${i + 1}/${files.length} cases in ${secs.toFixed(0)} s: answered ${JSON.stringify(counts.answered)}, silent ${counts.silent}, alive after ${counts.aliveAfter}`,
      );
    }
  }
  client.socket.close();

  let relayErrors: string[] = [];
  if (own) {
    stopping = !relayDied;
    own.child.kill('SIGTERM');
    const code = await own.exited;
    relayErrors = readFileSync(own.log, 'utf8')
      .split('\n')
      .filter((l) => /"level":(50|60)/.test(l));
    console.log(`relay exit code ${code} after SIGTERM; error lines in its log: ${relayErrors.length}`);
    for (const l of relayErrors.slice(0, 5)) console.log(`  ${l.slice(0, 400)}`);
    if (relayErrors.length === 0 && !relayDied) rmSync(own.dir, { recursive: true, force: true });
  }
  const summary = {
    cases: files.length,
    ...counts,
    relayDied,
    relayErrorLines: relayErrors.length,
    seconds: Math.round((Date.now() - started) / 1000),
  };
  console.log(`RESULT ${JSON.stringify(summary)}`);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify(summary, null, 2) + '\n');
  return counts.notAlive.length === 0 && !relayDied && counts.aliveAfter === files.length ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(2);
  },
);
