import type { DigestAlgorithm } from '../../sip/auth/digest-algorithm.js';
import { buildDigestChallenge, challengeHeaderName } from '../../sip/auth/digest-challenge.js';
import { DigestVerifier, type DigestVerification } from '../../sip/auth/digest-verifier.js';
import type { NonceCountStore } from '../../sip/auth/nonce-count-store.js';
import type { NonceService } from '../../sip/auth/nonce-service.js';
import { parseAuthHeader } from '../../sip/grammar/auth-header.js';
import { createResponse } from '../../sip/message/create-response.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import type { Flow } from '../../sip/transport/transport.js';
import { type Clock, systemClock } from '../../sip/util/clock.js';
import { type SipLogger, noopLogger } from '../../sip/util/logger.js';
import { newTag } from '../../sip/util/random.js';
import type { AuthenticatedParty, AuthOutcome, Authenticator } from '../relay-ports.js';
import type { AuthThrottle, ThrottleScope } from './auth-throttle.js';
import type { Principal } from './load-principal.js';
import { throttleAddress } from './throttle-address.js';

/** How one authentication ended, for metrics (`siprelay_auth_outcomes_total{outcome}`). */
export type AuthOutcomeLabel =
  /** Credentials verified. */
  | 'authenticated'
  /** No credentials (or none for our realm, or an unusable nonce or algorithm): challenged. */
  | 'challenged'
  /** Unknown user or wrong password: challenged again, and counted. */
  | 'failed'
  /** Right credentials on an expired or reused nonce: challenged with `stale=true`. */
  | 'stale'
  /** Credentials that do not follow RFC 7616 §3.4: 400. */
  | 'malformed'
  /** Refused by the throttle: 403. */
  | 'blocked'
  /** The store or Redis failed: 503. */
  | 'error';

/** Digest algorithms the relay offers: those the store keeps an HA1 for. */
export type RelayDigestAlgorithm = 'MD5' | 'SHA-256';

/** Options of {@link RelayAuthenticator}. */
export interface RelayAuthenticatorOptions {
  /** The relay's SIP domains; each is a realm whose credentials are accepted. */
  domains: readonly string[];
  /**
   * The realm of every challenge. Default: the domain the request is
   * addressed to (Request-URI host) when it is one of `domains`, else the
   * From host when it is, else the first domain.
   */
  realm?: string;
  /** Principals by username and realm; normally a {@link CredentialCache} over the store. */
  principals: { get(username: string, realm: string): Promise<Principal | undefined> };
  nonceService: NonceService;
  nonceCountStore: NonceCountStore;
  throttle: AuthThrottle;
  /**
   * One challenge per algorithm, in this order; also what is accepted.
   * Default `['MD5', 'SHA-256']`: MD5 first because SIP.js reads only the
   * first challenge and knows only MD5 (docs/authentication.md).
   */
  algorithms?: readonly RelayDigestAlgorithm[];
  /**
   * Repeat the first challenge after the others, when there are several.
   * JsSIP 3.x keeps only the *last* WWW-Authenticate header it parses and
   * knows only MD5, while SIP.js reads only the first: with MD5 at both
   * ends both sign in, and a client that reads every challenge (RFC 8760
   * §2.4) still picks SHA-256. Default true.
   */
  repeatFirstChallenge?: boolean;
  /** Accept RFC 2069 answers without qop (each nonce once). Default true; see DigestVerifier. */
  allowNoQop?: boolean;
  /** Retry-After of the 503 sent when the store or Redis fails. Default 5 seconds. */
  unavailableRetryAfterSeconds?: number;
  /**
   * A refusal of a blocked (username, address) or address is logged at
   * `warn` at most once per this many ms per counter, so that a flood
   * does not flood the log too. The start of each block is always logged.
   * Default 60 000.
   */
  refusalLogIntervalMs?: number;
  /** Timers of slowed answers, and log rate limiting. Default: the system clock. */
  clock?: Clock;
  logger?: SipLogger;
  /** Told how each authentication ended (metrics). */
  onOutcome?: (outcome: AuthOutcomeLabel) => void;
}

/** The reason phrase of the refusal of a blocked client. */
export const BLOCKED_REASON = 'Too Many Failed Authentications';

