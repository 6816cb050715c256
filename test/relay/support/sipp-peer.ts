/**
 * SIPp (Debian `sip-tester`) as a peer of the running relay: a client
 * (UAC scenario, one or a few calls) or a long-running application server
 * (UAS scenario, answering OPTIONS probes with `-aa`), over UDP or TCP on
 * loopback. Reads back what SIPp did: exit code, the `-trace_msg` log
 * (every message, with time), the `-trace_err` log and `-trace_stat`.
 *
 * The scenarios are `test/sipp/scenarios/relay-*.xml`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIPP, SIPP_SKIP_REASON, type SippProtocol } from '../../sipp/sipp.js';

export { SIPP, SIPP_SKIP_REASON, freePort, type SippProtocol } from '../../sipp/sipp.js';

const SCENARIOS = fileURLToPath(new URL('../../sipp/scenarios/', import.meta.url));

/** One message in SIPp's `-trace_msg` log. */
export interface LoggedMessage {
  direction: 'sent' | 'received';
  /** Milliseconds since the epoch (SIPp's local time stamp, read as UTC: only differences mean anything). */
  at: number;
  /** `INVITE sip:…` or `SIP/2.0 200 OK`. */
  startLine: string;
  /** The request method, or undefined for a response. */
  method: string | undefined;
  /** The response status, or 0 for a request. */
  status: number;
  /** The CSeq method (what a response answers). */
  cseqMethod: string;
  text: string;
  /** The first value of a header (name case-insensitive, compact forms not mapped). */
  header(name: string): string | undefined;
  /** Every value of a header, one per line. */
  headers(name: string): string[];
}

export interface SippPeerOptions {
  /** Scenario file name in `test/sipp/scenarios/`, without `.xml`. */
  scenario: string;
  protocol: SippProtocol;
  /** Where a UAC sends (the relay). Absent for a UAS. */
  remote?: { host: string; port: number };
  /** SIPp's own port; 0 or absent lets it choose (a UAC). */
  port?: number;
  /** `-i`: SIPp's own address. Default 127.0.0.1 (127.0.0.2 is another client address on loopback). */
  localIp?: string;
  /** `-s`: the Request-URI user of a UAC (the service), `[service]` in a UAS. */
  service?: string;
  /** `-m`: calls to make (UAC) or to take before exiting (UAS). Default 1 for a UAC, unlimited for a UAS. */
  calls?: number;
  /** `-r`: calls per second. */
  rate?: number;
  /** Injection file rows (`-inf`, SEQUENTIAL): `[field0, field1, …]`, e.g. `[user, domain, password]`. */
  inject?: string[][];
  /** `-key name value`: `[name]` in the scenario's messages. */
  keys?: Record<string, string>;
  /** `-oocsf`: scenario for requests that belong to no call (an application server that registered first). */
  outOfCallScenario?: string;
  /** `-aa`: answer OPTIONS, INFO, NOTIFY and UPDATE that the scenario does not expect with 200 (health probes). */
  autoAnswer?: boolean;
  /** `-d`: the length of `<pause/>` in ms. */
  pauseMs?: number;
  /** Global timeout (`-timeout`, with `-timeout_error`). Default 20 s for a UAC, none for a UAS; 0 for none. */
  timeoutS?: number;
  /** More SIPp arguments. */
  args?: string[];
}

export interface SippExit {
  /** SIPp's exit code: 0 every call succeeded, 1 at least one failed; null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * A running SIPp. `messages()` and `errors()` read its logs as they are now
 * (SIPp flushes after every message), so a long-running application server
 * can be checked test by test with `since(mark)`.
 */
export class SippPeer {
  readonly exited: Promise<SippExit>;
  readonly port: number;
  private readonly child: ChildProcess;
  private readonly messageFile: string;
  private readonly errorFile: string;
  private readonly statFile: string;
  private output = '';
  private exit: SippExit | undefined;

