import { isSipParseError } from '../../sip/errors.js';
import { NameAddress } from '../../sip/grammar/name-address.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import { createResponse } from '../../sip/message/create-response.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import type { Flow } from '../../sip/transport/transport.js';
import { systemClock, type Clock } from '../../sip/util/clock.js';
import { noopLogger, type SipLogger } from '../../sip/util/logger.js';
import { newTag } from '../../sip/util/random.js';
import type { RegisteredTargetSink } from '../directory/registered-target-sink.js';
import type { AuthenticatedParty, Registrar } from '../relay-ports.js';
import type { AppServerService } from '../store/app-server-repository.js';
import { applyRegister, type RegisterOutcome } from './apply-register.js';
import type { LocationStore } from './location-store.js';
import { readRequestedContacts, type ExpiryPolicy } from './requested-contacts.js';
import type { StoredBinding } from './stored-binding.js';

/** Options of {@link RelayRegistrar}. Every limit has a default. */
export interface RelayRegistrarOptions {
  /** Where bindings live (memory or Redis). */
  location: LocationStore;
  /** The SIP domains the relay is the registrar for (lower-case), as in the configuration. */
  domains: readonly string[];
  /**
   * True for a host that names the relay itself (its IP addresses, its
   * host name): "Requests addressed to the relay's own IP addresses count
   * as its domain". Gets the host lower-cased, without IPv6 brackets.
   * Default: none besides `domains`.
   */
  isLocalHost?: (host: string) => boolean;
  /** Which services each application server may provide (the store's `app_server_services`). Without it, application servers cannot register. */
  appServerServices?: { listServices(filter: { appServer: string }): Promise<AppServerService[]> };
  /** Receives what application servers register: the service directory. */
  directory?: RegisteredTargetSink & { flowClosed?(flowId: string): void };
  /** Shortest registration accepted, in seconds; shorter ones get 423 with Min-Expires (RFC 3261 §10.3 step 7). Default 60. */
  minExpiresSeconds?: number;
  /** Longest registration granted; longer requests are shortened (§10.3 step 7). Default 3600. */
  maxExpiresSeconds?: number;
  /** Expiry of a Contact that asks for none (no `expires` parameter, no Expires header). Default 3600, capped by the maximum. */
  defaultExpiresSeconds?: number;
  /** Most bindings of one address of record (one per device, typically). Default 10. */
  maxBindingsPerAor?: number;
  clock?: Clock;
  logger?: SipLogger;
}