/** Most refusal-log timestamps remembered; older ones are dropped. */
const MAX_REFUSAL_LOG_KEYS = 10_000;

/**
 * The relay's {@link Authenticator}: Digest (RFC 3261 §22, RFC 7616,
 * RFC 8760) against the subscriber store, with failure throttling.
 *
 * - Challenges: 401 with WWW-Authenticate for `www`, 407 with
 *   Proxy-Authenticate for `proxy` (RFC 3261 §22.1, §22.3), one header per
 *   algorithm, MD5 first; `stale=true` when the credentials were right but
 *   the nonce expired or its count was used (RFC 7616 §3.3).
 * - An unknown user, a disabled account and a wrong password take one path
 *   and get the same answer: a fresh challenge, and one more failure counted.
 * - Throttling: see {@link AuthThrottle}. A blocked client gets
 *   `403 Too Many Failed Authentications` with Retry-After, and no
 *   challenge: authorization will not help (RFC 3261 §21.4.4) until the
 *   block ends. Not 429 (in SIP that is "Provide Referrer Identity", RFC
 *   3892) and not 503 (which tells clients the server is overloaded and
 *   makes them fail over, RFC 3263 §4.3).
 * - Nothing throws: a failing store or Redis becomes
 *   `503 Service Unavailable` with Retry-After, and an `error` log line.
 */
export class RelayAuthenticator implements Authenticator {
  private readonly domains: ReadonlySet<string>;
  private readonly firstDomain: string;
  private readonly fixedRealm: string | undefined;
  private readonly principals: RelayAuthenticatorOptions['principals'];
  private readonly nonceService: NonceService;
  private readonly throttle: AuthThrottle;
  private readonly algorithms: readonly DigestAlgorithm[];
  private readonly repeatFirstChallenge: boolean;
  private readonly verifier: DigestVerifier;
  private readonly unavailableRetryAfter: number;
  private readonly refusalLogIntervalMs: number;
  private readonly clock: Clock;
  private readonly logger: SipLogger;
  private readonly onOutcome: (outcome: AuthOutcomeLabel) => void;
  /** Per blocked counter: when its refusal was last logged. */
  private readonly refusalLogged = new Map<string, number>();

  constructor(options: RelayAuthenticatorOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('RelayAuthenticator: options are required');
    const { domains } = options;
    if (!Array.isArray(domains) || domains.length === 0) throw new TypeError('RelayAuthenticator: `domains` must be a non-empty array');
    for (const d of domains) {
      if (typeof d !== 'string' || d.length === 0) throw new TypeError('RelayAuthenticator: a domain must be a non-empty string');
    }
    if (options.realm !== undefined && (typeof options.realm !== 'string' || options.realm.length === 0)) {
      throw new TypeError('RelayAuthenticator: `realm` must be a non-empty string');
    }
    if (typeof options.principals?.get !== 'function') throw new TypeError('RelayAuthenticator: `principals` is required');
    if (typeof options.throttle?.check !== 'function') throw new TypeError('RelayAuthenticator: `throttle` is required');
    const algorithms = options.algorithms ?? ['MD5', 'SHA-256'];
    if (!Array.isArray(algorithms) || algorithms.length === 0) throw new TypeError('RelayAuthenticator: offer at least one algorithm');
    for (const a of algorithms) {
      if (a !== 'MD5' && a !== 'SHA-256') throw new TypeError(`RelayAuthenticator: algorithm must be MD5 or SHA-256, got ${String(a)}`);
    }
    const retryAfter = options.unavailableRetryAfterSeconds ?? 5;
    if (!Number.isInteger(retryAfter) || retryAfter < 0) {
      throw new TypeError(`RelayAuthenticator: unavailableRetryAfterSeconds must be an integer >= 0, got ${String(retryAfter)}`);
    }
    const logInterval = options.refusalLogIntervalMs ?? 60_000;
    if (!Number.isInteger(logInterval) || logInterval < 0) {
      throw new TypeError(`RelayAuthenticator: refusalLogIntervalMs must be an integer >= 0, got ${String(logInterval)}`);
    }

    this.domains = new Set(domains.map((d) => d.toLowerCase()));
    this.firstDomain = domains[0].toLowerCase();
    this.fixedRealm = options.realm;
    this.principals = options.principals;
    this.nonceService = options.nonceService;
    this.throttle = options.throttle;
    this.algorithms = algorithms;
    this.repeatFirstChallenge = options.repeatFirstChallenge ?? true;
    this.unavailableRetryAfter = retryAfter;
    this.refusalLogIntervalMs = logInterval;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? noopLogger;
    this.onOutcome = options.onOutcome ?? (() => undefined);
    const realms = new Set(this.domains);
    if (this.fixedRealm !== undefined) realms.add(this.fixedRealm);
    this.verifier = new DigestVerifier({
      realms: [...realms],
      nonceService: options.nonceService,
      nonceCountStore: options.nonceCountStore,
      algorithms,
      allowNoQop: options.allowNoQop,
      lookupHa1: async (username, realm, hash) => {
        if (hash !== 'MD5' && hash !== 'SHA-256') return undefined;
        return (await this.principals.get(username, realm))?.ha1[hash];
      },
    });
  }

