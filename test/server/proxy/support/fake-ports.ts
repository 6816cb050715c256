/**
 * Fakes of the relay's feature ports (server/relay-ports.ts) for tests of
 * the relay core: each does the least that makes the pipeline observable.
 */
import { parseSipUriStrict, type SipUri } from '../../../../sip/grammar/uri.js';
import { createResponse } from '../../../../sip/message/create-response.js';
import type { SipRequest } from '../../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../../sip/message/sip-response.js';
import type { Flow } from '../../../../sip/transport/transport.js';
import type {
  AssertionContext,
  AuthenticatedParty,
  Authenticator,
  AuthOutcome,
  Binding,
  DialogMilestone,
  IdentityAsserter,
  InDialogVerdict,
  LocationService,
  Registrar,
  RouteDecision,
  RoutingEngine,
  ServiceDirectory,
  ServiceLookup,
  ServiceTarget,
  SessionObserver,
} from '../../../../server/relay-ports.js';
import type { ServiceConfig } from '../../../../server/config/service-config.js';

export const ALICE: AuthenticatedParty = { kind: 'subscriber', id: 1, username: 'alice', domain: 'portal.test' };
export const BOB: AuthenticatedParty = { kind: 'subscriber', id: 2, username: 'bob', domain: 'portal.test' };
export const WINE_SERVER: AuthenticatedParty = { kind: 'app-server', id: 10, username: 'wine-shop', domain: 'portal.test' };

/**
 * Accepts a request whose `X-Test-User` header names a known party (so a
 * test says who is calling without doing digest), challenges one without
 * it, and refuses unknown names with 403.
 */
export class FakeAuthenticator implements Authenticator {
  readonly calls: Array<{ method: string; challenge: 'www' | 'proxy' }> = [];
  readonly parties = new Map<string, AuthenticatedParty>([
    ['alice', ALICE],
    ['bob', BOB],
    ['wine-shop', WINE_SERVER],
  ]);
  /** Delay before answering, ms (an authenticator that looks the user up in a database). */
  delayMs = 0;

  async authenticate(request: SipRequest, _flow: Flow, challenge: 'www' | 'proxy'): Promise<AuthOutcome> {
    this.calls.push({ method: request.method, challenge });
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    const name = request.header('x-test-user');
    if (name === undefined) {
      const status = challenge === 'www' ? 401 : 407;
      const header = challenge === 'www' ? 'WWW-Authenticate' : 'Proxy-Authenticate';
      return { kind: 'respond', response: createResponse(request, status, { toTag: 'auth', headers: [[header, 'Digest realm="portal.test", nonce="n", algorithm=MD5']] }) };
    }
    const party = this.parties.get(name);
    if (party === undefined) return { kind: 'respond', response: createResponse(request, 403, { toTag: 'auth' }) };
    return { kind: 'authenticated', party };
  }
}

export class FakeRegistrar implements Registrar {
  readonly registered: Array<{ aor: string; flowId: string; party: AuthenticatedParty }> = [];
  async register(request: SipRequest, flow: Flow, party: AuthenticatedParty): Promise<SipResponse> {
    const to = request.to.uri as SipUri;
    this.registered.push({ aor: `${to.user}@${to.host}`, flowId: flow.id, party });
    return createResponse(request, 200, { toTag: 'reg', headers: [['Contact', request.header('contact') ?? '*']] });
  }
}

export class FakeLocation implements LocationService {
  readonly bindings = new Map<string, Binding[]>();
  readonly closedFlows: string[] = [];
  async lookup(aor: string): Promise<Binding[]> {
    return this.bindings.get(aor) ?? [];
  }
  flowClosed(flowId: string): void {
    this.closedFlows.push(flowId);
  }
  bind(aor: string, contact: string, flowId: string | undefined): void {
    const list = this.bindings.get(aor) ?? [];
    list.push({ aor, contact: parseSipUriStrict(contact), flowId, expiresAt: Date.now() + 3600_000 });
    this.bindings.set(aor, list);
  }
}

/** A directory of services with fixed targets; `down` counts targets failing probes. */
export class FakeDirectory implements ServiceDirectory {
  readonly services = new Map<string, { config: ServiceConfig; targets: ServiceTarget[]; down: number }>();
  readonly loadChanges: Array<{ appServer: string; delta: 1 | -1 }> = [];

  add(config: ServiceConfig, targets: Array<{ appServer: string; uri: string; weight?: number; flowId?: string }>, down = 0): void {
    this.services.set(config.name, {
      config,
      down,
      targets: targets.map((t) => ({ appServer: t.appServer, uri: parseSipUriStrict(t.uri), flowId: t.flowId, weight: t.weight ?? 1, source: 'static', load: 0 })),
    });
  }

  lookup(service: string): ServiceLookup {
    const s = this.services.get(service);
    if (!s) return { known: false, service: undefined, targets: [], unavailable: 0 };
    return { known: true, service: s.config, targets: s.targets, unavailable: s.down };
  }