  private constructor(
    readonly options: SippPeerOptions,
    private readonly dir: string,
  ) {
    this.port = options.port ?? 0;
    this.messageFile = join(dir, 'messages.log');
    this.errorFile = join(dir, 'errors.log');
    this.statFile = join(dir, 'stats.csv');
    const isUac = options.remote !== undefined;
    const args: string[] = [];
    if (options.remote) args.push(`${options.remote.host}:${options.remote.port}`);
    args.push('-sf', join(SCENARIOS, options.scenario + '.xml'));
    if (options.outOfCallScenario) args.push('-oocsf', join(SCENARIOS, options.outOfCallScenario + '.xml'));
    args.push('-i', options.localIp ?? '127.0.0.1', '-p', String(this.port));
    args.push('-t', options.protocol === 'UDP' ? 'u1' : 't1');
    if (options.service !== undefined) args.push('-s', options.service);
    const calls = options.calls ?? (isUac ? 1 : undefined);
    if (calls !== undefined) args.push('-m', String(calls));
    if (options.rate !== undefined) args.push('-r', String(options.rate));
    if (options.pauseMs !== undefined) args.push('-d', String(options.pauseMs));
    if (options.inject) {
      const file = join(dir, 'inject.csv');
      writeFileSync(file, ['SEQUENTIAL', ...options.inject.map((row) => row.join(';'))].join('\n') + '\n');
      args.push('-inf', file);
    }
    for (const [k, v] of Object.entries(options.keys ?? {})) args.push('-key', k, v);
    if (options.autoAnswer) args.push('-aa');
    const timeoutS = options.timeoutS ?? (isUac ? 20 : undefined);
    if (timeoutS) args.push('-timeout', `${timeoutS}s`, '-timeout_error');
    args.push('-nostdin', '-trace_msg', '-message_file', this.messageFile, '-trace_err', '-error_file', this.errorFile);
    args.push('-trace_stat', '-stf', this.statFile, '-fd', '1');
    args.push(...(options.args ?? []));
    this.child = spawn(SIPP as string, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.output = (this.output + d.toString('latin1')).slice(-4000)));
    this.child.stderr?.on('data', (d: Buffer) => (this.output = (this.output + d.toString('latin1')).slice(-4000)));
    this.exited = new Promise<SippExit>((resolve) => {
      this.child.on('error', (e) => {
        this.output += String(e);
        resolve((this.exit = { code: -1, signal: null }));
      });
      this.child.on('exit', (code, signal) => resolve((this.exit = { code, signal })));
    });
  }

  /**
   * Starts SIPp. A UAS is awaited until its socket is bound (`port` must
   * then be given, e.g. from `freePort`), so the first request finds it.
   */
  static async start(options: SippPeerOptions): Promise<SippPeer> {
    if (!SIPP) throw new Error(SIPP_SKIP_REASON);
    if (!options.remote && !options.port) throw new TypeError('a SIPp UAS needs a port (freePort)');
    const peer = new SippPeer(options, mkdtempSync(join(tmpdir(), `siprelay-sipp-${options.scenario}-`)));
    if (!options.remote) await waitUntilBound(options.protocol, peer.port, peer);
    return peer;
  }

