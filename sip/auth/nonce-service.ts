import { hmac } from '@noble/hashes/hmac';
import { sha256 } from '@noble/hashes/sha2';
import { randomBytes, utf8ToBytes } from '@noble/hashes/utils';
import { type Clock, systemClock } from '../util/clock.js';

/** What {@link NonceService.verify} found out about a nonce. */
export type NonceVerdict = 'valid' | 'stale' | 'invalid';

/** Options of {@link NonceService}. */
export interface NonceServiceOptions {
  /**
   * The key that signs nonces, at least 16 bytes (a string is taken as
   * UTF-8). Every relay node of a cluster gets the same one. Give either
   * `secret` or `secrets`.
   */
  secret?: string | Uint8Array;
  /**
   * Keys for rotation: the first signs new nonces, every one verifies. To
   * rotate, put the new key first, deploy, and drop the old key after one
   * nonce lifetime.
   */
  secrets?: ReadonlyArray<string | Uint8Array>;
  /** How long a nonce is `valid` after it was issued. Default 300 000 ms (5 minutes). */
  lifetimeMs?: number;
  /**
   * How far in the future a nonce's timestamp may be (clock difference
   * between relay nodes) before it is `invalid`. Default 5 000 ms.
   */
  maxFutureSkewMs?: number;
  /** Source of wall-clock time (`wallNow()`). Default: the system clock. */
  clock?: Clock;
}

/** Default nonce lifetime: long enough for a user to type a password, short enough to limit replays. */
export const DEFAULT_NONCE_LIFETIME_MS = 300_000;
/** Default tolerance for nonces stamped by a node whose clock runs ahead. */
export const DEFAULT_NONCE_FUTURE_SKEW_MS = 5_000;

const VERSION = 1;
const TIME_BYTES = 8;
const RANDOM_BYTES = 11;
/** HMAC-SHA256 truncated to 128 bits (RFC 2104 §5 allows truncation to half the output). */
const MAC_BYTES = 16;
const HEAD_BYTES = 1 + TIME_BYTES + RANDOM_BYTES;
const NONCE_BYTES = HEAD_BYTES + MAC_BYTES; // 36 bytes: 48 base64url characters, no padding
const NONCE_CHARS = (NONCE_BYTES / 3) * 4;
const MIN_SECRET_BYTES = 16;
/** Keeps these MACs apart from any other use of the same key. */
const MAC_LABEL = utf8ToBytes('siprelay digest nonce\0');

/** An HMAC-SHA256 state with its key already absorbed. */
type KeyedMac = ReturnType<typeof hmac.create>;

/**
 * Issues and checks Digest nonces (RFC 7616 §3.3 leaves the nonce format to
 * the server, suggesting a time stamp and a private key). A nonce here is
 *
 *     base64url( version | issued-at ms (uint64) | 11 random bytes | MAC )
 *     MAC = first 16 bytes of HMAC-SHA256(secret, label | version | issued-at | random | realm)
 *
 * so any relay node holding the secret can verify a nonce another node
 * issued, with no shared state; the realm in the MAC stops a nonce issued
 * for one realm from being used in another. Whether a nonce was used before
 * is the {@link NonceCountStore}'s business, not this one's.
 */
export class NonceService {
  /** How long a nonce stays valid, in ms. */
  readonly lifetimeMs: number;
  /** How far ahead of this node's clock a nonce's timestamp may be, in ms. */
  readonly maxFutureSkewMs: number;
  private readonly clock: Clock;
  /** One keyed HMAC state per secret, cloned per use so the key pads are hashed once. */
  private readonly macs: KeyedMac[];

  constructor(options: NonceServiceOptions) {
    if (options === null || typeof options !== 'object') throw new TypeError('NonceService options are required');
    const { secret, secrets } = options;
    if ((secret === undefined) === (secrets === undefined)) {
      throw new TypeError('NonceService: give exactly one of `secret` and `secrets`');
    }
    const list = secrets ?? [secret as string | Uint8Array];
    if (!Array.isArray(list) || list.length === 0) throw new TypeError('NonceService: `secrets` must be a non-empty array');
    this.macs = list.map((s, i) => {
      const key = typeof s === 'string' ? utf8ToBytes(s) : s;
      if (!(key instanceof Uint8Array)) throw new TypeError(`NonceService: secret ${i} must be a string or Uint8Array`);
      if (key.length < MIN_SECRET_BYTES) {
        throw new TypeError(`NonceService: secret ${i} is ${key.length} bytes; at least ${MIN_SECRET_BYTES} are required`);
      }
      return hmac.create(sha256, key);
    });
    this.lifetimeMs = nonNegative('lifetimeMs', options.lifetimeMs ?? DEFAULT_NONCE_LIFETIME_MS, false);
    this.maxFutureSkewMs = nonNegative('maxFutureSkewMs', options.maxFutureSkewMs ?? DEFAULT_NONCE_FUTURE_SKEW_MS, true);
    this.clock = options.clock ?? systemClock;
  }

