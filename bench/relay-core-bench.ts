/**
 * Calls per second through the relay core, in memory, on one core: a UAC
 * transaction layer, the relay core (authentication, routing, directory,
 * identity assertion and accounting as instant fakes; the proxy core, the
 * dialog registry and the Record-Route tokens for real), and a UAS layer,
 * joined by flows that serialise each message and parse the bytes again.
 * One call is INVITE → 100 (the relay's) → 200 → ACK → BYE → 200, routed
 * by the Record-Route the relay signed: the relay receives 5 messages and
 * sends 6, with two server and two client transactions.
 *
 *   npx tsx bench/relay-core-bench.ts   (or node dist/bench/relay-core-bench.js after a build)
 *
 * T1 is 10 ms (BENCH_T1 changes it), so that the transaction timers expire
 * within the run and the maps stay at a steady size. Rates are calls per
 * second of process CPU time, median of 7 rounds of 0.7 s after a
 * warm-up: the machines are shared, and CPU time is less disturbed by
 * other processes than wall time. The "user agents only" line runs the
 * same call between the UAC and the UAS directly, so that the difference
 * is what the relay adds. BENCH_PROFILE=1 runs one long round of the relay
 * variant alone, for `node --cpu-prof`.
 */
import { relayConfigSchema } from '../server/config/relay-config-schema.js';
import { serviceConfigSchema } from '../server/config/service-config.js';
import { RelayCore } from '../server/relay-core.js';
import type { AuthOutcome, ServiceLookup, ServiceTarget } from '../server/relay-ports.js';
import { parseSipUriStrict } from '../sip/grammar/uri.js';
import { createResponse } from '../sip/message/create-response.js';
import { parseMessage } from '../sip/message/parser.js';
import { SipRequest } from '../sip/message/sip-request.js';
import type { SipResponse } from '../sip/message/sip-response.js';
import { TransactionLayer, type TransactionLayerHandler } from '../sip/transaction/transaction-layer.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from '../sip/transaction/transaction-user.js';
import type { Endpoint, Flow, Transport, TransportListener, TransportProtocol } from '../sip/transport/transport.js';
import { newBranch, newCallId, newTag } from '../sip/util/random.js';

/** Messages in flight: [receiving transport, the flow as the receiver sees it, bytes]. */
const wire: Array<[MemoryTransport, Flow, Uint8Array]> = [];

class MemoryFlow implements Flow {
  readonly protocol = 'UDP' as const;
  readonly reliable = false;
  readonly isOpen = true;
  peer!: MemoryFlow;
  constructor(
    readonly id: string,
    readonly owner: MemoryTransport,
    readonly local: { host: string; port: number },
    readonly remote: { host: string; port: number },
  ) {}
  send(bytes: Uint8Array): boolean {
    wire.push([this.peer.owner, this.peer, bytes]);
    return true;
  }
  close(): void {}
}

const hosts = new Map<string, MemoryTransport>();

class MemoryTransport implements Transport {
  readonly protocols: readonly TransportProtocol[] = ['UDP'];
  listener!: TransportListener;
  private readonly flows = new Map<string, MemoryFlow>();
  constructor(readonly address: { host: string; port: number }) {
    hosts.set(address.host, this);
  }
  listen(listener: TransportListener): void {
    this.listener = listener;
  }
  flowTo(dest: Endpoint): Flow {
    return this.flowToHost(dest.host);
  }
  flowToHost(host: string): MemoryFlow {
    let flow = this.flows.get(host);
    if (flow) return flow;
    const other = hosts.get(host);
    if (!other) throw new Error(`no host ${host}`);
    flow = new MemoryFlow(`udp/${this.address.host}:5060/${host}:5060`, this, this.address, other.address);
    const back = new MemoryFlow(`udp/${host}:5060/${this.address.host}:5060`, other, other.address, this.address);
    flow.peer = back;
    back.peer = flow;
    this.flows.set(host, flow);
    other.flows.set(this.address.host, back);
    return flow;
  }
  flowById(id: string): Flow | undefined {
    for (const f of this.flows.values()) if (f.id === id) return f;
    return undefined;
  }
  localAddress(): { host: string; port: number } {
    return this.address;
  }
  async close(): Promise<void> {}
}

