/**
 * The seams between the relay's core pipeline (server/relay-core.ts, which
 * drives the proxy core) and its feature modules. Each module implements one
 * port; the core depends only on these interfaces, so each side is tested
 * alone with fakes and wired together in server/relay.ts.
 *
 * Pipeline (docs/architecture.md): validate → route processing → in-dialog?
 * loose-route : authenticate → REGISTER? registrar : routing → directory →
 * identity assertion → fork → accounting events.
 */
import type { SipUri } from '../sip/grammar/uri.js';
import type { SipRequest } from '../sip/message/sip-request.js';
import type { SipResponse } from '../sip/message/sip-response.js';
import type { Flow } from '../sip/transport/transport.js';
import type { ServiceConfig } from './config/service-config.js';

// ---------------------------------------------------------------------------
// Authentication (server/auth/)

/** Who sent a request, once Digest credentials were verified. */
export interface AuthenticatedParty {
  /** A user of the portal, or an application server logging in. */
  kind: 'subscriber' | 'app-server';
  /** Account id in the store. */
  id: number;
  /** Digest username (= the user part of the account's AOR). */
  username: string;
  /** Domain (= realm) the credentials belong to. */
  domain: string;
  displayName?: string;
  /** Subscriber's plan, for plan-specific tariffs (issue 4). */
  plan?: string;
}

export type AuthOutcome =
  | { kind: 'authenticated'; party: AuthenticatedParty }
  /** Send this response (401/407 challenge, 403 refusal, 429/503 when blocked) and stop. */
  | { kind: 'respond'; response: SipResponse };

export interface Authenticator {
  /**
   * Verifies the request's credentials. `challenge` is `www` (401,
   * WWW-Authenticate: requests to the relay's own domains) or `proxy`
   * (407, Proxy-Authenticate). An unknown user and a wrong password must
   * produce the same answer; repeated failures are slowed, then refused,
   * per user+address and per address (config `auth.throttle`).
   */
  authenticate(request: SipRequest, flow: Flow, challenge: 'www' | 'proxy'): Promise<AuthOutcome>;
}

// ---------------------------------------------------------------------------
// Registrar and location service (server/registrar/)

/** One registered contact of an address of record (RFC 3261 §10). */
export interface Binding {
  /** `user@domain`, lower-case host. */
  aor: string;
  /** The Contact URI as registered. */
  contact: SipUri;
  /** The flow the REGISTER came over; the only way to reach `.invalid` contacts (RFC 7118 §5.2). */
  flowId: string | undefined;
  /** Wall-clock ms when the binding expires. */
  expiresAt: number;
  /** `+sip.instance` and `reg-id` (RFC 5626), when given. */
  instanceId?: string;
  regId?: number;
  q?: number;
  /**
   * The relay node that holds `flowId` (flow ids name connections of one
   * process). With a shared (Redis) location service, a binding of another
   * node can be reached only through that node.
   */
  node?: string;
}

export interface Registrar {
  /**
   * Handles an authenticated REGISTER (RFC 3261 §10.3) and returns the
   * response to send. A subscriber may register only its own AOR; an
   * application server registers the services it is allowed to provide
   * (To: sip:<service>@<domain>), which feeds the service directory.
   */
  register(request: SipRequest, flow: Flow, party: AuthenticatedParty): Promise<SipResponse>;
}

export interface LocationService {
  /** Live bindings of a subscriber AOR, best first (q, then newest). */
  lookup(aor: string): Promise<Binding[]>;
  /** A flow closed: bindings that depended on it become unreachable. */
  flowClosed(flowId: string): void;
}

// ---------------------------------------------------------------------------
// Services and the application-server directory (server/directory/)

/** One place a service can be sent to. */
export interface ServiceTarget {
  /** Application-server account name: the JWT audience and the only party allowed to charge. */
  appServer: string;
  /** Request-URI for the forwarded request. */
  uri: SipUri;
  /** For a registered app server reached over a connection: the flow it registered on. */
  flowId: string | undefined;
  /** Relative share in `balance` mode. */
  weight: number;
  source: 'registered' | 'static';
  /** Sessions currently live on this target (for `balance`). */
  load: number;
}

export interface ServiceLookup {
  /** False when no such service is configured (→ 404). */
  known: boolean;
  service: ServiceConfig | undefined;
  /** Healthy targets, in no particular order. */
  targets: ServiceTarget[];
  /** Targets configured or registered but failing OPTIONS probes (all down → 480 Retry-After). */
  unavailable: number;
}

export interface ServiceDirectory {
  lookup(service: string): ServiceLookup;
  /** The proxy reports sessions starting and ending on a target (for `balance`). */
  adjustLoad(target: ServiceTarget, delta: 1 | -1): void;
  /** Seconds a client should wait when every target is down (Retry-After of 480). */
  retryAfterSeconds(service: string): number;
  /**
   * A connection closed: registered targets reachable only over it leave at
   * once (else they would be found gone only at their next probe).
   */
  flowClosed?(flowId: string): void;
}

// ---------------------------------------------------------------------------
// Routing rules (server/routing/)

export interface RouteDecision {
  service: string;
  /** Client facts handed to the application server (in the token). */
  facts: Record<string, string | number | boolean>;
  /** Name of the rule that matched, for logs. */
  rule: string;
}

