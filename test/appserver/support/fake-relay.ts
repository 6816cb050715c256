/**
 * A stand-in for the relay in SDK unit tests: a user-agent core of our own
 * SIP stack on loopback (UDP and TCP, ports the system picks) that plays
 * the relay's part toward one application server — it challenges and takes
 * REGISTERs (keeping the Contact of each service AOR), answers OPTIONS,
 * sends INVITEs with the relay's token, answers charge INFOs with a receipt
 * (or whatever a test asks), and accepts REFERs.
 */
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { IncomingInfo } from '../../../sip/ua/incoming-info.js';
import type { IncomingRefer } from '../../../sip/ua/incoming-refer.js';
import type { IncomingRequest } from '../../../sip/ua/incoming-request.js';
import type { OutgoingInvite } from '../../../sip/ua/outgoing-invite.js';
import type { Session } from '../../../sip/ua/session.js';
import { UserAgentCore } from '../../../sip/ua/user-agent-core.js';
import { systemClock } from '../../../sip/util/clock.js';
import { DigestFixture } from '../../sip/ua/digest-fixture.js';

export type FakeRelayProtocol = 'UDP' | 'TCP' | 'WS';

/** What the fake relay answers a charge INFO with: status, reason, extra headers. */
export type ChargeAnswer = (info: IncomingInfo, charge: { id: string }) => { status: number; reason?: string; headers?: Array<[string, string]> } | 'ignore';

export interface FakeRelayOptions {
  /** Ports to bind (0: any); give the ports of a relay that went away to "restart" it. */
  udpPort?: number;
  tcpPort?: number;
  wsPort?: number;
  /** Accounts: username → password. Default wineshop / wineshop-secret. */
  accounts?: Record<string, string>;
  /** Services each account may register. Default: any. */
  allowed?: Record<string, string[]>;
  /** T1 of the fake relay's transactions. Default 100 ms so UDP tests are quick. */
  t1?: number;
}

export class FakeRelay {
  readonly core: UserAgentCore;
  readonly transport: NodeTransport;
  /** Service AOR (`wine@portal.test`) → registered Contact URI (the last account to register it). */
  readonly bindings = new Map<string, string>();
  /** `<account> <service AOR>` → registered Contact URI, for services several accounts provide. */
  readonly accountBindings = new Map<string, string>();
  readonly registers: SipRequest[] = [];
  readonly options: SipRequest[] = [];
  readonly infos: SipRequest[] = [];
  readonly refers: IncomingRefer[] = [];
  /** How charge INFOs are answered. Default: 200 with `Siprelay-Charge: stored;id=<id>`. */
  chargeAnswer: ChargeAnswer = (_info, charge) => ({ status: 200, headers: [['Siprelay-Charge', `stored;id=${charge.id}`]] });
  /** How REFERs are answered. Default: 202, then NOTIFY 200 after a moment. */
  referAnswer: (refer: IncomingRefer) => void = (refer) => {
    const notifier = refer.accept();
    setTimeout(() => void notifier.notify(200).catch(() => undefined), 20);
  };
  /** When true, REGISTER and OPTIONS are not answered (a relay that hangs). */
  silent = false;
  /** When set, REGISTERs are answered with this status (after authentication). */
  registerStatus: number | undefined;
  private readonly digest: DigestFixture;
  private readonly allowed: Record<string, string[]> | undefined;

  private constructor(transport: NodeTransport, options: FakeRelayOptions) {
    this.transport = transport;
    this.digest = new DigestFixture(systemClock, options.accounts ?? { wineshop: 'wineshop-secret' });
    this.allowed = options.allowed;
    this.core = new UserAgentCore({
      transport,
      aor: '"Alice A." <sip:alice@portal.test>',
      recvInfo: ['siprelay-charge'],
      timers: { t1: options.t1 ?? 100 },
      onRequest: (r) => void this.receive(r),
    });
  }

  static async start(options: FakeRelayOptions = {}): Promise<FakeRelay> {
    const transport = new NodeTransport({
      listeners: [
        { protocol: 'UDP', host: '127.0.0.1', port: options.udpPort ?? 0 },
        { protocol: 'TCP', host: '127.0.0.1', port: options.tcpPort ?? 0 },
        { protocol: 'WS', host: '127.0.0.1', port: options.wsPort ?? 0, path: '/sip' },
      ],
    });
    const relay = new FakeRelay(transport, options);
    await transport.start();
    return relay;
  }