function pump(): void {
  let m: [MemoryTransport, Flow, Uint8Array] | undefined;
  while ((m = wire.shift()) !== undefined) {
    const [to, flow, bytes] = m;
    to.listener.onMessage({ message: parseMessage(bytes, { datagram: true }), flow });
  }
}

/** The application server: 200 to INVITE with the Record-Route copied (§12.1.1), 200 to BYE. */
class Uas implements TransactionLayerHandler {
  acks = 0;
  onRequest(request: SipRequest, tx: ServerTransaction): void {
    const headers: Array<[string, string]> = [];
    if (request.method === 'INVITE') {
      for (const rr of request.headerLines('record-route')) headers.push(['Record-Route', rr]);
      headers.push(['Contact', '<sip:wine@192.0.2.2:5060>']);
    }
    tx.respond(createResponse(request, 200, { toTag: request.to.tag ?? newTag(), headers, body: request.method === 'INVITE' ? '{"url":"https://wine.test/s/1"}' : undefined, contentType: 'application/vnd.siprelay.service+json' }));
  }
  onAck(): void {
    this.acks++;
  }
}

/** The client: INVITE to the relay (or straight to the UAS), ACK and BYE along the route set of the 2xx. */
class Uac implements ClientTransactionUser, TransactionLayerHandler {
  layer!: TransactionLayer;
  flow!: Flow;
  completed = 0;
  constructor(readonly ruri: string) {}

  call(): void {
    const invite = new SipRequest(
      'INVITE',
      this.ruri,
      [
        ['Max-Forwards', '70'],
        ['To', '<sip:wine@portal.test>'],
        ['From', '"Alice" <sip:alice@portal.test>;tag=' + newTag()],
        ['Call-ID', newCallId('192.0.2.1')],
        ['CSeq', '1 INVITE'],
        ['Contact', '<sip:alice@192.0.2.1:5060>'],
        ['Content-Type', 'application/vnd.siprelay.request+json'],
      ],
      '{"service":"wine","category":"red"}',
    );
    this.layer.sendInvite(invite, this.flow, this);
  }

  onResponse(response: SipResponse, tx: ClientTransaction): void {
    if (response.status < 200) return;
    if (!tx.isInvite) {
      this.completed++;
      return;
    }
    const invite = tx.request;
    const headers: Array<[string, string]> = [];
    // §12.1.2: the route set is the Record-Route of the 2xx, reversed.
    const rr = response.headerList('record-route');
    for (let i = rr.length - 1; i >= 0; i--) headers.push(['Route', rr[i]]);
    headers.push(['Max-Forwards', '70'], ['To', response.header('to') as string], ['From', invite.header('from') as string], ['Call-ID', invite.callId]);
    const target = 'sip:wine@192.0.2.2:5060';
    const ack = new SipRequest('ACK', target, [...headers, ['CSeq', '1 ACK']]);
    this.layer.prependVia(ack, this.flow, newBranch());
    this.layer.sendStateless(ack, this.flow);
    this.layer.sendRequest(new SipRequest('BYE', target, [...headers, ['CSeq', '2 BYE']]), this.flow, this);
  }

  onRequest(): void {}
  onAck(): void {}
}

const BATCH = 100;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

type Rounds = (ms: number) => Promise<number>;

function rounds(uac: Uac, uas: Uas): Rounds {
  return async (ms: number): Promise<number> => {
    const start = uac.completed;
    const t0 = performance.now();
    const c0 = cpuMs();
    while (performance.now() - t0 < ms) {
      for (let i = 0; i < BATCH; i++) uac.call();
      // Authentication resolves on the microtask queue: pump until the wire stays quiet.
      do {
        pump();
        await yieldLoop();
      } while (wire.length);
    }
    if (uas.acks !== uac.completed) throw new Error(`ACKs ${uas.acks} != calls ${uac.completed}`);
    return ((uac.completed - start) * 1000) / (cpuMs() - c0);
  };
}

