/**
 * Full calls per second through the transaction layer, in memory, on one
 * core: a UAC layer and a UAS layer joined by flows that serialise each
 * message, parse the bytes again and hand them to the peer layer. One call
 * is INVITE → 200 → ACK (stateless, for the 2xx) and BYE → 200: two client
 * and two server transactions, five messages serialised and parsed, the
 * UAS stamping received/rport into each request's Via (the UAC asks for
 * rport, as browsers do).
 *
 *   npx tsx bench/transaction-bench.ts [udp|tcp]   (or node dist/bench/transaction-bench.js after a build)
 *
 * T1 is 10 ms and T4 50 ms here (BENCH_T1 changes it), so that timers L,
 * M, J and K expire within the run and the maps stay at a steady size
 * instead of holding 32 s of calls; every timer is still created, cleared
 * or fired as in production. The event loop gets a turn after every batch
 * so that expired timers run, and that time is part of the measurement.
 *
 * Rates are calls per second of process CPU time (GC threads included):
 * the machines these run on are shared, and CPU time is far less disturbed
 * by other processes than wall time. Each is the median of 7 rounds of
 * 0.7 s after a warm-up, the rounds of the variants interleaved. The
 * "messages only" line builds, serialises and parses the same five
 * messages without any transaction layer, for scale. BENCH_PROFILE=1 runs
 * one long round of the transaction variant alone, for `node --cpu-prof`;
 * BENCH_NO_RPORT=1 leaves rport out of the UAC's Vias, so the UAS stamps
 * nothing.
 */
import { createResponse } from '../sip/message/create-response.js';
import { parseMessage } from '../sip/message/parser.js';
import { serializeMessage } from '../sip/message/serializer.js';
import { SipRequest } from '../sip/message/sip-request.js';
import type { SipResponse } from '../sip/message/sip-response.js';
import { TransactionLayer, type TransactionLayerHandler } from '../sip/transaction/transaction-layer.js';
import type { ClientTransaction, ClientTransactionUser, ServerTransaction } from '../sip/transaction/transaction-user.js';
import { type Endpoint, type Flow, type Transport, type TransportListener, type TransportProtocol, isReliable } from '../sip/transport/transport.js';
import { newBranch, newCallId, newTag } from '../sip/util/random.js';

/** Messages in flight: [receiving transport, the flow as the receiver sees it, bytes]. */
const wire: Array<[MemoryTransport, Flow, Uint8Array]> = [];

class MemoryFlow implements Flow {
  readonly reliable: boolean;
  readonly isOpen = true;
  /** The same path seen from the other side, and who is there. */
  peer!: MemoryFlow;
  peerTransport!: MemoryTransport;

  constructor(
    readonly id: string,
    readonly protocol: TransportProtocol,
    readonly local: { host: string; port: number },
    readonly remote: { host: string; port: number },
  ) {
    this.reliable = isReliable(protocol);
  }

  send(bytes: Uint8Array): boolean {
    wire.push([this.peerTransport, this.peer, bytes]);
    return true;
  }

  close(): void {}
}

class MemoryTransport implements Transport {
  readonly protocols: readonly TransportProtocol[] = ['UDP', 'TCP'];
  listener!: TransportListener;
  flow!: MemoryFlow;

  constructor(readonly address: { host: string; port: number }) {}

  listen(listener: TransportListener): void {
    this.listener = listener;
  }

  flowTo(_dest: Endpoint): Flow {
    return this.flow;
  }

  flowById(): Flow | undefined {
    return this.flow;
  }

  localAddress(): { host: string; port: number } {
    return this.address;
  }

  async close(): Promise<void> {}
}

function connect(protocol: TransportProtocol): [MemoryTransport, MemoryTransport] {
  const a = new MemoryTransport({ host: '192.0.2.1', port: 5060 });
  const b = new MemoryTransport({ host: '192.0.2.2', port: 5060 });
  const ab = new MemoryFlow('a-b', protocol, a.address, b.address);
  const ba = new MemoryFlow('b-a', protocol, b.address, a.address);
  ab.peer = ba;
  ab.peerTransport = b;
  ba.peer = ab;
  ba.peerTransport = a;
  a.flow = ab;
  b.flow = ba;
  return [a, b];
}

