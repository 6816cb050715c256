import { type AuthHeader, parseAuthHeader } from '../grammar/auth-header.js';
import type { SipRequest } from '../message/sip-request.js';
import { bytesToHex, randomBytes } from '@noble/hashes/utils';
import {
  type DigestAlgorithm,
  type DigestHashAlgorithm,
  type DigestQop,
  DIGEST_ALGORITHMS,
  DIGEST_HEX_LENGTH,
  computeResponse,
  digestHashAlgorithm,
  isSessionAlgorithm,
  parseDigestAlgorithm,
} from './digest-algorithm.js';
import { NONCE_COUNT_CONSUMED, type NonceCountStore } from './nonce-count-store.js';
import type { NonceService } from './nonce-service.js';

/** Why a request's credentials were not accepted. */
export type DigestFailureReason =
  /** No Digest credentials in the header: challenge. */
  | 'missing'
  /** Credentials for our realm that do not follow RFC 7616 §3.4 (missing or duplicated parameters, bad nc...): 400 or challenge. */
  | 'malformed'
  /** An `algorithm` we do not know or do not accept: challenge with the ones we do. */
  | 'unsupported-algorithm'
  /** Digest credentials, but none for a realm of ours (they may be for a proxy further on): challenge. */
  | 'realm-mismatch'
  /** A nonce we did not issue, altered, for another realm, or from the future: challenge with a fresh nonce. */
  | 'nonce-invalid'
  /** Right credentials on an expired nonce: challenge with `stale=true` (RFC 7616 §3.3). */
  | 'nonce-stale'
  /** Right credentials, but the nonce count is not above every earlier one (RFC 7616 §3.4 nc, §5.5): challenge with `stale=true`. */
  | 'replay'
  /** Unknown user or wrong password; deliberately indistinguishable. */
  | 'bad-credentials';

/** The outcome of {@link DigestVerifier.verify}. */
export type DigestVerification =
  | {
      ok: true;
      username: string;
      realm: string;
      algorithm: DigestAlgorithm;
      /** Undefined for a legacy (RFC 2069) response. */
      qop: DigestQop | undefined;
    }
  | {
      ok: false;
      reason: DigestFailureReason;
      /** The realm of the credentials examined, when one was found. */
      realm?: string;
      /** The claimed username, when credentials were readable: for failure counting, never proof of anything. */
      username?: string;
      /** Whether the new challenge should carry `stale=true`: for `nonce-stale` and `replay`, where the credentials were right. */
      stale: boolean;
    };

/** Options of {@link DigestVerifier}. */
export interface DigestVerifierOptions {
  /** The realm this verifier accepts credentials for. Give `realm` or `realms`. */
  realm?: string;
  /** Several realms (one relay serving several SIP domains). */
  realms?: readonly string[];
  nonceService: NonceService;
  nonceCountStore: NonceCountStore;
  /**
   * The stored HA1 (lower-case hex, `H(username:realm:password)`) of a
   * subscriber for the algorithm's hash, or undefined when there is none.
   * Its errors propagate from {@link DigestVerifier.verify}.
   */
  lookupHa1(
    username: string,
    realm: string,
    algorithm: DigestHashAlgorithm,
  ): Promise<string | undefined> | string | undefined;
  /** Algorithms accepted in a response. Default: all six of {@link DIGEST_ALGORITHMS}. */
  algorithms?: readonly DigestAlgorithm[];
  /**
   * Accept responses without qop (RFC 2069 form, still allowed by RFC 2617
   * §3.2.2 and RFC 3261 §22.4). Default true, for old phones and gateways;
   * since such a response carries no nonce count, each nonce answered this
   * way is accepted once only.
   */
  allowNoQop?: boolean;
}

