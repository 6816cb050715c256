import * as dgram from 'node:dgram';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AppServerDirectory, type DirectoryEvents } from '../../../server/directory/app-server-directory.js';
import { serviceConfigSchema } from '../../../server/config/service-config.js';
import { parseSipUriStrict } from '../../../sip/grammar/uri.js';
import { createResponse } from '../../../sip/message/create-response.js';
import { parseMessage } from '../../../sip/message/parser.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import { TransactionLayer } from '../../../sip/transaction/transaction-layer.js';

/**
 * Health probing over real UDP on loopback: the relay's NodeTransport and
 * TransactionLayer (T1 shrunk to 20 ms) probe a tiny application server
 * that answers OPTIONS, answers 503, or stays silent.
 */
class Responder {
  mode: 'answer' | 'silent' | 'busy' = 'answer';
  /** Call-IDs of the OPTIONS received, one entry per datagram (retransmissions repeat). */
  readonly received: string[] = [];
  readonly socket = dgram.createSocket('udp4');

  async start(): Promise<number> {
    this.socket.on('message', (bytes, rinfo) => {
      let m;
      try {
        m = parseMessage(bytes);
      } catch {
        return;
      }
      if (!m.isRequest || m.method !== 'OPTIONS') return;
      this.received.push(m.callId);
      if (this.mode === 'silent') return;
      const res = createResponse(m, this.mode === 'answer' ? 200 : 503, { toTag: 'srv' });
      this.socket.send(serializeMessage(res), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this.socket.address().port;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

function nextEvent<K extends keyof DirectoryEvents>(d: AppServerDirectory, type: K, timeoutMs = 3000): Promise<DirectoryEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${String(type)} event within ${timeoutMs} ms`)), timeoutMs);
    const off = d.on(type, (e) => {
      clearTimeout(timer);
      off();
      resolve(e);
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `condition` holds, polling; fails after `timeoutMs` (generous: the machine may be loaded). */
async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('AppServerDirectory probing over loopback UDP', () => {
  let transport: NodeTransport;
  let layer: TransactionLayer;
  let responder: Responder;
  let port: number;
  let directory: AppServerDirectory | undefined;

  beforeEach(async () => {
    transport = new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    layer = new TransactionLayer({
      transport,
      timers: { t1: 20, t2: 80, t4: 100 },
      handler: { onRequest: (req, tx) => tx.respond(createResponse(req, 405)), onAck() {} },
    });
    await transport.start();
    responder = new Responder();
    port = await responder.start();
  });

  afterEach(async () => {
    directory?.close();
    await layer.close();
    await responder.close();
  });

  function start(staticUri?: string): AppServerDirectory {
    directory = new AppServerDirectory({
      services: [serviceConfigSchema.parse({ name: 'wine' })],
      staticTargets: staticUri ? [{ service: 'wine', uri: staticUri, appServer: 'cellar' }] : [],
      transactions: layer,
      probeIntervalMs: 100,
      probeRetryIntervalMs: 50,
      probeTimeoutMs: 150,
      probeFrom: 'sip:siprelay@portal.test',
    });
    directory.start();
    return directory;
  }

  it('marks a target that stops answering down, stops routing to it, and routes again when it answers', async () => {
    const d = start(`sip:wine@127.0.0.1:${port}`);
    await until(() => new Set(responder.received).size >= 2);
    expect(d.lookup('wine').targets).toHaveLength(1);

    responder.mode = 'silent';
    const down = await nextEvent(d, 'down');
    expect(down).toMatchObject({ service: 'wine', appServer: 'cellar', uri: `sip:wine@127.0.0.1:${port}`, reason: 'timeout', up: false });
    expect(d.lookup('wine')).toMatchObject({ targets: [], unavailable: 1 });
    expect(d.retryAfterSeconds('wine')).toBeGreaterThanOrEqual(1);

    responder.mode = 'answer';
    const up = await nextEvent(d, 'up');
    expect(up).toMatchObject({ uri: `sip:wine@127.0.0.1:${port}`, up: true, lastStatus: 200 });
    expect(d.lookup('wine')).toMatchObject({ unavailable: 0 });
    expect(d.lookup('wine').targets).toHaveLength(1);
  });

  it('keeps one probe in flight while a silent target’s transaction retransmits', async () => {
    responder.mode = 'silent';
    const d = start(`sip:wine@127.0.0.1:${port}`);
    await nextEvent(d, 'down');
    // Timer F is 64*T1 = 1280 ms; the retry interval (50 ms) must not start new probes meanwhile.
    await sleep(600);
    expect(new Set(responder.received).size).toBe(1);
    expect(responder.received.length).toBeGreaterThan(2); // retransmissions of that one probe
  });

  it('takes a 503 answer as down', async () => {
    responder.mode = 'busy';
    const d = start(`sip:wine@127.0.0.1:${port}`);
    const down = await nextEvent(d, 'down');
    expect(down).toMatchObject({ reason: 'status', lastStatus: 503 });
  });

  it('probes a registered target over the flow it registered on, not its Contact address', async () => {
    const d = start();
    const flow = transport.flowTo({ protocol: 'UDP', host: '127.0.0.1', port });
    // The Contact names an address behind NAT that the relay cannot reach; the flow (received address) can.
    d.setRegistrations('cellar', 'wine', 1, [
      { uri: parseSipUriStrict('sip:wine@10.255.255.1:5070'), flowId: flow.id, flowBound: false, expiresAt: Date.now() + 60_000 },
    ]);
    await until(() => new Set(responder.received).size >= 2);
    expect(d.lookup('wine').targets).toHaveLength(1);
    responder.mode = 'silent';
    await nextEvent(d, 'down');
    expect(d.lookup('wine')).toMatchObject({ targets: [], unavailable: 1 });
  });
});
