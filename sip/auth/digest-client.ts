import { AuthHeader, parseAuthHeader } from '../grammar/auth-header.js';
import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { randomToken } from '../util/random.js';
import {
  type DigestAlgorithm,
  type DigestHashAlgorithm,
  type DigestQop,
  DIGEST_HEX_LENGTH,
  computeHa1,
  computeResponse,
  digestHashAlgorithm,
  formatNonceCount,
  isSessionAlgorithm,
} from './digest-algorithm.js';
import { type DigestChallenge, parseDigestChallenge } from './digest-challenge.js';

/**
 * What a user agent authenticates with: a password, or HA1 digests computed
 * elsewhere (so that a browser need not keep the password), keyed by hash.
 * `realm`, when given, restricts the credentials to challenges of that realm.
 */
export type DigestClientCredentials =
  | { username: string; password: string; realm?: string }
  | { username: string; ha1: Partial<Record<DigestHashAlgorithm, string>>; realm?: string };

/** Options of {@link DigestClient}. */
export interface DigestClientOptions {
  /**
   * Algorithms this client answers with, most preferred first. Default:
   * SHA-512-256, SHA-256, MD5, then their `-sess` variants in the same
   * order. RFC 8760 §2.4 has a UAC use the topmost challenge it supports
   * "unless a local policy dictates otherwise"; this is such a policy,
   * because challenges are not integrity-protected and whoever can reorder
   * them could push a client down to MD5 (RFC 8760 §3). It is also how a
   * client of our relay finds SHA-256 behind the MD5 challenge that JsSIP
   * needs first.
   */
  algorithms?: readonly DigestAlgorithm[];
  /**
   * Keep the last challenge of each realm and let
   * {@link DigestClient.authorizePreemptively} answer it again with the next
   * nonce count, saving the 401/407 round trip on later requests. Default false.
   */
  preemptive?: boolean;
  /** Answers to `stale=true` challenges allowed per request and realm before giving up. Default 1. */
  maxStaleRetries?: number;
  /** Realms whose last challenge is kept for the nonce count and preemptive answers. Default 16. */
  maxCachedRealms?: number;
}

/** The default preference: strongest hash first, plain before `-sess`. */
export const DEFAULT_CLIENT_ALGORITHMS: readonly DigestAlgorithm[] = [
  'SHA-512-256',
  'SHA-256',
  'MD5',
  'SHA-512-256-sess',
  'SHA-256-sess',
  'MD5-sess',
];

type AuthorizationName = 'Authorization' | 'Proxy-Authorization';

/** The challenge last answered for one realm and header kind, with the count used on its nonce. */
interface RealmState {
  headerName: AuthorizationName;
  challenge: DigestChallenge;
  algorithm: DigestAlgorithm;
  qop: DigestQop | undefined;
  nc: number;
}

/** One challenge chosen for one realm of a 401/407. */
interface Answer {
  key: string;
  headerName: AuthorizationName;
  challenge: DigestChallenge;
  algorithm: DigestAlgorithm;
  qop: DigestQop | undefined;
  staleRetries: number;
}

/**
 * The user-agent side of Digest authentication (RFC 3261 §22.2–22.3, RFC
 * 7616 §3.4, RFC 8760): turns a 401 or 407 into the Authorization or
 * Proxy-Authorization header of the retry. Works in Node and in browsers.
 *
 * @example
 *   const auth = new DigestClient({ username: 'alice', password: 'alice-secret' });
 *   // on a 401/407 to `request`:
 *   if (auth.authorize(request, response)) { bumpCSeqAndNewBranch(request); send(request); }
 *   else reportFailure(response);
 */
export class DigestClient {
  private readonly username: string;
  private readonly password: string | undefined;
  private readonly ha1s: Partial<Record<DigestHashAlgorithm, string>>;
  private readonly realm: string | undefined;
  private readonly preference: readonly DigestAlgorithm[];
  private readonly preemptive: boolean;
  private readonly maxStaleRetries: number;
  private readonly maxCachedRealms: number;
  /** Per realm (and header kind): the last challenge answered, in least recently used order. */
  private readonly realms = new Map<string, RealmState>();
  /** Per request object: the realms answered after a challenge to it, with the stale retries spent. */
  private readonly answered = new WeakMap<SipRequest, Map<string, number>>();