/** Names of the parameters read; a second copy of one makes the credentials malformed (RFC 7616 §3.4). */
const READ_PARAMS = ['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'cnonce', 'qop', 'nc', 'userhash', 'username*'];

const NC_PATTERN = /^[0-9a-fA-F]{1,8}$/;
const DIGEST_SCHEME = /^[ \t]*digest(?:[ \t]|$)/i;

/**
 * Checks the Digest credentials of a request (RFC 3261 §22.2–22.3, RFC 7616
 * §3.4–3.5, RFC 8760). Stateless apart from the nonce-count store, so any
 * relay node can verify what another challenged.
 *
 * What it deliberately does not check: that the digest `uri` parameter
 * equals the Request-URI. RFC 3261 §22.4 wants them equal, but clients put
 * the relay's address there when they send to it (SIPp 3.6 does), proxies
 * may rewrite the Request-URI, and Kamailio does not compare them either;
 * the `uri` the client hashed is what the response proves, so it must only
 * be present, and it is used as written.
 *
 * An unknown user takes the same path as a wrong password: the response is
 * computed against a random HA1 and compared in constant time, and both end
 * in `bad-credentials`.
 */
export class DigestVerifier {
  private readonly realms: ReadonlySet<string>;
  private readonly nonceService: NonceService;
  private readonly store: NonceCountStore;
  private readonly lookupHa1: DigestVerifierOptions['lookupHa1'];
  private readonly accepted: ReadonlySet<DigestAlgorithm>;
  private readonly allowNoQop: boolean;
  /** HA1 stand-ins for unknown users, random per verifier so nobody can know them. */
  private readonly dummyHa1: Readonly<Record<DigestHashAlgorithm, string>>;

  constructor(options: DigestVerifierOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('DigestVerifier options are required');
    const { realm, realms } = options;
    if ((realm === undefined) === (realms === undefined)) throw new TypeError('DigestVerifier: give exactly one of `realm` and `realms`');
    const list = realms ?? [realm as string];
    if (!Array.isArray(list) || list.length === 0) throw new TypeError('DigestVerifier: `realms` must be a non-empty array');
    for (const r of list) if (typeof r !== 'string' || r.length === 0) throw new TypeError('DigestVerifier: a realm must be a non-empty string');
    if (typeof options.nonceService?.verify !== 'function') throw new TypeError('DigestVerifier: `nonceService` is required');
    if (typeof options.nonceCountStore?.checkAndRecord !== 'function') {
      throw new TypeError('DigestVerifier: `nonceCountStore` is required');
    }
    if (typeof options.lookupHa1 !== 'function') throw new TypeError('DigestVerifier: `lookupHa1` must be a function');
    const algorithms = options.algorithms ?? DIGEST_ALGORITHMS;
    if (algorithms.length === 0) throw new TypeError('DigestVerifier: accept at least one algorithm');
    for (const a of algorithms) if (!DIGEST_ALGORITHMS.includes(a)) throw new TypeError(`DigestVerifier: unknown algorithm ${String(a)}`);

    this.realms = new Set(list);
    this.nonceService = options.nonceService;
    this.store = options.nonceCountStore;
    this.lookupHa1 = options.lookupHa1;
    this.accepted = new Set(algorithms);
    this.allowNoQop = options.allowNoQop ?? true;
    this.dummyHa1 = {
      MD5: bytesToHex(randomBytes(DIGEST_HEX_LENGTH.MD5 / 2)),
      'SHA-256': bytesToHex(randomBytes(DIGEST_HEX_LENGTH['SHA-256'] / 2)),
      'SHA-512-256': bytesToHex(randomBytes(DIGEST_HEX_LENGTH['SHA-512-256'] / 2)),
    };
  }

  /**
   * Verifies the credentials in `headerName` (`authorization` for a UAS or
   * registrar, `proxy-authorization` for a proxy). Of several header lines,
   * the first Digest one whose realm is ours is used (RFC 3261 §22.3: the
   * others may be meant for other proxies). Order of checks: header, syntax,
   * algorithm, nonce signature, response, nonce age, nonce count, so that
   * `nonce-stale` and `replay` are reported only to a client that proved
   * its credentials (RFC 7616 §3.3 on `stale`), and only authenticated
   * requests take room in the nonce-count store.
   */
  async verify(request: SipRequest, headerName: 'authorization' | 'proxy-authorization'): Promise<DigestVerification> {
    const lines = request.headerLines(headerName);
    if (lines.length === 0) return failure('missing');

    let ours: AuthHeader | undefined;
    let sawDigest = false;
    let sawMalformed = false;
    for (const line of lines) {
      // Other schemes (Bearer token68 values among them) are not ours to judge.
      if (!DIGEST_SCHEME.test(line)) continue;
      sawDigest = true;
      let h: AuthHeader;
      try {
        h = parseAuthHeader(line, headerName);
      } catch {
        sawMalformed = true;
        continue;
      }
      const r = h.get('realm');
      if (r !== undefined && this.realms.has(r)) {
        ours = h;
        break;
      }
    }
    if (!ours) return failure(sawMalformed ? 'malformed' : sawDigest ? 'realm-mismatch' : 'missing');

    const p = readParams(ours);
    const realm = ours.get('realm') as string;
    if (!p) return failure('malformed', realm);
    const username = p.get('username');
    if (username === undefined || p.has('username*') || (p.get('userhash') ?? 'false').toLowerCase() !== 'false') {
      // RFC 7616 §3.4.4 username hashing and RFC 5987 `username*` are not offered by our challenges.
      return failure('malformed', realm, username);
    }
    const nonce = p.get('nonce');
    const uri = p.get('uri');
    const response = p.get('response');
    if (!nonce || !uri || response === undefined) return failure('malformed', realm, username);

    const algorithm = parseDigestAlgorithm(p.get('algorithm'));
    if (algorithm === undefined || !this.accepted.has(algorithm)) return failure('unsupported-algorithm', realm, username);

    let qop: DigestQop | undefined;
    let nc = NONCE_COUNT_CONSUMED;
    const ncText = p.get('nc');
    const cnonce = p.get('cnonce');
    const qopText = p.get('qop');
    if (qopText !== undefined) {
      const q = qopText.toLowerCase();
      if (q !== 'auth' && q !== 'auth-int') return failure('malformed', realm, username);
      // RFC 7616 §3.4: with qop, cnonce and nc MUST be sent.
      if (!cnonce || ncText === undefined || !NC_PATTERN.test(ncText)) return failure('malformed', realm, username);
      qop = q;
      nc = parseInt(ncText, 16);
    } else if (!this.allowNoQop || isSessionAlgorithm(algorithm)) {
      // -sess needs a cnonce, which exists only with qop (RFC 7616 §3.4.2).
      return failure('malformed', realm, username);
    }

    const verdict = this.nonceService.verify(nonce, realm);
    if (verdict === 'invalid') return failure('nonce-invalid', realm, username);

    const hash = digestHashAlgorithm(algorithm);
    const stored = await this.lookupHa1(username, realm, hash);
    const known = typeof stored === 'string';
    const expected = computeResponse({
      algorithm,
      ha1: known ? stored.toLowerCase() : this.dummyHa1[hash],
      nonce,
      method: request.method,
      uri,
      qop,
      cnonce,
      nc: ncText,
      entityBody: qop === 'auth-int' ? request.body : undefined,
    });
    // `known` is checked after the comparison so both outcomes cost the same.
    if (!(constantTimeEqual(expected, response.toLowerCase()) && known)) return failure('bad-credentials', realm, username);

    if (verdict === 'stale') return failure('nonce-stale', realm, username, true);
    if (!(await this.store.checkAndRecord(nonce, nc))) return failure('replay', realm, username, true);
    return { ok: true, username, realm, algorithm, qop };
  }
}

function failure(reason: DigestFailureReason, realm?: string, username?: string, stale = false): DigestVerification {
  return { ok: false, reason, realm, username, stale };
}

/** The parameters we read, by lower-case name; undefined when one of them appears twice. */
function readParams(h: AuthHeader): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const p of h.params) {
    const name = p.name.toLowerCase();
    if (!READ_PARAMS.includes(name)) continue;
    if (out.has(name)) return undefined;
    out.set(name, p.value);
  }
  return out;
}

/**
 * Compares the expected response with the one received in time that depends
 * only on the expected length, so that timing reveals nothing about how
 * many leading digits matched.
 */
function constantTimeEqual(expected: string, received: string): boolean {
  let diff = expected.length ^ received.length;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ (received.charCodeAt(i) | 0);
  return diff === 0;
}