/** Option tags the registrar understands in Require (RFC 3261 §8.2.2.3). */
const SUPPORTED_REQUIRE = new Set(['outbound']);

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`RelayRegistrarOptions.${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/** Who is registering what: the key the bindings are stored under. */
interface Registering {
  /** Location-service key: the AOR for a user; an application server's own key per service. */
  key: string;
  /** The AOR as written into each binding. */
  aor: string;
  /** For an application server: its service, its weight for it, and whether the store fixes its address. */
  service?: { name: string; weight: number; fixedTarget: boolean };
}

type Refusal = { status: number; reason?: string; headers?: Array<[string, string]> };

/**
 * The registrar (RFC 3261 §10.3) behind the relay core's `Registrar`
 * port. It receives REGISTER requests already authenticated and answers
 * them:
 *
 * - **Users** (`party.kind === 'subscriber'`) register their own address of
 *   record only (To user = Digest username, To host one of the relay's
 *   domains, and the user's own domain when it is one); anything else is
 *   403. Their bindings go to the location service, where the relay core
 *   finds them with `lookup(addressOfRecord(uri))`.
 * - **Application servers** (`party.kind === 'app-server'`) register
 *   `sip:<service>@<domain>` for each service the store says they provide
 *   (403 for any other). Their Contacts become registered targets of that
 *   service in the directory.
 *
 * Each binding keeps the flow its REGISTER came on (RFC 5626, RFC 7118
 * §5.2): browsers with `.invalid` Contacts and outbound clients are
 * reachable only over it, and clients behind NAT are best reached over it.
 * Call {@link RelayRegistrar.flowClosed} when a connection closes.
 *
 * ```ts
 * const registrar = new RelayRegistrar({ location, domains: ['portal.test'], appServerServices: store.appServers, directory });
 * const response = await registrar.register(request, flow, party);
 * ```
 */
export class RelayRegistrar implements Registrar {
  private readonly location: LocationStore;
  private readonly domains: ReadonlySet<string>;
  private readonly isLocalHost: (host: string) => boolean;
  private readonly appServerServices: RelayRegistrarOptions['appServerServices'];
  private readonly directory: RelayRegistrarOptions['directory'];
  private readonly policy: ExpiryPolicy;
  private readonly clock: Clock;
  private readonly logger: SipLogger;

  constructor(options: RelayRegistrarOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RelayRegistrarOptions must be an object');
    if (!options.location || typeof options.location.update !== 'function') throw new TypeError('RelayRegistrarOptions.location must be a LocationStore');
    if (!Array.isArray(options.domains) || options.domains.length === 0 || options.domains.some((d) => typeof d !== 'string' || d === '')) {
      throw new TypeError('RelayRegistrarOptions.domains must list at least one domain');
    }
    if (options.isLocalHost !== undefined && typeof options.isLocalHost !== 'function') throw new TypeError('RelayRegistrarOptions.isLocalHost must be a function');
    const minExpires = positiveInt(options.minExpiresSeconds, 60, 'minExpiresSeconds');
    const maxExpires = positiveInt(options.maxExpiresSeconds, 3600, 'maxExpiresSeconds');
    if (maxExpires < minExpires) throw new TypeError(`RelayRegistrarOptions.maxExpiresSeconds (${maxExpires}) must not be below minExpiresSeconds (${minExpires})`);
    const defaultExpires = positiveInt(options.defaultExpiresSeconds, 3600, 'defaultExpiresSeconds');
    this.policy = {
      minExpires,
      maxExpires,
      defaultExpires: Math.min(Math.max(defaultExpires, minExpires), maxExpires),
      maxBindings: positiveInt(options.maxBindingsPerAor, 10, 'maxBindingsPerAor'),
    };
    this.location = options.location;
    this.domains = new Set(options.domains.map((d) => d.toLowerCase()));
    this.isLocalHost = options.isLocalHost ?? (() => false);
    this.appServerServices = options.appServerServices;
    this.directory = options.directory;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
  }

  async register(request: SipRequest, flow: Flow, party: AuthenticatedParty): Promise<SipResponse> {
    if (request.method !== 'REGISTER') throw new TypeError(`RelayRegistrar.register needs a REGISTER, got ${request.method}`);
    try {
      return await this.process(request, flow, party);
    } catch (e) {
      if (isSipParseError(e)) return this.refuse(request, { status: 400, reason: e.message.length <= 80 ? e.message : undefined });
      // The store failed: nothing was committed (§10.3 step 7 asks for 500).
      this.logger.error({ err: e, callId: safeCallId(request) }, 'REGISTER failed');
      return this.refuse(request, { status: 500 });
    }
  }

  /** A connection closed: bindings and registered targets that lived on it go or forget it. */
  flowClosed(flowId: string): void {
    this.location.flowClosed(flowId);
    this.directory?.flowClosed?.(flowId);
  }

  private async process(request: SipRequest, flow: Flow, party: AuthenticatedParty): Promise<SipResponse> {
    // §10.3 step 1: this registrar serves the relay's domains only.
    const ruri = request.uri;
    if (ruri.kind !== 'sip' || !this.isOurHost(ruri)) return this.refuse(request, { status: 404, reason: 'Domain Not Served Here' });
    // Step 2: Require (§8.2.2.3).
    const unsupported = request.optionTags('require').filter((t) => !SUPPORTED_REQUIRE.has(t));
    if (unsupported.length) return this.refuse(request, { status: 420, headers: [['Unsupported', unsupported.join(', ')]] });
    // Step 5: the address of record must be a SIP or SIPS URI (RFC 4475 §3.3.4).
    const to = request.to.uri;
    if (to.kind !== 'sip') return this.refuse(request, { status: 400, reason: 'Address of Record Must Be a SIP URI' });
    // Step 3 happened in the core (Digest); step 4: may this party change this AOR?
    const who = await this.authorize(to, party);
    if ('status' in who) return this.refuse(request, who);
    // Step 6: the Contacts.
    const requested = readRequestedContacts(request, flow, this.policy);
    if (requested.kind === 'refuse') return this.refuse(request, requested);
    // Step 7: update the bindings, all or nothing.
    const callId = request.callId;
    const cseq = request.cseq.seq;
    const outcome = await this.location.update<RegisterOutcome | undefined>(who.key, (current, now) => {
      if (requested.kind === 'query') return { result: undefined };
      const result = applyRegister(
        current,
        {
          aor: who.aor,
          callId,
          cseq,
          contacts: requested.kind === 'remove-all' ? '*' : requested.contacts,
          flowId: flow.id,
          node: this.location.nodeId,
          maxBindings: this.policy.maxBindings,
        },
        now,
      );
      return result.ok ? { bindings: result.bindings, result } : { result };
    });
    if (outcome !== undefined && !outcome.ok) return this.refuse(request, { status: 500, reason: 'Out of Order REGISTER' });
    const bindings = outcome?.bindings ?? (await this.location.lookup(who.key));
    // A service attached with a fixed target URI is sent there "instead of where it registers" (CLI, store).
    if (who.service !== undefined && !who.service.fixedTarget && outcome !== undefined) {
      this.directory?.setRegistrations(
        party.username,
        who.service.name,
        who.service.weight,
        bindings.map((b) => ({ uri: b.contact, flowId: b.flowId, flowBound: b.flowBound, expiresAt: b.expiresAt })),
      );
    }
    // Step 8: 200 listing every current binding with its expiry.
    return this.accept(request, bindings, requested.kind === 'contacts' && requested.outbound);
  }

  private isOurHost(uri: SipUri): boolean {
    return this.domains.has(uri.host.toLowerCase()) || this.isLocalHost(uri.hostname);
  }

  /**
   * The domain an AOR on `to` belongs to, or undefined when it is not ours.
   * A host that names the relay by address stands for the party's domain.
   */
  private domainOf(to: SipUri, party: AuthenticatedParty): string | undefined {
    const host = to.host.toLowerCase();
    const partyDomain = party.domain.toLowerCase();
    const partyDomainIsOurs = this.domains.has(partyDomain);
    let domain: string;
    if (this.domains.has(host)) domain = host;
    else if (this.isLocalHost(to.hostname)) domain = partyDomainIsOurs ? partyDomain : this.domains.values().next().value!;
    else return undefined;
    // Usernames are unique per domain: alice@a.test must not bind alice@b.test.
    if (partyDomainIsOurs && domain !== partyDomain) return undefined;
    return domain;
  }

  private async authorize(to: SipUri, party: AuthenticatedParty): Promise<Registering | Refusal> {
    const user = to.userDecoded;
    const domain = this.domainOf(to, party);
    if (user === undefined || domain === undefined) return { status: 403, reason: 'Not Your Address of Record' };
    if (party.kind === 'subscriber') {
      if (user !== party.username) return { status: 403, reason: 'Not Your Address of Record' };
      const aor = user + '@' + domain;
      return { key: aor, aor };
    }
    const provided = this.appServerServices ? await this.appServerServices.listServices({ appServer: party.username }) : [];
    const row = provided.find((s) => s.service === user && !s.disabled);
    if (row === undefined) return { status: 403, reason: 'Not a Service of This Application Server' };
    const aor = user + '@' + domain;
    return { key: `app-server:${party.username}:${aor}`, aor, service: { name: user, weight: row.weight, fixedTarget: row.targetUri !== null } };
  }

  private accept(request: SipRequest, bindings: readonly StoredBinding[], outbound: boolean): SipResponse {
    const now = this.clock.wallNow();
    const response = createResponse(request, 200, { toTag: newTag() });
    for (const b of bindings) {
      const seconds = Math.max(0, Math.ceil((b.expiresAt - now) / 1000));
      response.addHeader('Contact', new NameAddress(b.contact, b.displayName).toString() + b.contactParams + ';expires=' + seconds);
    }
    // RFC 5626 §6: a registrar that honoured reg-id says so.
    if (outbound) response.addHeader('Require', 'outbound');
    response.addHeader('Supported', 'outbound');
    // §10.3 step 8: "The response SHOULD include a Date header field."
    response.addHeader('Date', new Date(now).toUTCString());
    return response;
  }

  private refuse(request: SipRequest, refusal: Refusal): SipResponse {
    const options = { toTag: newTag(), reason: refusal.reason, headers: refusal.headers };
    try {
      return createResponse(request, refusal.status, options);
    } catch {
      // A To that does not parse cannot take a tag; it is echoed as it came (§8.2.6.2).
      return createResponse(request, refusal.status, { ...options, toTag: undefined });
    }
  }
}

function safeCallId(request: SipRequest): string | undefined {
  try {
    return request.callId;
  } catch {
    return undefined;
  }
}
