/**
 * An in-memory IP network for user-agent tests: nodes with addresses,
 * flows that serialise what they send, and a queue that hands the bytes,
 * parsed again by `parseMessage`, to the receiving node's transport
 * listener when the test pumps it. Time is a ManualClock shared by every
 * core, so tests drive retransmissions and timeouts by hand.
 */
import { parseMessage } from '../../../sip/message/parser.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import { serializeMessage } from '../../../sip/message/serializer.js';
import {
  type Endpoint,
  type Flow,
  type Transport,
  TransportError,
  type TransportListener,
  type TransportProtocol,
  isReliable,
} from '../../../sip/transport/transport.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { UserAgentCore, type UserAgentCoreOptions } from '../../../sip/ua/user-agent-core.js';

/** One message that crossed the network, for assertions. */
export interface Delivery {
  from: string;
  to: string;
  protocol: TransportProtocol;
  message: SipRequest | SipResponse;
}

type Dropper = (d: Delivery) => boolean;

let flowSeq = 0;

export class NetFlow implements Flow {
  readonly id = 'mem-' + ++flowSeq;
  readonly reliable: boolean;
  isOpen = true;
  constructor(
    private readonly net: InMemoryNetwork,
    readonly owner: NetNode,
    readonly protocol: TransportProtocol,
    readonly remote: { host: string; port: number },
  ) {
    this.reliable = isReliable(protocol);
  }

  get local(): { host: string; port: number } {
    return { host: this.owner.host, port: this.owner.port };
  }

  send(bytes: Uint8Array): boolean {
    if (!this.isOpen) return false;
    this.net.enqueue(this, bytes);
    return true;
  }

  close(): void {
    if (this.reliable) this.isOpen = false;
  }
}

export class NetNode implements Transport {
  listener: TransportListener | undefined;
  private readonly flows = new Map<string, NetFlow>();
  closed = false;

  constructor(
    private readonly net: InMemoryNetwork,
    readonly name: string,
    readonly host: string,
    readonly port: number,
    readonly protocols: readonly TransportProtocol[],
  ) {}

  listen(listener: TransportListener): void {
    this.listener = listener;
  }

  flowTo(dest: Endpoint): NetFlow {
    if (!this.protocols.includes(dest.protocol)) throw new TransportError('SIP_ERR_TRANSPORT_UNAVAILABLE', `no ${dest.protocol}`);
    const key = dest.protocol + ' ' + dest.host + ':' + dest.port;
    let flow = this.flows.get(key);
    if (!flow || !flow.isOpen) {
      flow = new NetFlow(this.net, this, dest.protocol, { host: dest.host, port: dest.port });
      this.flows.set(key, flow);
    }
    return flow;
  }

  flowById(id: string): Flow | undefined {
    for (const f of this.flows.values()) if (f.id === id && f.isOpen) return f;
    return undefined;
  }

  localAddress(): { host: string; port: number } {
    return { host: this.host, port: this.port };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class InMemoryNetwork {
  readonly clock = new ManualClock();
  /** Every message delivered (or dropped: see `dropped`), in order. */
  readonly deliveries: Delivery[] = [];
  readonly dropped: Delivery[] = [];
  /** Return true to drop a message on the wire (it is recorded in `dropped`). */
  drop: Dropper | undefined;
  private readonly nodes = new Map<string, NetNode>();
  private queue: Array<{ flow: NetFlow; bytes: Uint8Array }> = [];

  node(name: string, host: string, port = 5060, protocols: readonly TransportProtocol[] = ['UDP', 'TCP']): NetNode {
    const n = new NetNode(this, name, host, port, protocols);
    this.nodes.set(host + ':' + port, n);
    return n;
  }

  /** A user-agent core on a new node. */
  core(name: string, host: string, options: Partial<UserAgentCoreOptions> = {}, port = 5060): UserAgentCore {
    const transport = this.node(name, host, port);
    return new UserAgentCore({ aor: `sip:${name}@${host}`, clock: this.clock, ...options, transport });
  }

  /** @internal */
  enqueue(flow: NetFlow, bytes: Uint8Array): void {
    this.queue.push({ flow, bytes });
  }

  /** Delivers queued messages, and those they cause, until none is left. */
  pump(): void {
    for (let guard = 0; this.queue.length && guard < 100_000; guard++) {
      const { flow, bytes } = this.queue.shift() as { flow: NetFlow; bytes: Uint8Array };
      const to = this.nodes.get(flow.remote.host + ':' + flow.remote.port);
      const message = parseMessage(bytes);
      const d: Delivery = { from: flow.owner.name, to: to?.name ?? `${flow.remote.host}:${flow.remote.port}`, protocol: flow.protocol, message };
      if (!to || to.closed || this.drop?.(d)) {
        this.dropped.push(d);
        continue;
      }
      this.deliveries.push(d);
      const back = to.flowTo({ protocol: flow.protocol, host: flow.owner.host, port: flow.owner.port });
      to.listener?.onMessage({ message, flow: back });
    }
  }

  /** Pumps and lets Promise continuations run, until both are quiet. */
  async settle(): Promise<void> {
    for (let i = 0; i < 25; i++) {
      this.pump();
      await Promise.resolve();
    }
    this.pump();
  }

  /** Moves the clock forward by `ms` in steps, settling after each. */
  async advance(ms: number, step = 50): Promise<void> {
    let left = ms;
    while (left > 0) {
      const d = Math.min(step, left);
      this.clock.advance(d);
      left -= d;
      await this.settle();
    }
  }

  /** Start lines of the deliveries between two nodes (either way when `to` is omitted), in order. */
  lines(from?: string, to?: string): string[] {
    return this.deliveries.filter((d) => (from === undefined || d.from === from) && (to === undefined || d.to === to)).map((d) => summary(d.message));
  }

  /** Messages delivered from `from` to `to` whose summary starts with `prefix`. */
  find(from: string, to: string, prefix: string): Array<SipRequest | SipResponse> {
    return this.deliveries.filter((d) => d.from === from && d.to === to && summary(d.message).startsWith(prefix)).map((d) => d.message);
  }

  /** Forgets what was delivered so far. */
  clear(): void {
    this.deliveries.length = 0;
    this.dropped.length = 0;
  }
}

/** `INVITE` for a request, `200 INVITE` for a response. */
export function summary(m: SipRequest | SipResponse): string {
  return m.isRequest ? m.method : `${m.status} ${m.cseq.method}`;
}

/** Re-serialises a message for sending by a test double. */
export function wire(m: SipRequest | SipResponse): Uint8Array {
  return serializeMessage(m);
}
