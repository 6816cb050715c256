/**
 * Relay session ids and fork groups: 32 lower-case hex digits, the form of
 * a Session-ID (RFC 7989 §4: "sess-uuid = 32(DIGIT / %x61-66)"). Drawn from
 * the platform CSPRNG in batches, so the hot path does not call into it
 * per id.
 */
const HEX = '0123456789abcdef';
const pool = new Uint8Array(4096);
let pos = pool.length;

/** A new random 128-bit id as 32 lower-case hex digits. */
export function newSessionId(): string {
  if (pos + 16 > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    pos = 0;
  }
  let s = '';
  for (let i = 0; i < 16; i++) {
    const b = pool[pos++];
    s += HEX[b >> 4] + HEX[b & 15];
  }
  return s;
}
