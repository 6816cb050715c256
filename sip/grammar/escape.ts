/**
 * `%HH` escaping of URI components (RFC 3261 §19.1.2, §25.1 `escaped`).
 * Unescaping happens exactly once: `v%61lue%25%34%31` becomes `value%41`
 * (RFC 4475 §3.1.1.3), which is why the raw form is what URIs store.
 */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** True when every `%` in `s` starts a valid `%HH` escape. */
export function hasValidEscapes(s: string): boolean {
  let i = s.indexOf('%');
  while (i >= 0) {
    if (i + 2 >= s.length) return false;
    if (hexValue(s.charCodeAt(i + 1)) < 0 || hexValue(s.charCodeAt(i + 2)) < 0) return false;
    i = s.indexOf('%', i + 3);
  }
  return true;
}

/**
 * Decodes `%HH` escapes once. Escaped octets are decoded as UTF-8; a byte
 * sequence that is not UTF-8 is decoded per octet (latin1), so that nothing
 * is lost and `%00` stays a NUL character rather than ending the string
 * (RFC 4475 §3.1.1.4).
 */
export function unescape(s: string): string {
  if (s.indexOf('%') < 0) return s;
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length === 0) return;
    const arr = Uint8Array.from(bytes);
    try {
      out += utf8Strict.decode(arr);
    } catch {
      for (const b of arr) out += String.fromCharCode(b);
    }
    bytes.length = 0;
  };
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 /* % */ && i + 2 < s.length) {
      const h = hexValue(s.charCodeAt(i + 1));
      const l = hexValue(s.charCodeAt(i + 2));
      if (h >= 0 && l >= 0) {
        bytes.push(h * 16 + l);
        i += 2;
        continue;
      }
    }
    flush();
    out += s[i];
  }
  flush();
  return out;
}

const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/**
 * Escapes every character of `s` that is not in `allowed` (a 128-entry
 * table) as `%HH` of its UTF-8 octets.
 */
export function escape(s: string, allowed: Uint8Array): string {
  let plain = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || allowed[c] === 0) {
      plain = false;
      break;
    }
  }
  if (plain) return s;
  let out = '';
  const enc = new TextEncoder();
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c < 128 && allowed[c] === 1) {
      out += ch;
      continue;
    }
    for (const b of enc.encode(ch)) out += '%' + (b < 16 ? '0' : '') + b.toString(16).toUpperCase();
  }
  return out;
}
