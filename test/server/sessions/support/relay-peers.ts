/**
 * A client and an application server for tests against a whole relay,
 * both plain user-agent cores over UDP on 127.0.0.1: the client
 * authenticates with Digest through the relay as its outbound proxy; the
 * application server is a static target of the relay's configuration
 * (start it first, so that its port can go into the configuration).
 */
import { NodeTransport } from '../../../../sip/node/node-transport.js';
import type { IncomingInvite } from '../../../../sip/ua/incoming-invite.js';
import type { Session, SessionTermination } from '../../../../sip/ua/session.js';
import type { TimerOptions } from '../../../../sip/transaction/timer-config.js';
import { UserAgentCore } from '../../../../sip/ua/user-agent-core.js';
import { Inbox } from '../../../sip/node/transport-test-kit.js';

/** A session the application server accepted, with the relay session id from its Session-ID header. */
export interface AppSession {
  readonly sessionId: string;
  readonly session: Session;
  readonly invite: IncomingInvite;
  /** Settles with how the session ended. */
  readonly terminated: Promise<SessionTermination>;
}

/** A user-agent core answering INVITEs as an application server would. */
export class TestAppServer {
  readonly sessions = new Inbox<AppSession>();
  /** INVITEs it saw, accepted or not. */
  readonly invites: IncomingInvite[] = [];
  /** How the next INVITE is answered: `accept` (default) or a status to reject with; `hold` keeps it unanswered. */
  answer: 'accept' | 'hold' | number = 'accept';
  readonly held = new Inbox<IncomingInvite>();

  private constructor(
    readonly core: UserAgentCore,
    readonly transport: NodeTransport,
  ) {
    core.onInvite = (invite) => this.onInvite(invite);
  }

  static async start(name = 'wineshop', timers?: TimerOptions): Promise<TestAppServer> {
    const transport = new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    await transport.start();
    const core = new UserAgentCore({ transport, aor: `sip:${name}@portal.test`, timers });
    return new TestAppServer(core, transport);
  }

  get port(): number {
    return this.transport.localAddress('UDP')!.port;
  }

  /** The static target of the relay's configuration for `service`. */
  staticTarget(service: string, appServer = 'wineshop'): { service: string; uri: string; appServer: string } {
    return { service, uri: `sip:${service}@127.0.0.1:${this.port}`, appServer };
  }

  /** Accepts an INVITE that was held. */
  accept(invite: IncomingInvite): AppSession {
    const session = invite.accept({ body: JSON.stringify({ url: 'http://127.0.0.1:9/app' }), contentType: 'application/vnd.siprelay.service+json' });
    const sessionId = (invite.request.header('session-id') ?? '').split(';')[0];
    const terminated = new Promise<SessionTermination>((resolve) => session.on('terminated', resolve));
    const s = { sessionId, session, invite, terminated };
    this.sessions.push(s);
    return s;
  }

  private onInvite(invite: IncomingInvite): void {
    this.invites.push(invite);
    if (this.answer === 'hold') this.held.push(invite);
    else if (this.answer === 'accept') this.accept(invite);
    else invite.reject(this.answer);
  }

  async close(): Promise<void> {
    await this.core.close();
    await this.transport.close();
  }
}

/** A subscriber's user agent that reaches services through the relay at `relayPort` (UDP). */
export class TestClient {
  private constructor(
    readonly core: UserAgentCore,
    readonly transport: NodeTransport,
  ) {}

  static async start(relayPort: number, user = 'alice', password = `${user}-secret`, timers?: TimerOptions): Promise<TestClient> {
    const transport = new NodeTransport({ listeners: [{ protocol: 'UDP', host: '127.0.0.1', port: 0 }] });
    await transport.start();
    const core = new UserAgentCore({
      transport,
      aor: `sip:${user}@portal.test`,
      credentials: { username: user, password },
      outboundProxy: `sip:127.0.0.1:${relayPort};lr`,
      recvInfo: ['siprelay-charge'],
      timers,
    });
    return new TestClient(core, transport);
  }

  /** Calls `service`; resolves with the session and how it ends, or rejects with the final status. */
  async call(service: string): Promise<{ session: Session; terminated: Promise<SessionTermination> }> {
    const call = this.core.invite(`sip:${service}@portal.test`, { body: '{}', contentType: 'application/vnd.siprelay.request+json' });
    const session = await call.session;
    const terminated = new Promise<SessionTermination>((resolve) => session.on('terminated', resolve));
    return { session, terminated };
  }

  /** The final status of an INVITE to `service` that the test expects to fail (and its response). */
  async refused(service: string): Promise<{ status: number; reason: string; retryAfter: string | undefined }> {
    const call = this.core.invite(`sip:${service}@portal.test`);
    const r = await call.finalResponse;
    return { status: r.status, reason: r.reason, retryAfter: r.header('retry-after') };
  }

  async close(): Promise<void> {
    await this.core.close();
    await this.transport.close();
  }
}