  constructor(credentials: DigestClientCredentials, options: DigestClientOptions = {}) {
    if (credentials === null || typeof credentials !== 'object') throw new TypeError('DigestClient: credentials are required');
    if (typeof credentials.username !== 'string' || credentials.username.length === 0) {
      throw new TypeError('DigestClient: username must be a non-empty string');
    }
    const hasPassword = 'password' in credentials && credentials.password !== undefined;
    const hasHa1 = 'ha1' in credentials && credentials.ha1 !== undefined;
    if (hasPassword === hasHa1) throw new TypeError('DigestClient: give exactly one of `password` and `ha1`');
    this.username = credentials.username;
    this.realm = credentials.realm;
    if (hasPassword) {
      const { password } = credentials as { password: unknown };
      if (typeof password !== 'string') throw new TypeError('DigestClient: password must be a string');
      this.password = password;
      this.ha1s = {};
    } else {
      const { ha1 } = credentials as { ha1: Record<string, unknown> };
      const ha1s: Partial<Record<DigestHashAlgorithm, string>> = {};
      for (const [hash, value] of Object.entries(ha1)) {
        if (value === undefined) continue;
        if (!Object.hasOwn(DIGEST_HEX_LENGTH, hash)) throw new TypeError(`DigestClient: ha1 for unknown hash ${hash}`);
        const len = DIGEST_HEX_LENGTH[hash as DigestHashAlgorithm];
        if (typeof value !== 'string' || value.length !== len || !/^[0-9a-fA-F]+$/.test(value)) {
          throw new TypeError(`DigestClient: ha1 for ${hash} must be ${len} hex digits`);
        }
        ha1s[hash as DigestHashAlgorithm] = value.toLowerCase();
      }
      if (Object.keys(ha1s).length === 0) throw new TypeError('DigestClient: ha1 needs at least one hash');
      this.password = undefined;
      this.ha1s = ha1s;
    }
    const preference = options.algorithms ?? DEFAULT_CLIENT_ALGORITHMS;
    if (preference.length === 0) throw new TypeError('DigestClient: algorithms must not be empty');
    for (const a of preference) {
      if (!DEFAULT_CLIENT_ALGORITHMS.includes(a)) throw new TypeError(`DigestClient: unknown algorithm ${String(a)}`);
    }
    this.preference = preference;
    this.preemptive = options.preemptive ?? false;
    this.maxStaleRetries = count('maxStaleRetries', options.maxStaleRetries ?? 1, 0);
    this.maxCachedRealms = count('maxCachedRealms', options.maxCachedRealms ?? 16, 1);
  }

  /**
   * Adds credentials answering `challenge` (a 401 or 407 to `request`) to
   * `request`, replacing any earlier ones for the same realm; the caller
   * then gives the request a new CSeq and branch and sends it (RFC 3261
   * §22.2: same Call-ID, CSeq + 1). Pass the same request object each time
   * the same request is retried: that is how repeated rejections are seen.
   *
   * For each realm challenged, picks the most preferred algorithm offered
   * that the credentials can answer, with `qop=auth` when offered (else
   * `auth-int`, else the legacy form). Returns false, leaving the request
   * unchanged, when no challenge can be answered, or when a realm rejects
   * credentials this client already sent it for this request and does not
   * say `stale=true` (or says so more than `maxStaleRetries` times, or with
   * the very nonce that failed): a wrong password then fails at once
   * instead of looping.
   */
  authorize(request: SipRequest, challenge: SipResponse): boolean {
    if (challenge.status !== 401 && challenge.status !== 407) return false;
    const history = this.answered.get(request);
    const answers: Answer[] = [];
    // A 401 or 407 may carry both kinds when a forking proxy aggregated them (RFC 3261 §16.7 step 7).
    for (const [kind, headerName] of [
      ['www-authenticate', 'Authorization'],
      ['proxy-authenticate', 'Proxy-Authorization'],
    ] as const) {
      for (const [realm, offers] of groupByRealm(challenge.headerLines(kind))) {
        if (this.realm !== undefined && realm !== this.realm) continue;
        const pick = this.choose(offers);
        if (!pick) continue;
        const key = headerName + '\0' + realm;
        const sentNonce = sentCredentials(request, headerName, realm)?.get('nonce');
        const spent = history?.get(key);
        let staleRetries = 0;
        if (spent !== undefined || sentNonce === pick.challenge.nonce) {
          // Credentials we sent for this realm were refused.
          if (!pick.challenge.stale || sentNonce === pick.challenge.nonce || (spent ?? 0) >= this.maxStaleRetries) {
            this.realms.delete(key);
            return false;
          }
          staleRetries = (spent ?? 0) + 1;
        }
        answers.push({ key, headerName, ...pick, staleRetries });
      }
    }
    if (answers.length === 0) return false;

    const spent = history ?? new Map<string, number>();
    for (const a of answers) {
      const previous = this.realms.get(a.key);
      const nc = previous && previous.challenge.nonce === a.challenge.nonce ? previous.nc + 1 : 1;
      const state: RealmState = { headerName: a.headerName, challenge: a.challenge, algorithm: a.algorithm, qop: a.qop, nc };
      replaceCredentials(request, a.headerName, a.challenge.realm, this.credentials(request, state));
      this.remember(a.key, state);
      spent.set(a.key, a.staleRetries);
    }
    this.answered.set(request, spent);
    return true;
  }

