/**
 * Character classes of RFC 3261 §25.1, as 128-entry lookup tables indexed by
 * char code. Code points >= 128 are never in a class here; callers that
 * accept UTF-8 (quoted strings, reason phrases, header values) check them
 * separately.
 */
function table(chars: string, withAlnum: boolean): Uint8Array {
  const t = new Uint8Array(128);
  if (withAlnum) {
    for (let c = 48; c <= 57; c++) t[c] = 1;
    for (let c = 65; c <= 90; c++) t[c] = 1;
    for (let c = 97; c <= 122; c++) t[c] = 1;
  }
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table("-.!%*_+`'~", true);
/** word: token characters plus ( ) < > : \ DQUOTE / [ ] ? { } (Call-ID, §25.1). */
export const WORD = table("-.!%*_+`'~()<>:\\\"/[]?{}", true);
/** unreserved = alphanum / mark; mark = - _ . ! ~ * ' ( ) */
export const UNRESERVED = table("-_.!~*'()", true);
/** Characters allowed unescaped in a SIP URI user part: unreserved / user-unreserved. */
export const USER = table("-_.!~*'()&=+$,;?/", true);
/** Characters allowed unescaped in a SIP URI password. */
export const PASSWORD = table("-_.!~*'()&=+$,", true);
/** paramchar = param-unreserved / unreserved (escaped handled by the caller). */
export const PARAM = table("-_.!~*'()[]/:&+$", true);
/** hnv-unreserved / unreserved: characters of URI header names and values. */
export const HNV = table("-_.!~*'()[]/?:+$", true);
/** Characters of a hostname or IPv4 address. */
export const HOST = table('-.', true);
/** uric of RFC 2396 used by absoluteURI opaque parts: reserved / unreserved. */
export const URIC = table(";/?:@&=+$,-_.!~*'()%[]#", true);

export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

export function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** True for SP and HTAB, the whitespace left in a header value after unfolding. */
export function isWsp(c: number): boolean {
  return c === 32 || c === 9;
}