  async authenticate(request: SipRequest, flow: Flow, challenge: 'www' | 'proxy'): Promise<AuthOutcome> {
    const status = challenge === 'proxy' ? 407 : 401;
    const headerName = challenge === 'proxy' ? 'proxy-authorization' : 'authorization';
    const remote = flow.remote.host;
    // What failures are counted under: the address, or an IPv6 address's /64.
    const address = throttleAddress(remote);
    try {
      const claimed = this.claimedUsername(request, headerName);
      const state = await this.throttle.check(address, claimed);
      if (state.blockedForMs > 0) {
        this.logRefusal(remote, address, claimed, state.blockedScope!, state.blockedForMs);
        return this.respond('blocked', this.refusal(request, state.blockedForMs));
      }
      const result = await this.verifier.verify(request, headerName);
      const outcome = await this.decide(request, result, status, remote, address);
      // Slowed: every answer waits, success included, so timing tells nothing.
      if (state.delayMs > 0) await this.sleep(state.delayMs);
      return outcome;
    } catch (e) {
      this.logger.error({ err: e, address: remote, method: request.method }, 'authentication failed: store or Redis unavailable');
      return this.respond(
        'error',
        createResponse(request, 503, {
          toTag: newTag(),
          headers: [['Retry-After', String(this.unavailableRetryAfter)]],
        }),
      );
    }
  }

  private async decide(
    request: SipRequest,
    result: DigestVerification,
    status: 401 | 407,
    remote: string,
    address: string,
  ): Promise<AuthOutcome> {
    if (result.ok) {
      // The verifier has just read the principal through the cache.
      const principal = await this.principals.get(result.username, result.realm);
      if (!principal) {
        // Disabled or removed between the two reads: as if it had been before.
        return this.respond('failed', this.challenge(request, status, result.realm, false));
      }
      await this.throttle.recordSuccess(address, result.username);
      this.onOutcome('authenticated');
      return { kind: 'authenticated', party: partyOf(principal) };
    }
    const realm = result.realm ?? this.challengeRealm(request);
    switch (result.reason) {
      case 'bad-credentials': {
        const after = await this.throttle.recordFailure(address, result.username);
        if (after.blockStarted) {
          this.logger.warn(
            {
              address: remote,
              ...counted(remote, address),
              username: result.username,
              scope: after.blockStarted,
              blockedForMs: after.blockedForMs,
            },
            'authentication blocked after repeated failures',
          );
          this.refusalLogged.delete(refusalKey(address, result.username, after.blockStarted));
          return this.respond('blocked', this.refusal(request, after.blockedForMs));
        }
        return this.respond('failed', this.challenge(request, status, realm, false));
      }
      case 'malformed':
        // RFC 3261 §21.4.1: the reason phrase names the syntax problem.
        return this.respond('malformed', createResponse(request, 400, { reason: 'Malformed Credentials', toTag: newTag() }));
      case 'nonce-stale':
      case 'replay':
        return this.respond('stale', this.challenge(request, status, realm, true));
      default:
        return this.respond('challenged', this.challenge(request, status, realm, false));
    }
  }