/** Delivers everything in flight, as the event loop would, until the wire is quiet. */
function pump(datagram: boolean): void {
  let m: [MemoryTransport, Flow, Uint8Array] | undefined;
  while ((m = wire.shift()) !== undefined) {
    const [to, flow, bytes] = m;
    to.listener.onMessage({ message: parseMessage(bytes, { datagram }), flow });
  }
}

/** The UAS: answers INVITE and BYE with 200 at once, takes the ACK. */
class Uas implements TransactionLayerHandler {
  acks = 0;
  onRequest(request: SipRequest, tx: ServerTransaction): void {
    const toTag = request.to.tag ?? newTag();
    const headers: Array<[string, string]> = request.method === 'INVITE' ? [['Contact', '<sip:wine@192.0.2.2:5060>']] : [];
    tx.respond(createResponse(request, 200, { toTag, headers }));
  }
  onAck(): void {
    this.acks++;
  }
}

/** The UAC: ACKs the 2xx, then sends BYE; counts calls whose BYE got its 200. */
class Uac implements ClientTransactionUser, TransactionLayerHandler {
  layer!: TransactionLayer;
  flow!: Flow;
  completed = 0;

  call(): void {
    const invite = new SipRequest(
      'INVITE',
      'sip:wine@portal.test',
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
    // §13.2.2.4: the UAC core ACKs the 2xx itself, outside the transaction.
    const invite = tx.request;
    const headers: Array<[string, string]> = [
      ['Max-Forwards', '70'],
      ['To', response.header('to') as string],
      ['From', invite.header('from') as string],
      ['Call-ID', invite.callId],
    ];
    const ack = new SipRequest('ACK', 'sip:wine@192.0.2.2:5060', [...headers, ['CSeq', '1 ACK']]);
    this.layer.prependVia(ack, this.flow, newBranch());
    this.layer.sendStateless(ack, this.flow);
    const bye = new SipRequest('BYE', 'sip:wine@192.0.2.2:5060', [...headers, ['CSeq', '2 BYE']]);
    this.layer.sendRequest(bye, this.flow, this);
  }

  onRequest(): void {}
  onAck(): void {}
}

const BATCH = 200;

/** CPU time of this process in ms (user + system, GC helper threads included). */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** A UAC and a UAS layer joined in memory; returns a function that runs calls for `ms` and gives calls per CPU second. */
function transactionRounds(protocol: TransportProtocol): (ms: number) => Promise<number> {
  const [a, b] = connect(protocol);
  const t1 = Number(process.env.BENCH_T1 ?? 10);
  const timers = { t1, t2: 4 * t1, t4: 5 * t1 };
  const uas = new Uas();
  const uac = new Uac();
  const uacLayer = new TransactionLayer({ transport: a, handler: uac, timers, rport: !process.env.BENCH_NO_RPORT });
  new TransactionLayer({ transport: b, handler: uas, timers });
  uac.layer = uacLayer;
  uac.flow = a.flow;
  const datagram = !isReliable(protocol);
  const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));
  return async (ms: number): Promise<number> => {
    const start = uac.completed;
    const t0 = performance.now();
    const c0 = cpuMs();
    while (performance.now() - t0 < ms) {
      for (let i = 0; i < BATCH; i++) {
        uac.call();
        pump(datagram);
      }
      await yieldLoop();
    }
    if (uas.acks !== uac.completed) throw new Error(`ACKs ${uas.acks} != calls ${uac.completed}`);
    return ((uac.completed - start) * 1000) / (cpuMs() - c0);
  };
}

/**
 * The same five messages built, serialised and parsed without any
 * transaction layer: what the call costs in the message layer alone, so
 * that the difference is what the transactions add.
 */