  port(protocol: FakeRelayProtocol): number {
    return this.transport.boundAddresses().find((b) => b.protocol === protocol)!.port;
  }

  /** The relay address an SDK option takes. */
  address(protocol: FakeRelayProtocol): string {
    if (protocol === 'WS') return `ws://127.0.0.1:${this.port('WS')}/sip`;
    return `sip:127.0.0.1:${this.port(protocol)};transport=${protocol.toLowerCase()}`;
  }

  /** Resolves once `service` is registered (polling). */
  async registered(service: string, timeoutMs = 5000): Promise<string> {
    const key = `${service}@portal.test`;
    const until = Date.now() + timeoutMs;
    while (!this.bindings.has(key)) {
      if (Date.now() > until) throw new Error(`${service} was not registered within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.bindings.get(key)!;
  }

  /**
   * Sends an INVITE for `service` to the Contact the app server registered,
   * as the relay does after authenticating a user: with the token, and the
   * service details as JSON (or a raw body).
   */
  invite(
    service: string,
    options: { appServer?: string; token?: string; details?: unknown; body?: string; contentType?: string; multipart?: Array<{ contentType: string; body: string }>; headers?: Array<[string, string]> } = {},
  ): OutgoingInvite {
    const contact =
      options.appServer === undefined ? this.bindings.get(`${service}@portal.test`) : this.accountBindings.get(`${options.appServer} ${service}@portal.test`);
    if (!contact) throw new Error(`${service} is not registered${options.appServer ? ` by ${options.appServer}` : ''}`);
    const headers: Array<[string, string]> = [...(options.headers ?? [])];
    if (options.token !== undefined) headers.push(['Siprelay-Token', options.token]);
    headers.push(['P-Asserted-Identity', '"Alice A." <sip:alice@portal.test>']);
    const body =
      options.multipart !== undefined
        ? { multipart: options.multipart }
        : options.body !== undefined
          ? { body: options.body, contentType: options.contentType ?? 'application/vnd.siprelay.request+json' }
          : options.details !== undefined
            ? { body: JSON.stringify(options.details), contentType: 'application/vnd.siprelay.request+json' }
            : {};
    return this.core.invite(contact, { ...body, to: `sip:${service}@portal.test`, headers });
  }

  /** Invites and waits for the session (rejects with the refusal). */
  async session(service: string, options: Parameters<FakeRelay['invite']>[1] = {}): Promise<Session> {
    const call = this.invite(service, options);
    const session = await call.session;
    this.watch(session);
    return session;
  }

  /** Answers INFO and REFER in `session` with the fake relay's policies. */
  watch(session: Session): void {
    session.on('info', (info) => {
      this.infos.push(info.request);
      let id = '';
      try {
        id = (JSON.parse(info.request.bodyText) as { id: string }).id;
      } catch {
        // answered below with whatever the policy says
      }
      const answer = this.chargeAnswer(info, { id });
      if (answer === 'ignore') return;
      info.respond(answer.status, { reason: answer.reason, headers: answer.headers });
    });
    session.on('refer', (refer) => {
      this.refers.push(refer);
      this.referAnswer(refer);
    });
  }

  async close(): Promise<void> {
    await this.core.close();
  }

  private async receive(r: IncomingRequest): Promise<void> {
    if (this.silent) return;
    if (r.method === 'OPTIONS') {
      this.options.push(r.request);
      r.accept();
      return;
    }
    if (r.method !== 'REGISTER') return r.reject(405);
    this.registers.push(r.request);
    const v = await this.digest.check(r.request);
    if (!v.ok) return r.reject(401, { headers: v.headers });
    const to = r.request.to.uri;
    const service = to.kind === 'sip' ? (to.user ?? '') : '';
    if (this.registerStatus !== undefined) return r.respond(this.registerStatus);
    if (this.allowed && !(this.allowed[v.username] ?? []).includes(service)) return r.reject(403, { reason: 'Not a Service of This Application Server' });
    const key = `${service}@portal.test`;
    const expires = Number(r.request.header('expires') ?? '3600');
    const contact = r.request.contacts;
    if (contact === '*' || contact.length === 0) return r.reject(400);
    if (expires === 0) {
      this.bindings.delete(key);
      this.accountBindings.delete(`${v.username} ${key}`);
    } else {
      this.bindings.set(key, contact[0].uri.toString());
      this.accountBindings.set(`${v.username} ${key}`, contact[0].uri.toString());
    }
    r.accept({ headers: [['Contact', `${r.request.header('contact')};expires=${Math.min(expires, 3600)}`]] });
  }
}
