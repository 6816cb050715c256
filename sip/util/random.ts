/**
 * Random identifiers for tags, branches and Call-IDs (RFC 3261 §19.3: at
 * least 32 bits of randomness for tags; §8.1.1.7 unique branches). Drawn
 * from the platform CSPRNG in batches so that the hot path does not call
 * into it per identifier.
 */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const pool = new Uint8Array(4096);
let poolPos = pool.length;

function nextByte(): number {
  if (poolPos >= pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolPos = 0;
  }
  return pool[poolPos++];
}

/** A random string of `length` characters from [a-zA-Z0-9] (about 5.95 bits each). */
export function randomToken(length = 10): string {
  let s = '';
  for (let i = 0; i < length; i++) {
    // 248 = 4 * 62: reject the tail so that every character is equally likely.
    let b = nextByte();
    while (b >= 248) b = nextByte();
    s += ALPHABET[b % 62];
  }
  return s;
}

/** A new RFC 3261 branch: magic cookie plus 16 random characters. */
export function newBranch(): string {
  return 'z9hG4bK' + randomToken(16);
}

/** A new tag for From or To (§19.3). */
export function newTag(): string {
  return randomToken(12);
}

/** A new Call-ID (§8.1.1.4); `host` makes it globally unique when given. */
export function newCallId(host?: string): string {
  return host ? randomToken(20) + '@' + host : randomToken(24);
}