function messageRounds(): (ms: number) => Promise<number> {
  const via = 'SIP/2.0/UDP 192.0.2.1:5060;rport;branch=';
  const once = (): void => {
    const invite = new SipRequest('INVITE', 'sip:wine@portal.test', [
      ['Via', via + newBranch()],
      ['Max-Forwards', '70'],
      ['To', '<sip:wine@portal.test>'],
      ['From', '"Alice" <sip:alice@portal.test>;tag=' + newTag()],
      ['Call-ID', newCallId('192.0.2.1')],
      ['CSeq', '1 INVITE'],
      ['Contact', '<sip:alice@192.0.2.1:5060>'],
      ['Content-Type', 'application/vnd.siprelay.request+json'],
    ], '{"service":"wine","category":"red"}');
    const inviteIn = parseMessage(serializeMessage(invite)) as SipRequest;
    void inviteIn.topVia.branch;
    const ok = parseMessage(serializeMessage(createResponse(inviteIn, 200, { toTag: newTag(), headers: [['Contact', '<sip:wine@192.0.2.2:5060>']] }))) as SipResponse;
    void ok.topVia.branch;
    const headers: Array<[string, string]> = [
      ['Max-Forwards', '70'],
      ['To', ok.header('to') as string],
      ['From', invite.header('from') as string],
      ['Call-ID', invite.callId],
    ];
    const ack = new SipRequest('ACK', 'sip:wine@192.0.2.2:5060', [['Via', via + newBranch()], ...headers, ['CSeq', '1 ACK']]);
    void (parseMessage(serializeMessage(ack)) as SipRequest).topVia.branch;
    const bye = new SipRequest('BYE', 'sip:wine@192.0.2.2:5060', [['Via', via + newBranch()], ...headers, ['CSeq', '2 BYE']]);
    const byeIn = parseMessage(serializeMessage(bye)) as SipRequest;
    void (parseMessage(serializeMessage(createResponse(byeIn, 200))) as SipResponse).topVia.branch;
  };
  return async (ms: number): Promise<number> => {
    let n = 0;
    const t0 = performance.now();
    const c0 = cpuMs();
    while (performance.now() - t0 < ms) {
      for (let i = 0; i < BATCH; i++) once();
      n += BATCH;
    }
    return (n * 1000) / (cpuMs() - c0);
  };
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[xs.length >> 1];

async function main(): Promise<void> {
  console.log(`node ${process.version}, one core; a call = INVITE/200/ACK + BYE/200 through a UAC and a UAS transaction layer`);
  const only = process.argv[2]?.toUpperCase();
  const protocols = (['UDP', 'TCP'] as const).filter((p) => !only || only === p);
  const base = messageRounds();
  const tx = protocols.map((p) => transactionRounds(p));
  // Warm-up, then rounds interleaved so that the baseline and the
  // transaction runs see the same load on a shared machine.
  await base(1500);
  for (const run of tx) await run(1500);
  if (process.env.BENCH_PROFILE) {
    // One long run of the transaction variant alone, for --cpu-prof.
    for (const run of tx) console.log(Math.round(await run(5000)), 'calls/s');
    return;
  }
  const baseRates: number[] = [];
  const txRates: number[][] = tx.map(() => []);
  for (let r = 0; r < 7; r++) {
    baseRates.push(await base(700));
    for (let i = 0; i < tx.length; i++) txRates[i].push(await tx[i](700));
  }
  const b = median(baseRates);
  console.log(`${'messages only'.padEnd(22)} ${Math.round(b).toLocaleString('en-US').padStart(8)} calls/s  (${(1e6 / b).toFixed(1)} µs per call: build, serialise, parse the 5 messages)`);
  protocols.forEach((protocol, i) => {
    const rate = median(txRates[i]);
    const us = 1e6 / rate;
    console.log(
      `${('transactions, ' + protocol).padEnd(22)} ${Math.round(rate).toLocaleString('en-US').padStart(8)} calls/s  ` +
        `(${us.toFixed(1)} µs per call, ${(us - 1e6 / b).toFixed(1)} µs more than messages only; ${Math.round(rate * 4).toLocaleString('en-US')} transactions/s)`,
    );
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  void main();
}
