import { AuthHeader, parseAuthHeader } from '../grammar/auth-header.js';
import { type DigestAlgorithm, type DigestQop, DIGEST_ALGORITHMS, parseDigestAlgorithm } from './digest-algorithm.js';

/** What {@link buildDigestChallenge} puts in each challenge. */
export interface DigestChallengeOptions {
  realm: string;
  /** From {@link NonceService.create}; the same nonce serves every algorithm offered. */
  nonce: string;
  /**
   * One challenge per algorithm, in this order. Default `['MD5', 'SHA-256']`:
   * RFC 8760 §2.3 lists challenges in the server's order of preference, but JsSIP and
   * SIP.js read only the first challenge and know only MD5, so MD5 leads
   * and clients that know better pick SHA-256 from the second.
   */
  algorithms?: readonly DigestAlgorithm[];
  /** qop values offered. Default `['auth']`; an empty list offers none (legacy RFC 2069 servers only). */
  qop?: readonly DigestQop[];
  /** Echoed back unchanged by the client (RFC 7616 §3.3). */
  opaque?: string;
  /** `stale=true`: the credentials were right but the nonce expired; retry without asking the user (§3.3). */
  stale?: boolean;
}

/** The default offer of a challenge, MD5 first for JsSIP and SIP.js. */
export const DEFAULT_CHALLENGE_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

/** The header a challenge travels in: `WWW-Authenticate` in a 401, `Proxy-Authenticate` in a 407 (RFC 3261 §22.1, §22.3). */
export function challengeHeaderName(status: 401 | 407): 'WWW-Authenticate' | 'Proxy-Authenticate' {
  return status === 407 ? 'Proxy-Authenticate' : 'WWW-Authenticate';
}

/**
 * The values of a Digest challenge, one per offered algorithm (RFC 8760
 * §2.3), ready for `response.addHeader(challengeHeaderName(status), value)`:
 *
 *     Digest realm="portal.test", nonce="…", algorithm=MD5, qop="auth"
 *
 * `algorithm` and `stale` are tokens, the rest quoted strings (RFC 7616
 * §3.3). Throws TypeError for an empty realm or nonce, no algorithm, or a
 * value that is not an algorithm or qop we support.
 */
export function buildDigestChallenge(options: DigestChallengeOptions): string[] {
  const { realm, nonce, opaque, stale } = options;
  if (typeof realm !== 'string' || realm.length === 0) throw new TypeError('Digest challenge: realm must be a non-empty string');
  if (typeof nonce !== 'string' || nonce.length === 0) throw new TypeError('Digest challenge: nonce must be a non-empty string');
  const algorithms = options.algorithms ?? DEFAULT_CHALLENGE_ALGORITHMS;
  if (algorithms.length === 0) throw new TypeError('Digest challenge: offer at least one algorithm');
  for (const a of algorithms) if (!DIGEST_ALGORITHMS.includes(a)) throw new TypeError(`Digest challenge: unknown algorithm ${String(a)}`);
  const qop = options.qop ?? ['auth'];
  for (const q of qop) if (q !== 'auth' && q !== 'auth-int') throw new TypeError(`Digest challenge: unknown qop ${String(q)}`);

  return algorithms.map((algorithm) => {
    const h = new AuthHeader('Digest');
    h.set('realm', realm, true);
    h.set('nonce', nonce, true);
    if (opaque !== undefined) h.set('opaque', opaque, true);
    h.set('algorithm', algorithm, false);
    if (qop.length) h.set('qop', qop.join(','), true);
    if (stale) h.set('stale', 'true', false);
    return h.toString();
  });
}

/** A Digest challenge as a client reads it (RFC 7616 §3.3). */
export interface DigestChallenge {
  realm: string;
  nonce: string;
  /** Undefined when the challenge names an algorithm we do not know (the raw name is in `algorithmName`). */
  algorithm: DigestAlgorithm | undefined;
  /** The `algorithm` parameter as written, or `MD5` when absent. */
  algorithmName: string;
  /** qop values offered, lower-case, in order; empty when the challenge has none (legacy). */
  qop: string[];
  opaque: string | undefined;
  stale: boolean;
}

/**
 * Reads one WWW-Authenticate or Proxy-Authenticate value; undefined when it
 * is not a Digest challenge or lacks a realm or nonce, so a client can skip
 * challenges it cannot answer and look at the next one.
 */
export function parseDigestChallenge(value: string): DigestChallenge | undefined {
  let h: AuthHeader;
  try {
    h = parseAuthHeader(value, 'www-authenticate');
  } catch {
    return undefined;
  }
  if (h.scheme.toLowerCase() !== 'digest') return undefined;
  const realm = h.get('realm');
  const nonce = h.get('nonce');
  if (realm === undefined || nonce === undefined) return undefined;
  const algorithmName = h.get('algorithm') ?? 'MD5';
  return {
    realm,
    nonce,
    algorithm: parseDigestAlgorithm(algorithmName),
    algorithmName,
    qop: splitQopList(h.get('qop')),
    opaque: h.get('opaque'),
    // RFC 7616 §3.3: "stale" is case-insensitive "true"; some servers quote it.
    stale: (h.get('stale') ?? '').toLowerCase() === 'true',
  };
}

/** `qop="auth,auth-int"` → `['auth', 'auth-int']` (RFC 7616 §3.3: a quoted comma list). */
function splitQopList(value: string | undefined): string[] {
  if (value === undefined) return [];
  const out: string[] = [];
  for (const part of value.split(',')) {
    const q = part.trim().toLowerCase();
    if (q) out.push(q);
  }
  return out;
}
