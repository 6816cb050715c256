/**
 * UTF-8 and byte helpers that work in Node and in browsers. Bodies are
 * bytes; header sections are decoded as UTF-8 (RFC 3261 §7.3.1 allows
 * UTF-8 in values and reason phrases).
 */
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

export function utf8Encode(s: string): Uint8Array {
  return encoder.encode(s);
}

export function utf8Decode(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Number of bytes `s` takes in UTF-8, without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

// Scratch space for encoding header sections: encodeInto writes here, then
// exactly the bytes written are copied out, so each message costs one
// allocation of its own size instead of a worst-case 3x buffer.
let scratch = new Uint8Array(16384);

/** Writes `head` as UTF-8 followed by `body` into one new array of exactly that size. */
export function encodeWithBody(head: string, body: Uint8Array): Uint8Array {
  const worst = head.length * 3;
  if (worst > scratch.length) scratch = new Uint8Array(Math.max(worst, scratch.length * 2));
  const { written } = encoder.encodeInto(head, scratch);
  const out = new Uint8Array(written + body.length);
  out.set(scratch.subarray(0, written), 0);
  if (body.length) out.set(body, written);
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