  /**
   * With the `preemptive` option, adds credentials for the last challenge of
   * `realm` (or of every realm kept) with the next nonce count, so the
   * request is not challenged again. Only challenges answered with qop are
   * reused: a server cannot accept a legacy answer twice without opening
   * itself to replays. Realms the request already has credentials for are
   * left alone. Returns whether anything was added.
   */
  authorizePreemptively(request: SipRequest, realm?: string): boolean {
    if (!this.preemptive) return false;
    let added = false;
    for (const [key, state] of [...this.realms]) {
      const r = state.challenge.realm;
      if ((realm !== undefined && r !== realm) || state.qop === undefined) continue;
      if (sentCredentials(request, state.headerName, r)) continue;
      const next: RealmState = { ...state, nc: state.nc + 1 };
      if (next.nc > 0xffffffff) continue;
      request.addHeader(next.headerName, this.credentials(request, next));
      this.remember(key, next);
      added = true;
    }
    return added;
  }

  /** The best challenge this client can answer among the offers of one realm, with its qop. */
  private choose(
    offers: DigestChallenge[],
  ): { challenge: DigestChallenge; algorithm: DigestAlgorithm; qop: DigestQop | undefined } | undefined {
    let best: { challenge: DigestChallenge; algorithm: DigestAlgorithm; qop: DigestQop | undefined } | undefined;
    let bestRank = Infinity;
    for (const c of offers) {
      const algorithm = c.algorithm;
      if (algorithm === undefined) continue;
      const rank = this.preference.indexOf(algorithm);
      if (rank < 0 || rank >= bestRank) continue;
      if (this.password === undefined && this.ha1s[digestHashAlgorithm(algorithm)] === undefined) continue;
      let qop: DigestQop | undefined;
      if (c.qop.includes('auth')) qop = 'auth';
      else if (c.qop.includes('auth-int')) qop = 'auth-int';
      else if (c.qop.length > 0) continue; // only qop values we do not know
      if (qop === undefined && isSessionAlgorithm(algorithm)) continue; // -sess needs a cnonce
      best = { challenge: c, algorithm, qop };
      bestRank = rank;
    }
    return best;
  }

  /** The Authorization value for `state` and `request` (RFC 7616 §3.4, RFC 3261 §22.4: `uri` is the Request-URI). */
  private credentials(request: SipRequest, state: RealmState): string {
    const { challenge, algorithm, qop } = state;
    const hash = digestHashAlgorithm(algorithm);
    const ha1 = this.password !== undefined
      ? computeHa1(algorithm, this.username, challenge.realm, this.password)
      : (this.ha1s[hash] as string);
    const uri = request.rawUri;
    const cnonce = qop !== undefined ? randomToken(24) : undefined;
    const nc = qop !== undefined ? formatNonceCount(state.nc) : undefined;
    const response = computeResponse({
      algorithm,
      ha1,
      nonce: challenge.nonce,
      method: request.method,
      uri,
      qop,
      cnonce,
      nc,
      entityBody: qop === 'auth-int' ? request.body : undefined,
    });
    const h = new AuthHeader('Digest');
    h.set('username', this.username, true);
    h.set('realm', challenge.realm, true);
    h.set('nonce', challenge.nonce, true);
    h.set('uri', uri, true);
    h.set('response', response, true);
    // RFC 7616 §3.4: algorithm, qop and nc are never quoted.
    h.set('algorithm', algorithm, false);
    if (challenge.opaque !== undefined) h.set('opaque', challenge.opaque, true);
    if (qop !== undefined) {
      h.set('qop', qop, false);
      h.set('nc', nc as string, false);
      h.set('cnonce', cnonce as string, true);
    }
    return h.toString();
  }

  private remember(key: string, state: RealmState): void {
    this.realms.delete(key);
    this.realms.set(key, state);
    if (this.realms.size > this.maxCachedRealms) {
      const oldest = this.realms.keys().next();
      if (!oldest.done) this.realms.delete(oldest.value);
    }
  }
}

function count(name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new TypeError(`DigestClient: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** Digest challenges of the given header lines grouped by realm, in order of first appearance. */
function groupByRealm(lines: string[]): Map<string, DigestChallenge[]> {
  const out = new Map<string, DigestChallenge[]>();
  for (const line of lines) {
    const c = parseDigestChallenge(line);
    if (!c) continue;
    const list = out.get(c.realm);
    if (list) list.push(c);
    else out.set(c.realm, [c]);
  }
  return out;
}

/** The request's Digest credentials for `realm` in `headerName`, if any. */
function sentCredentials(request: SipRequest, headerName: AuthorizationName, realm: string): AuthHeader | undefined {
  for (const line of request.headerLines(headerName)) {
    const h = tryParse(line);
    if (h && h.scheme.toLowerCase() === 'digest' && h.get('realm') === realm) return h;
  }
  return undefined;
}

/** Replaces the request's credentials for `realm` in `headerName` with `value`, keeping those for other realms. */
function replaceCredentials(request: SipRequest, headerName: AuthorizationName, realm: string, value: string): void {
  const keep = request.headerLines(headerName).filter((line) => {
    const h = tryParse(line);
    return !(h && h.scheme.toLowerCase() === 'digest' && h.get('realm') === realm);
  });
  request.removeHeader(headerName);
  for (const line of keep) request.addHeader(headerName, line);
  request.addHeader(headerName, value);
}

function tryParse(line: string): AuthHeader | undefined {
  try {
    return parseAuthHeader(line);
  } catch {
    return undefined;
  }
}
