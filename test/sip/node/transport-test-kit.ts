/**
 * Helpers shared by the transport tests: SIP message text, a listener that
 * records what a transport reports, raw client sockets, and a self-signed
 * certificate made for the test run.
 */
import * as net from 'node:net';
import { generate } from 'selfsigned';
import { WebSocket } from 'ws';
import type { Flow, InboundError, InboundMessage, TransportListener } from '../../../sip/transport/transport.js';

let seq = 0;

export interface RequestTextOptions {
  method?: string;
  uri?: string;
  via?: string;
  callId?: string;
  body?: string;
  /** Content-Length to write: a number, `'auto'` (the body's length, the default) or `'none'` to leave it out. */
  contentLength?: number | 'auto' | 'none';
}

/** A well-formed request as wire text. */
export function requestText(o: RequestTextOptions = {}): string {
  const method = o.method ?? 'OPTIONS';
  const body = o.body ?? '';
  const n = ++seq;
  const lines = [
    `${method} ${o.uri ?? 'sip:service@relay.test'} SIP/2.0`,
    `Via: ${o.via ?? 'SIP/2.0/UDP client.test:5070'};branch=z9hG4bK-test-${n}`,
    'Max-Forwards: 70',
    'From: <sip:alice@relay.test>;tag=from' + n,
    'To: <sip:service@relay.test>',
    `Call-ID: ${o.callId ?? 'call-' + n + '@client.test'}`,
    `CSeq: 1 ${method}`,
    'Contact: <sip:alice@client.test:5070>',
  ];
  if (body) lines.push('Content-Type: text/plain');
  const cl = o.contentLength ?? 'auto';
  if (cl === 'auto') lines.push('Content-Length: ' + Buffer.byteLength(body));
  else if (cl !== 'none') lines.push('Content-Length: ' + cl);
  return lines.join('\r\n') + '\r\n\r\n' + body;
}

/** A 200 OK response as wire text. */
export function responseText(o: { status?: number; via?: string; callId?: string } = {}): string {
  const n = ++seq;
  return [
    `SIP/2.0 ${o.status ?? 200} OK`,
    `Via: ${o.via ?? 'SIP/2.0/UDP client.test:5070'};branch=z9hG4bK-resp-${n}`,
    'From: <sip:alice@relay.test>;tag=from' + n,
    'To: <sip:service@relay.test>;tag=to' + n,
    `Call-ID: ${o.callId ?? 'call-' + n + '@client.test'}`,
    'CSeq: 1 OPTIONS',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A FIFO that hands items to whoever waits for them. */
export class Inbox<T> {
  readonly items: T[] = [];
  private taken = 0;
  private waiters: Array<(item: T) => void> = [];

  push(item: T): void {
    this.items.push(item);
    const w = this.waiters.shift();
    if (w) {
      this.taken++;
      w(item);
    }
  }

  /** The next item not yet taken, waiting up to `timeoutMs`. */
  next(timeoutMs = 3000): Promise<T> {
    if (this.taken < this.items.length) return Promise.resolve(this.items[this.taken++]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`nothing arrived within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = (item: T): void => {
        clearTimeout(timer);
        resolve(item);
      };
      this.waiters.push(waiter);
    });
  }
}

/** A TransportListener that records everything. */
export class RecordingListener implements TransportListener {
  readonly messages = new Inbox<InboundMessage>();
  readonly errors = new Inbox<InboundError>();
  readonly closed = new Inbox<Flow>();

  onMessage(inbound: InboundMessage): void {
    this.messages.push(inbound);
  }

  onParseError(inbound: InboundError): void {
    this.errors.push(inbound);
  }

  onFlowClosed(flow: Flow): void {
    this.closed.push(flow);
  }
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves after `ms` of real time (for asserting that nothing happens). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A raw TCP client that collects what it receives. */
export class RawClient {
  received = Buffer.alloc(0);
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  write(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Waits until the server closed the connection. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    await waitFor(() => this.closed, timeoutMs, 'the server to close the connection');
  }

  /** Waits until the received text contains `s`. */
  async waitReceived(s: string, timeoutMs = 3000): Promise<void> {
    await waitFor(() => this.received.toString('latin1').includes(s), timeoutMs, JSON.stringify(s));
  }

  destroy(): void {
    this.socket.destroy();
  }
}

let cached: Promise<{ cert: string; key: string }> | undefined;

/** A self-signed certificate for localhost, 127.0.0.1 and ::1, made once per test file. */
export function selfSignedCert(): Promise<{ cert: string; key: string }> {
  cached ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  }).then((p) => ({ cert: p.cert, key: p.private }));
  return cached;
}

/** A `ws` client that records frames. */
export class WsClient {
  readonly frames = new Inbox<{ text: string; data: Buffer; isBinary: boolean }>();
  closeCode: number | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.frames.push({ text: data.toString('latin1'), data, isBinary }));
    ws.on('close', (code) => {
      this.closeCode = code;
    });
    ws.on('error', () => {});
  }

  /** Opens `url` offering `protocols`; rejects with the HTTP status when the handshake is refused. */
  static connect(url: string, protocols: string | string[] = 'sip', options: WebSocket.ClientOptions = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, protocols, options);
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`handshake refused: ${res.statusCode}`), { status: res.statusCode }));
        ws.terminate();
      });
      ws.once('error', reject);
    });
  }

  send(data: string | Buffer, binary = typeof data !== 'string'): void {
    this.ws.send(data, { binary });
  }

  async waitClosed(timeoutMs = 3000): Promise<number> {
    await waitFor(() => this.closeCode !== undefined, timeoutMs, 'the WebSocket to close');
    return this.closeCode!;
  }

  close(): void {
    this.ws.terminate();
  }
}