function relayRounds(): Rounds {
  const t1 = Number(process.env.BENCH_T1 ?? 10);
  const timers = { t1, t2: 4 * t1, t4: 5 * t1 };
  const client = new MemoryTransport({ host: '192.0.2.1', port: 5060 });
  const relayTransport = new MemoryTransport({ host: '192.0.2.10', port: 5060 });
  const server = new MemoryTransport({ host: '192.0.2.2', port: 5060 });
  const uac = new Uac('sip:wine@portal.test');
  const uas = new Uas();
  uac.layer = new TransactionLayer({ transport: client, handler: uac, timers });
  uac.flow = client.flowToHost('192.0.2.10');
  new TransactionLayer({ transport: server, handler: uas, timers });
  const party = { kind: 'subscriber' as const, id: 1, username: 'alice', domain: 'portal.test' };
  const authenticated: AuthOutcome = { kind: 'authenticated', party };
  const target: ServiceTarget = { appServer: 'wine-shop', uri: parseSipUriStrict('sip:wine@192.0.2.2:5060'), flowId: undefined, weight: 1, source: 'static', load: 0 };
  const lookup: ServiceLookup = { known: true, service: serviceConfigSchema.parse({ name: 'wine' }), targets: [target], unavailable: 0 };
  new RelayCore({
    transport: relayTransport,
    config: relayConfigSchema.parse({ domains: ['portal.test'], timers: { t1Ms: t1, t2Ms: 4 * t1, t4Ms: 5 * t1 } }),
    authenticator: { authenticate: () => Promise.resolve(authenticated) },
    registrar: { register: () => Promise.reject(new Error('no REGISTER in this benchmark')) },
    location: { lookup: () => Promise.resolve([]), flowClosed: () => {} },
    directory: { lookup: () => lookup, adjustLoad: () => {}, retryAfterSeconds: () => 5 },
    routing: { route: () => ({ service: 'wine', facts: { user: 'alice' }, rule: 'bench' }) },
    identity: {
      stripClientIdentity: (r) => void r.removeHeader('p-asserted-identity'),
      assert: (b, c) => {
        b.addHeader('P-Asserted-Identity', '<sip:alice@portal.test>');
        b.addHeader('Session-ID', c.sessionId);
      },
    },
    observer: { answered: () => {}, started: () => {}, ended: () => {} },
    onError: (e) => {
      throw e;
    },
  });
  return rounds(uac, uas);
}

function directRounds(): Rounds {
  const t1 = Number(process.env.BENCH_T1 ?? 10);
  const timers = { t1, t2: 4 * t1, t4: 5 * t1 };
  const client = new MemoryTransport({ host: '198.51.100.1', port: 5060 });
  const server = new MemoryTransport({ host: '198.51.100.2', port: 5060 });
  const uac = new Uac('sip:wine@198.51.100.2:5060');
  const uas = new Uas();
  uac.layer = new TransactionLayer({ transport: client, handler: uac, timers });
  uac.flow = client.flowToHost('198.51.100.2');
  new TransactionLayer({ transport: server, handler: uas, timers });
  return rounds(uac, uas);
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1];

async function main(): Promise<void> {
  console.log(`node ${process.version}, one core; a call = INVITE/100/200/ACK + BYE/200 from a UAC through the relay core to a UAS`);
  const relay = relayRounds();
  if (process.env.BENCH_PROFILE) {
    await relay(1500);
    console.log(Math.round(await relay(8000)), 'calls/s');
    return;
  }
  const direct = directRounds();
  await direct(1500);
  await relay(1500);
  const d: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < 7; i++) {
    d.push(await direct(700));
    r.push(await relay(700));
  }
  const dm = median(d);
  const rm = median(r);
  console.log(`${'user agents only'.padEnd(18)} ${Math.round(dm).toLocaleString('en-US').padStart(8)} calls/s  (${(1e6 / dm).toFixed(1)} µs per call)`);
  console.log(
    `${'through the relay'.padEnd(18)} ${Math.round(rm).toLocaleString('en-US').padStart(8)} calls/s  (${(1e6 / rm).toFixed(1)} µs per call, ${(1e6 / rm - 1e6 / dm).toFixed(1)} µs for the relay)`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
