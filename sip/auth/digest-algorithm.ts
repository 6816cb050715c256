import { md5 } from '@noble/hashes/legacy';
import { sha256, sha512_256 } from '@noble/hashes/sha2';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/**
 * The Digest hash algorithms SIP may use (RFC 7616 §3.2, brought to SIP by
 * RFC 8760), with their `-sess` variants (RFC 7616 §3.4.2). Spelled
 * as on the wire; parse with {@link parseDigestAlgorithm}, which ignores case.
 */
export type DigestAlgorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

/** An algorithm without `-sess`: the hash function, and what an HA1 is stored under. */
export type DigestHashAlgorithm = 'MD5' | 'SHA-256' | 'SHA-512-256';

/** Quality of protection (RFC 7616 §3.3): `auth` covers method and URI, `auth-int` the body too. */
export type DigestQop = 'auth' | 'auth-int';

/** Every algorithm this module computes, weakest hash first. */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = [
  'MD5',
  'MD5-sess',
  'SHA-256',
  'SHA-256-sess',
  'SHA-512-256',
  'SHA-512-256-sess',
];

const BY_LOWER_NAME: ReadonlyMap<string, DigestAlgorithm> = new Map(DIGEST_ALGORITHMS.map((a) => [a.toLowerCase(), a]));

const HASH_FUNCTION = {
  MD5: md5,
  'SHA-256': sha256,
  'SHA-512-256': sha512_256,
} as const;

/** Length in hex digits of `H(...)` for each hash: what an HA1 and a response look like. */
export const DIGEST_HEX_LENGTH: Readonly<Record<DigestHashAlgorithm, number>> = {
  MD5: 32,
  'SHA-256': 64,
  'SHA-512-256': 64,
};

/**
 * The algorithm named by an `algorithm` parameter, or undefined when it is
 * not one we know. An absent parameter means MD5 (RFC 7616 §3.3, §3.4; RFC
 * 3261 §22.4 inherits this from RFC 2617). Token comparison ignores case.
 */
export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  return BY_LOWER_NAME.get(value.toLowerCase());
}

/** The hash under an algorithm: `SHA-256-sess` → `SHA-256`. */
export function digestHashAlgorithm(algorithm: DigestAlgorithm): DigestHashAlgorithm {
  switch (algorithm) {
    case 'MD5':
    case 'MD5-sess':
      return 'MD5';
    case 'SHA-256':
    case 'SHA-256-sess':
      return 'SHA-256';
    case 'SHA-512-256':
    case 'SHA-512-256-sess':
      return 'SHA-512-256';
  }
}

/** True for the `-sess` variants, whose HA1 also covers nonce and cnonce (RFC 7616 §3.4.2). */
export function isSessionAlgorithm(algorithm: DigestAlgorithm): boolean {
  return algorithm.endsWith('-sess');
}

/**
 * `H(data)`: the algorithm's hash of `data` (text is hashed as UTF-8, RFC
 * 7616 §3.4.4 charset), as lower-case hex (RFC 7616 §3.4.1: "H(data) ...
 * the output is a lower-case hex string").
 */
export function digestHash(algorithm: DigestAlgorithm, data: string | Uint8Array): string {
  const fn = HASH_FUNCTION[digestHashAlgorithm(algorithm)];
  return bytesToHex(fn(typeof data === 'string' ? utf8ToBytes(data) : data));
}

/**
 * `H(username ":" realm ":" password)`: the secret a subscriber store keeps
 * instead of the password (RFC 7616 §3.4.2). One per hash algorithm and
 * realm; a `-sess` algorithm uses the HA1 of its hash and derives the
 * session key per nonce in {@link computeResponse}.
 */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return digestHash(algorithm, username + ':' + realm + ':' + password);
}

/** The 8-hex-digit `nc` of a nonce count (RFC 7616 §3.4: `nc-value = 8LHEX`). */
export function formatNonceCount(nc: number): string {
  if (!Number.isInteger(nc) || nc < 0 || nc > 0xffffffff) throw new TypeError(`nonce count out of range: ${nc}`);
  const hex = nc.toString(16);
  return '00000000'.slice(hex.length) + hex;
}

/** What {@link computeResponse} needs. */
export interface DigestResponseInput {
  algorithm: DigestAlgorithm;
  /** `H(username:realm:password)` in lower-case hex, as {@link computeHa1} makes it. */
  ha1: string;
  nonce: string;
  method: string;
  /** The `uri` parameter exactly as it appears in the Authorization header. */
  uri: string;
  /** Absent for the legacy RFC 2069 form (no qop). */
  qop?: DigestQop;
  /** Required with qop and with `-sess` algorithms. */
  cnonce?: string;
  /**
   * The nonce count: a number is written as 8 hex digits; a string (the
   * verifier passes the client's text) is used exactly as given, because
   * the client hashed what it sent. Required with qop.
   */
  nc?: number | string;
  /** The message body, hashed for `auth-int` (RFC 7616 §3.4.3); empty when absent. */
  entityBody?: Uint8Array | string;
}

/**
 * The `response` parameter (RFC 7616 §3.4.1):
 *
 *     with qop:    KD(HA1', nonce:nc:cnonce:qop:H(A2))
 *     without qop: KD(HA1', nonce:H(A2))           (RFC 2069, RFC 2617 §3.2.2.1)
 *
 * where KD(secret, data) = H(secret:data), A2 = method:uri (plus :H(body)
 * for `auth-int`, §3.4.3), and HA1' is HA1, or for `-sess` algorithms
 * H(HA1:nonce:cnonce) (§3.4.2). Throws TypeError when an input the chosen
 * form needs is missing: that is a bug in the caller, not a protocol error.
 */
export function computeResponse(input: DigestResponseInput): string {
  const { algorithm, nonce, method, uri, qop } = input;
  let ha1 = input.ha1;
  if (isSessionAlgorithm(algorithm)) {
    if (input.cnonce === undefined) throw new TypeError(`${algorithm} needs a cnonce`);
    ha1 = digestHash(algorithm, ha1 + ':' + nonce + ':' + input.cnonce);
  }
  let a2 = method + ':' + uri;
  if (qop === 'auth-int') a2 += ':' + digestHash(algorithm, input.entityBody ?? '');
  const ha2 = digestHash(algorithm, a2);
  if (qop === undefined) return digestHash(algorithm, ha1 + ':' + nonce + ':' + ha2);
  if (input.cnonce === undefined || input.nc === undefined) throw new TypeError(`qop=${qop} needs cnonce and nc`);
  const nc = typeof input.nc === 'number' ? formatNonceCount(input.nc) : input.nc;
  return digestHash(algorithm, ha1 + ':' + nonce + ':' + nc + ':' + input.cnonce + ':' + qop + ':' + ha2);
}