  adjustLoad(target: ServiceTarget, delta: 1 | -1): void {
    target.load += delta;
    this.loadChanges.push({ appServer: target.appServer, delta });
  }

  retryAfterSeconds(_service: string): number {
    return 42;
  }

  /** Current load of every target, by application server. */
  loads(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const s of this.services.values()) for (const t of s.targets) out[t.appServer] = t.load;
    return out;
  }
}

/** Routes `sip:<service>@<domain>` to the service named by the user part. */
export class FakeRouting implements RoutingEngine {
  route(request: SipRequest, party: AuthenticatedParty): RouteDecision | undefined {
    const uri = request.uri;
    if (uri.kind !== 'sip' || uri.user === undefined) return undefined;
    return { service: uri.user, facts: { user: party.username }, rule: 'by-user-part' };
  }
}

/** Strips the headers a client must not send; asserts fake values a test can read. */
export class FakeIdentity implements IdentityAsserter {
  readonly asserted: AssertionContext[] = [];
  stripClientIdentity(request: SipRequest): void {
    for (const h of ['P-Asserted-Identity', 'P-Preferred-Identity', 'Session-ID', 'Siprelay-Token']) request.removeHeader(h);
  }
  assert(branch: SipRequest, context: AssertionContext): void {
    this.asserted.push(context);
    branch.addHeader('P-Asserted-Identity', `<sip:${context.party.username}@${context.party.domain}>`);
    branch.addHeader('Session-ID', context.sessionId);
    branch.addHeader('Siprelay-Token', `fake.${context.service}.${context.sessionId}.${context.target.appServer}`);
  }
}

export type MilestoneEvent =
  | { event: 'attemptStarted'; sessionId: string; service: string; appServer: string; linkedFrom?: string }
  | { event: 'answered' | 'started' | 'changed'; m: DialogMilestone; details?: unknown }
  | { event: 'ended'; m: DialogMilestone; by: 'caller' | 'callee' }
  | { event: 'failed'; sessionId: string; appServer: string; status: number };

/** Records every milestone; `hold` makes a milestone wait until released (a slow store). */
export class RecordingObserver implements SessionObserver {
  readonly events: MilestoneEvent[] = [];
  private readonly gates = new Map<string, { promise: Promise<void>; release: () => void; fail: (e: Error) => void }>();

  /** Makes the next `answered`/`started`/`ended` wait until `release(name)` (or fail with `fail(name)`). */
  hold(name: 'answered' | 'started' | 'ended' | 'changed'): void {
    let release!: () => void;
    let fail!: (e: Error) => void;
    const promise = new Promise<void>((res, rej) => {
      release = res;
      fail = rej;
    });
    this.gates.set(name, { promise, release, fail });
  }
  release(name: string): void {
    this.gates.get(name)?.release();
    this.gates.delete(name);
  }
  fail(name: string): void {
    this.gates.get(name)?.fail(new Error('store is down'));
    this.gates.delete(name);
  }
  private gate(name: string): Promise<void> | void {
    return this.gates.get(name)?.promise;
  }

  attemptStarted(m: Omit<DialogMilestone, 'calleeTag'> & { requestedAt: number }): void {
    this.events.push({ event: 'attemptStarted', sessionId: m.sessionId, service: m.service, appServer: m.target.appServer, linkedFrom: m.linkedFrom });
  }
  answered(m: DialogMilestone): Promise<void> | void {
    this.events.push({ event: 'answered', m });
    return this.gate('answered');
  }
  started(m: DialogMilestone): Promise<void> | void {
    this.events.push({ event: 'started', m });
    return this.gate('started');
  }
  ended(m: DialogMilestone, by: 'caller' | 'callee'): Promise<void> | void {
    this.events.push({ event: 'ended', m, by });
    return this.gate('ended');
  }
  failed(m: Omit<DialogMilestone, 'calleeTag'>, status: number): void {
    this.events.push({ event: 'failed', sessionId: m.sessionId, appServer: m.target.appServer, status });
  }
  changed(m: DialogMilestone, details: unknown): Promise<void> | void {
    this.events.push({ event: 'changed', m, details });
    return this.gate('changed');
  }

  /** Decides on in-dialog requests (a charge store); unset: forward at once. */
  verdict: ((request: SipRequest, by: 'caller' | 'callee') => Promise<InDialogVerdict> | void) | undefined;
  /** Final responses to in-dialog requests, as seen before they are relayed. */
  readonly responses: Array<{ method: string; status: number; body: string; by: 'caller' | 'callee' }> = [];

  inDialogRequest(request: SipRequest, _m: DialogMilestone, by: 'caller' | 'callee'): Promise<InDialogVerdict> | void {
    return this.verdict?.(request, by);
  }
  inDialogResponse(request: SipRequest, response: SipResponse, _m: DialogMilestone, by: 'caller' | 'callee'): void {
    this.responses.push({ method: request.method, status: response.status, body: response.bodyText, by });
  }

  /** The names of the events so far, in order. */
  names(): string[] {
    return this.events.map((e) => e.event);
  }
}
