/**
 * `siprelay serve` in a child process, for the tests that kill it
 * (SIGKILL) or stop it (SIGTERM): fixed ports, so that a restarted relay
 * listens where the first one did, a SQLite file, and its log lines
 * (pino JSON on standard output) readable by the test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../../../server/cli/main.ts', import.meta.url));

export const ADMIN_TOKEN = 'relay-process-admin-token-0123456789';

/** A port free for both UDP and TCP on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  for (;;) {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise((resolve) => server.close(resolve));
    const udp = createSocket('udp4');
    const ok = await new Promise<boolean>((resolve) => {
      udp.once('error', () => resolve(false));
      udp.bind(port, '127.0.0.1', () => resolve(true));
    });
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    if (ok) return port;
  }
}

/** One pino log line of the relay. */
export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** A place for a relay process: its configuration file and SQLite database, reused across restarts. */
export class RelayProcessHome {
  readonly dir = mkdtempSync(join(tmpdir(), 'siprelay-process-'));
  readonly databaseUrl = `sqlite:${join(this.dir, 'relay.sqlite')}`;
  readonly configFile = join(this.dir, 'relay.yaml');
  udpPort = 0;
  httpPort = 0;

  /** Writes the configuration: `extra` is merged over the defaults of these tests. */
  async configure(extra: Record<string, unknown>): Promise<void> {
    this.udpPort = await freePort();
    const tcpPort = await freePort();
    this.httpPort = await freePort();
    const config = {
      domains: ['portal.test'],
      listeners: [
        { transport: 'udp', host: '127.0.0.1', port: this.udpPort },
        { transport: 'tcp', host: '127.0.0.1', port: tcpPort },
      ],
      http: { host: '127.0.0.1', port: this.httpPort },
      database: { url: this.databaseUrl },
      admin: { token: ADMIN_TOKEN },
      log: { level: 'info' },
      timers: { t1Ms: 100 },
      ...extra,
    };
    // YAML is a superset of JSON.
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
  }

  /** Starts `siprelay serve` and resolves once it logged `relay started`. */
  async start(nodeId = 'relay-node-a'): Promise<RelayProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'serve', '--config', this.configFile], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SIPRELAY_NODE_ID: nodeId },
    });
    const relay = new RelayProcess(child);
    await relay.waitForLog((l) => l.msg === 'relay started', 30_000);
    return relay;
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A running `siprelay serve`. */
export class RelayProcess {
  readonly logs: LogLine[] = [];
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];
  private buffer = '';

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
      for (const w of this.waiters.splice(0)) w();
    });
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  /** The first log line that satisfies `match`, waiting for it. */
  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`relay exited (${this.child.exitCode ?? this.child.signalCode}) before the log line: ${this.stderr}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no such log line within ${timeoutMs} ms; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