  /** A fresh nonce for `realm`, signed with the first secret. */
  create(realm: string): string {
    const bytes = new Uint8Array(NONCE_BYTES);
    bytes[0] = VERSION;
    writeUint64(bytes, 1, Math.floor(this.clock.wallNow()));
    bytes.set(randomBytes(RANDOM_BYTES), 1 + TIME_BYTES);
    bytes.set(this.mac(0, bytes, realm), HEAD_BYTES);
    return toBase64Url(bytes);
  }

  /**
   * `valid` when a secret we hold signed `nonce` for `realm` and it is
   * younger than `lifetimeMs`; `stale` when it is genuine but older (RFC
   * 7616 §3.3: the server then challenges with `stale=true`); `invalid` when
   * it is not ours, was altered, was issued for another realm, or claims to
   * come from further in the future than `maxFutureSkewMs`.
   */
  verify(nonce: string, realm: string): NonceVerdict {
    const bytes = fromBase64Url(nonce);
    if (bytes === undefined || bytes[0] !== VERSION) return 'invalid';
    const given = bytes.subarray(HEAD_BYTES);
    let genuine = false;
    for (let i = 0; i < this.macs.length && !genuine; i++) genuine = equalBytes(this.mac(i, bytes, realm), given);
    if (!genuine) return 'invalid';
    const age = this.clock.wallNow() - readUint64(bytes, 1);
    if (age < -this.maxFutureSkewMs) return 'invalid';
    return age > this.lifetimeMs ? 'stale' : 'valid';
  }

  private mac(index: number, bytes: Uint8Array, realm: string): Uint8Array {
    return this.macs[index]
      .clone()
      .update(MAC_LABEL)
      .update(bytes.subarray(0, HEAD_BYTES))
      .update(utf8ToBytes(realm))
      .digest()
      .subarray(0, MAC_BYTES);
  }
}

function nonNegative(name: string, value: unknown, zeroAllowed: boolean): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zeroAllowed && value === 0)) {
    throw new TypeError(`NonceService: ${name} must be a ${zeroAllowed ? 'non-negative' : 'positive'} finite number, got ${String(value)}`);
  }
  return value;
}

function writeUint64(out: Uint8Array, at: number, n: number): void {
  const v = Math.max(0, n);
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v - hi * 0x1_0000_0000;
  for (let i = 0; i < 4; i++) {
    out[at + 3 - i] = (hi >>> (8 * i)) & 0xff;
    out[at + 7 - i] = (lo >>> (8 * i)) & 0xff;
  }
}

function readUint64(b: Uint8Array, at: number): number {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) {
    hi = hi * 256 + b[at + i];
    lo = lo * 256 + b[at + 4 + i];
  }
  return hi * 0x1_0000_0000 + lo;
}

/** Compares two byte strings in time that depends only on their length. */
function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

// base64url without padding (RFC 4648 §5): nonces travel in a quoted string,
// and every character of this alphabet is safe there and in logs.
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64_INDEX = (() => {
  const t = new Int8Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

function toBase64Url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    s += B64[(n >>> 18) & 63] + B64[(n >>> 12) & 63] + B64[(n >>> 6) & 63] + B64[n & 63];
  }
  return s;
}

/** Decodes a nonce of exactly the expected length; undefined for anything else. */
function fromBase64Url(s: string): Uint8Array | undefined {
  if (s.length !== NONCE_CHARS) return undefined;
  const out = new Uint8Array(NONCE_BYTES);
  for (let i = 0, o = 0; i < s.length; i += 4, o += 3) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      const v = c < 128 ? B64_INDEX[c] : -1;
      if (v < 0) return undefined;
      n = (n << 6) | v;
    }
    out[o] = (n >>> 16) & 0xff;
    out[o + 1] = (n >>> 8) & 0xff;
    out[o + 2] = n & 0xff;
  }
  return out;
}
