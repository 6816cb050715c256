/**
 * Runs SIPp (Debian `sip-tester`) as a child process on loopback for the
 * peer tests, and reads back what it did: exit code, `-trace_msg` log
 * (every message sent and received, with times) and `-trace_stat` CSV.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The sipp executable on PATH, or undefined when it is not installed. */
export const SIPP: string | undefined = (() => {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, 'sipp');
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
})();

/** Why the SIPp tests are skipped, or undefined when they run. */
export const SIPP_SKIP_REASON: string | undefined = SIPP ? undefined : 'sipp is not on PATH (Debian: apt-get install sip-tester; .ci/run installs it)';

export type SippProtocol = 'UDP' | 'TCP';

/** One message in SIPp's `-trace_msg` log. */
export interface SippMessage {
  direction: 'sent' | 'received';
  /** Milliseconds since the epoch, from the log's time stamp. */
  at: number;
  /** `INVITE sip:…`, `SIP/2.0 200 OK`. */
  startLine: string;
  text: string;
}

export interface SippResult {
  /** SIPp's exit code: 0 when every call succeeded (1 when one failed, 97/99/255 for other ends). */
  code: number | null;
  /** What SIPp wrote on stdout and stderr, for failure messages. */
  output: string;
  messages: SippMessage[];
  /** The last row of the `-trace_stat` CSV by column (`SuccessfulCall(C)`, `FailedCall(C)`…). */
  stats: Record<string, string>;
}

export interface SippOptions {
  /** Scenario file name in `test/sipp/scenarios/`, without `.xml`. */
  scenario: string;
  protocol: SippProtocol;
  /** For a UAC scenario: where to send (our core). */
  remote?: { host: string; port: number };
  /** The `-s` service (Request-URI user). */
  service?: string;
  /** SIPp's own port; 0 lets it choose (fine for a UAC). */
  port: number;
  /** `-nr`: no SIPp retransmissions and no retransmission detection (see the scenarios). */
  noRetransmission?: boolean;
  /** Global timeout in seconds, after which SIPp fails. Default 15. */
  timeoutS?: number;
}

const SCENARIOS = fileURLToPath(new URL('./scenarios/', import.meta.url));

/** A running SIPp. */
export class SippProcess {
  readonly done: Promise<SippResult>;
  private readonly child: ChildProcess;

  private constructor(options: SippOptions, private readonly dir: string) {
    const messageFile = join(dir, 'messages.log');
    const statFile = join(dir, 'stats.csv');
    const args: string[] = [];
    if (options.remote) args.push(`${options.remote.host}:${options.remote.port}`);
    args.push('-sf', join(SCENARIOS, options.scenario + '.xml'));
    args.push('-i', '127.0.0.1', '-p', String(options.port));
    args.push('-t', options.protocol === 'UDP' ? 'u1' : 't1');
    args.push('-s', options.service ?? 'service');
    args.push('-m', '1', '-nostdin');
    args.push('-timeout', String(options.timeoutS ?? 15), '-timeout_error');
    args.push('-trace_msg', '-message_file', messageFile, '-trace_stat', '-stf', statFile);
    if (options.noRetransmission) args.push('-nr');
    this.child = spawn(SIPP as string, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    this.child.stdout?.on('data', (d: Buffer) => (output += d.toString('latin1')));
    this.child.stderr?.on('data', (d: Buffer) => (output += d.toString('latin1')));
    this.done = new Promise<SippResult>((resolve) => {
      this.child.on('error', (e) => resolve({ code: -1, output: output + String(e), messages: [], stats: {} }));
      this.child.on('exit', (code) => {
        const result: SippResult = { code, output: output.slice(-4000), messages: readMessages(messageFile), stats: readStats(statFile) };
        rmSync(dir, { recursive: true, force: true });
        resolve(result);
      });
    });
  }

  /**
   * Starts SIPp. A UAS scenario is awaited until its socket is bound, so
   * that the first INVITE finds it (on Linux by reading /proc/net; else
   * after a short delay).
   */
  static async start(options: SippOptions): Promise<SippProcess> {
    if (!SIPP) throw new Error(SIPP_SKIP_REASON);
    const p = new SippProcess(options, mkdtempSync(join(tmpdir(), 'siprelay-sipp-')));
    if (!options.remote) await waitUntilBound(options.protocol, options.port);
    return p;
  }

  /** Stops SIPp if it still runs (after a failed assertion). */
  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** A port free on 127.0.0.1 for `protocol` at the time of asking. */
export async function freePort(protocol: SippProtocol): Promise<number> {
  if (protocol === 'TCP') {
    return new Promise((resolve, reject) => {
      const server = createServer();
      server.on('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/** The start lines of the messages SIPp sent or received, in order. */
export function startLines(result: SippResult, direction: 'sent' | 'received'): string[] {
  return result.messages.filter((m) => m.direction === direction).map((m) => m.startLine);
}

/** A readable account of a SIPp run, for assertion messages. */
export function describeRun(result: SippResult): string {
  const lines = result.messages.map((m) => `${m.direction === 'sent' ? '>' : '<'} ${m.startLine}`).join('\n');
  return `sipp exit ${result.code}\n${lines}\n--- sipp output (tail) ---\n${result.output}`;
}

async function waitUntilBound(protocol: SippProtocol, port: number): Promise<void> {
  const tables = protocol === 'UDP' ? ['/proc/net/udp', '/proc/net/udp6'] : ['/proc/net/tcp', '/proc/net/tcp6'];
  if (!existsSync(tables[0])) {
    await sleep(500);
    return;
  }
  const hex = ':' + port.toString(16).toUpperCase().padStart(4, '0');
  for (let i = 0; i < 250; i++) {
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

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Parses SIPp's message log: blocks after `----- <date> <time>` lines. */
function readMessages(file: string): SippMessage[] {
  if (!existsSync(file)) return [];
  const out: SippMessage[] = [];
  const blocks = readFileSync(file, 'latin1').split(/^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)\s*$/m);
  for (let i = 1; i + 1 < blocks.length; i += 2) {
    const at = Date.parse(blocks[i].replace(' ', 'T').slice(0, 23) + 'Z');
    const body = blocks[i + 1];
    const head = /^\s*(UDP|TCP) message (sent|received)[^\n]*\n/.exec(body);
    if (!head) continue;
    const text = body.slice(head[0].length).replace(/^\s*\n/, '');
    const startLine = text.split(/\r?\n/, 1)[0].trim();
    out.push({ direction: head[2] as 'sent' | 'received', at, startLine, text });
  }
  return out;
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