  /** Runs a UAC to its end: the exit code and every message it logged. */
  static async run(options: SippPeerOptions): Promise<SippRun> {
    const peer = await SippPeer.start(options);
    const exit = await peer.exited;
    const run: SippRun = { ...exit, messages: peer.messages(), errors: peer.errors(), stats: peer.stats(), report: '' };
    run.report = peer.describe();
    peer.cleanup();
    return run;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  /** Every message in the log so far. */
  messages(): LoggedMessage[] {
    return readMessages(this.messageFile);
  }

  /** Messages logged after `mark` (a count from an earlier `messages().length`). */
  since(mark: number): LoggedMessage[] {
    return this.messages().slice(mark);
  }

  /** Error log lines, without SIPp's notes about out-of-call requests (expected with `-oocsf`). */
  errors(): string[] {
    if (!existsSync(this.errorFile)) return [];
    return readFileSync(this.errorFile, 'latin1')
      .split(/(?=\d{4}-\d\d-\d\d\t\d\d:\d\d:\d\d\.\d+\t)/)
      .map((l) => l.trim())
      .filter(
        (l) =>
          l &&
          !/^The following events occurred/.test(l) && !/Received out-of-call \S+ message, using the out-of-call scenario/.test(l) &&
          !/Automatic response mode for an unexpected INFO, NOTIFY, OPTIONS or UPDATE/.test(l),
      );
  }

  /** The last row of the `-trace_stat` CSV by column (`SuccessfulCall(C)`, `FailedCall(C)`…). */
  stats(): Record<string, string> {
    return readStats(this.statFile);
  }

  /** A readable account of what SIPp did, for assertion messages. */
  describe(from = 0): string {
    const lines = this.messages()
      .slice(from)
      .map((m) => `${m.direction === 'sent' ? '>' : '<'} ${m.startLine}  [${m.cseqMethod}]`)
      .join('\n');
    const errors = this.errors().join('\n').slice(-3000);
    return `sipp ${this.options.scenario} (${this.options.protocol}) exit ${this.exit?.code ?? 'running'}\n${lines}\n--- errors ---\n${errors}\n--- output ---\n${this.output}`;
  }

  /** Stops SIPp (by its pid: only the process this peer started) and waits for it. */
  async stop(): Promise<SippExit> {
    if (this.exit === undefined) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.exit === undefined && this.child.kill('SIGKILL'), 3000);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** Removes the log directory (after `stop`). */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A finished UAC run. */
export interface SippRun extends SippExit {
  messages: LoggedMessage[];
  errors: string[];
  stats: Record<string, string>;
  /** `describe()` of the run, for assertion messages. */
  report: string;
}

/** Final responses to INVITE that a UAC received, as statuses. */
export function inviteFinals(messages: readonly LoggedMessage[]): number[] {
  return messages.filter((m) => m.direction === 'received' && m.status >= 200 && m.cseqMethod === 'INVITE').map((m) => m.status);
}

/** Requests of `method` received (from the relay). */
export function received(messages: readonly LoggedMessage[], method: string): LoggedMessage[] {
  return messages.filter((m) => m.direction === 'received' && m.method === method);
}

async function waitUntilBound(protocol: SippProtocol, port: number, peer: SippPeer): Promise<void> {
  const tables = protocol === 'UDP' ? ['/proc/net/udp', '/proc/net/udp6'] : ['/proc/net/tcp', '/proc/net/tcp6'];
  if (!existsSync(tables[0])) {
    await sleep(500);
    return;
  }
  const hex = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  for (let i = 0; i < 250; i++) {
    if (!peer.running) throw new Error(`SIPp exited before binding ${protocol} port ${port}\n${peer.describe()}`);
    for (const table of tables) {
      if (!existsSync(table)) continue;
      for (const line of readFileSync(table, 'utf8').split('\n')) {
        const f = line.trim().split(/\s+/);
        // local_address ends with the port; for TCP, state 0A is LISTEN.
        if (f[1]?.endsWith(hex) && (protocol === 'UDP' || f[3] === '0A')) return;
      }
    }
    await sleep(20);
  }
  throw new Error(`SIPp did not bind ${protocol} port ${port}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Parses SIPp's message log: blocks after `----- <date> <time>` lines. */
function readMessages(file: string): LoggedMessage[] {
  if (!existsSync(file)) return [];
  const out: LoggedMessage[] = [];
  const blocks = readFileSync(file, 'latin1').split(/^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$/m);
  for (let i = 1; i + 1 < blocks.length; i += 2) {
    const at = Date.parse(blocks[i].replace(' ', 'T').slice(0, 23) + 'Z');
    const body = blocks[i + 1];
    const head = /^\s*(UDP|TCP) message (sent|received)[^\n]*\n/.exec(body);
    if (!head) continue;
    const text = body.slice(head[0].length).replace(/^\s*\n/, '');
    out.push(loggedMessage(head[2] as 'sent' | 'received', at, text));
  }
  return out;
}

function loggedMessage(direction: 'sent' | 'received', at: number, text: string): LoggedMessage {
  const lines = text.split(/\r?\n/);
  const startLine = lines[0].trim();
  const headerEnd = lines.findIndex((l, i) => i > 0 && l.trim() === '');
  const headerLines = lines.slice(1, headerEnd < 0 ? undefined : headerEnd);
  const headers = (name: string): string[] => {
    const n = name.toLowerCase();
    const out: string[] = [];
    for (const l of headerLines) {
      const colon = l.indexOf(':');
      if (colon > 0 && l.slice(0, colon).trim().toLowerCase() === n) out.push(l.slice(colon + 1).trim());
    }
    return out;
  };
  const status = /^SIP\/2\.0 (\d{3})/.exec(startLine);
  const cseq = headers('cseq')[0] ?? '';
  return {
    direction,
    at,
    startLine,
    method: status ? undefined : startLine.split(' ')[0],
    status: status ? Number(status[1]) : 0,
    cseqMethod: cseq.split(/\s+/)[1] ?? '',
    text,
    header: (name) => headers(name)[0],
    headers,
  };
}

function readStats(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  const rows = readFileSync(file, 'latin1').split('\n').filter((l) => l.trim());
  if (rows.length < 2) return {};
  const names = rows[0].split(';');
  const values = rows[rows.length - 1].split(';');
  const out: Record<string, string> = {};
  names.forEach((n, i) => n && (out[n] = values[i] ?? ''));
  return out;
}