export interface RoutingEngine {
  /** The first matching rule's decision, or undefined (→ 404). Never throws on bad input. */
  route(request: SipRequest, party: AuthenticatedParty): RouteDecision | undefined;
}

// ---------------------------------------------------------------------------
// Identity assertion toward application servers (server/identity/)

export interface AssertionContext {
  party: AuthenticatedParty;
  service: string;
  facts: Record<string, string | number | boolean>;
  /** Relay session id of this branch (RFC 7989 form: 32 lower-case hex digits). */
  sessionId: string;
  /** Fork group shared by the branches of one forked request. */
  forkGroup: string;
  target: ServiceTarget;
  /**
   * Session this request continues, when it refers to one of the user's
   * live dialogs (Replaces, Target-Dialog: transfer, flow 8). Optional:
   * an asserter may name it in the token.
   */
  linkedFrom?: string;
}

export interface IdentityAsserter {
  /**
   * Removes every identity or token header a client may have sent
   * (P-Asserted-Identity, P-Preferred-Identity, Session-ID, Siprelay-Token,
   * and any other the relay asserts) from a request entering the relay.
   */
  stripClientIdentity(request: SipRequest): void;
  /**
   * Adds P-Asserted-Identity, Session-ID and Siprelay-Token (a JWT naming
   * user, service, session, audience = app server, expiry) to one branch's
   * copy of the request. Synchronous so that forking stays on one tick.
   */
  assert(branch: SipRequest, context: AssertionContext): void;
}

// ---------------------------------------------------------------------------
// Accounting (server/sessions/, issue 4). The relay core reports dialog
// milestones; the promise-returning ones must be stored before the relay
// relays the message that acknowledges them ("store first, then answer").

export interface DialogMilestone {
  sessionId: string;
  forkGroup: string;
  callId: string;
  /** Tags: caller (client) side and callee (application server) side. */
  callerTag: string;
  calleeTag: string;
  party: AuthenticatedParty;
  service: string;
  target: ServiceTarget;
  /** Session this one was transferred or changed from (REFER, Replaces, Target-Dialog). */
  linkedFrom?: string;
}

export interface SessionObserver {
  /** A request was forwarded for a service (attempt started). */
  attemptStarted?(m: Omit<DialogMilestone, 'calleeTag'> & { requestedAt: number }): void;
  /** A 2xx to INVITE is about to be relayed to the client (answered). */
  answered?(m: DialogMilestone): Promise<void> | void;
  /** The client's ACK for that 2xx is about to be relayed (session start). */
  started?(m: DialogMilestone): Promise<void> | void;
  /** A 2xx to BYE is about to be relayed (session end). */
  ended?(m: DialogMilestone, by: 'caller' | 'callee'): Promise<void> | void;
  /** An attempt ended without a session (status of the final response relayed, 487 for CANCEL). */
  failed?(m: Omit<DialogMilestone, 'calleeTag'>, status: number): void;
  /** A re-INVITE or UPDATE changed the service details (2xx relayed). */
  changed?(m: DialogMilestone, details: unknown): Promise<void> | void;
  /**
   * A request inside a session (INFO, BYE, UPDATE, re-INVITE, NOTIFY…;
   * never ACK or CANCEL) is about to be forwarded, `by` the caller (the
   * user) or the callee (the application server). Return nothing to
   * forward it at once, or a promise of what to do once settled: `relay`
   * forwards it, `respond` answers it with that status instead and
   * forwards nothing (a charge INFO already seen, or refused —
   * docs/wire-contracts.md). A rejected promise forwards it.
   */
  inDialogRequest?(request: SipRequest, m: DialogMilestone, by: 'caller' | 'callee'): Promise<InDialogVerdict> | void;
  /**
   * The final response to a request inside a session is about to be
   * relayed (a 2xx to BYE may carry the application's last charges).
   * Called before `ended`/`changed`; a promise delays the relay until it
   * settles (a rejection is logged and the response relayed).
   */
  inDialogResponse?(request: SipRequest, response: SipResponse, m: DialogMilestone, by: 'caller' | 'callee'): Promise<void> | void;
}

/** What {@link SessionObserver.inDialogRequest} decided. */
export type InDialogVerdict =
  | { readonly action: 'relay' }
  | {
      readonly action: 'respond';
      readonly status: number;
      readonly reason?: string;
      readonly headers?: ReadonlyArray<readonly [string, string]>;
      /**
       * Also forward the request to the other side and absorb its answer
       * (a new charge INFO: the relay answers the application server with
       * its receipt, and the user still sees the charge —
       * docs/wire-contracts.md). Default false: forward nothing.
       */
      readonly forward?: boolean;
    };

/**
 * The `details` the relay core passes to {@link SessionObserver.changed}:
 * the re-INVITE or UPDATE whose 2xx is about to be relayed (flow 7).
 */
export interface SessionChangeDetails {
  method: 'INVITE' | 'UPDATE';
  /** Which side asked for the change: the caller (the user) or the callee (the application server). */
  by: 'caller' | 'callee';
  /** Media type of the request's body, lower case, without parameters (`application/vnd.siprelay.request+json`). */
  contentType: string | undefined;
  /** The request's body as text (empty when none). */
  body: string;
  /** Wall-clock ms when the 2xx was relayed. */
  at: number;
}