  private respond(label: AuthOutcomeLabel, response: SipResponse): AuthOutcome {
    this.onOutcome(label);
    return { kind: 'respond', response };
  }

  /**
   * A 401/407 with a fresh nonce and one header per algorithm (RFC 8760
   * §2.3), MD5 first, and the first one repeated last for clients that keep
   * only the last header (see {@link RelayAuthenticatorOptions.repeatFirstChallenge}).
   */
  private challenge(request: SipRequest, status: 401 | 407, realm: string, stale: boolean): SipResponse {
    const response = createResponse(request, status, { toTag: newTag() });
    const name = challengeHeaderName(status);
    const values = buildDigestChallenge({ realm, nonce: this.nonceService.create(realm), algorithms: this.algorithms, stale });
    for (const v of values) response.addHeader(name, v);
    if (this.repeatFirstChallenge && values.length > 1) response.addHeader(name, values[0]);
    return response;
  }

  private refusal(request: SipRequest, blockedForMs: number): SipResponse {
    return createResponse(request, 403, {
      reason: BLOCKED_REASON,
      toTag: newTag(),
      headers: [['Retry-After', String(Math.max(1, Math.ceil(blockedForMs / 1000)))]],
    });
  }

  /** See {@link RelayAuthenticatorOptions.realm}. */
  private challengeRealm(request: SipRequest): string {
    if (this.fixedRealm !== undefined) return this.fixedRealm;
    try {
      const target = request.uri;
      if (target.kind === 'sip' && this.domains.has(target.hostname)) return target.hostname;
      const from = request.from.uri;
      if (from.kind === 'sip' && this.domains.has(from.hostname)) return from.hostname;
    } catch {
      // A URI that does not parse was refused by the transaction layer already; be safe anyway.
    }
    return this.firstDomain;
  }

  /**
   * The username claimed in the first Digest credentials for one of our
   * realms (the ones the verifier will examine), so that a blocked pair is
   * refused before any store lookup or hashing. It proves nothing.
   */
  private claimedUsername(request: SipRequest, headerName: 'authorization' | 'proxy-authorization'): string | undefined {
    for (const line of request.headerLines(headerName)) {
      if (!/^[ \t]*digest(?:[ \t]|$)/i.test(line)) continue;
      try {
        const h = parseAuthHeader(line, headerName);
        const realm = h.get('realm');
        if (realm === undefined || !(this.domains.has(realm.toLowerCase()) || realm === this.fixedRealm)) continue;
        return h.get('username');
      } catch {
        continue;
      }
    }
    return undefined;
  }

  private logRefusal(remote: string, address: string, username: string | undefined, scope: ThrottleScope, blockedForMs: number): void {
    const key = refusalKey(address, username, scope);
    const now = this.clock.now();
    const last = this.refusalLogged.get(key);
    if (last !== undefined && now - last < this.refusalLogIntervalMs) return;
    if (this.refusalLogged.size >= MAX_REFUSAL_LOG_KEYS) this.refusalLogged.clear();
    this.refusalLogged.set(key, now);
    this.logger.warn(
      {
        address: remote,
        ...counted(remote, address),
        username: scope === 'user-address' ? username : undefined,
        scope,
        retryAfterSeconds: Math.ceil(blockedForMs / 1000),
      },
      'authentication refused: blocked after repeated failures',
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.clock.setTimeout(resolve, ms));
  }
}

/** The counter's address in a log line, when it is not the address itself (an IPv6 /64). */
function counted(remote: string, address: string): { countedAs?: string } {
  return remote === address ? {} : { countedAs: address };
}

function refusalKey(address: string, username: string | undefined, scope: ThrottleScope): string {
  return scope === 'address' ? 'a\u0000' + address : 'u\u0000' + address + '\u0000' + (username ?? '');
}

function partyOf(p: Principal): AuthenticatedParty {
  const party: AuthenticatedParty = { kind: p.kind, id: p.id, username: p.username, domain: p.domain };
  if (p.displayName !== undefined) party.displayName = p.displayName;
  if (p.plan !== undefined) party.plan = p.plan;
  return party;
}
