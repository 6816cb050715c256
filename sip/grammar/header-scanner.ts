import { parseError } from '../errors.js';
import { TOKEN } from './char-classes.js';
import type { Params } from './params.js';

/**
 * Low-level scanning of header values after unfolding (RFC 3261 §7.3.1,
 * §25.1): whitespace, tokens, quoted strings, comma lists and generic
 * parameters. Functions take and return indexes so that callers allocate
 * only the substrings they keep.
 */

/**
 * Trims SP and HTAB only. `String.prototype.trim` would also remove U+FEFF
 * and other Unicode spaces that are part of a UTF-8 header value
 * (RFC 4475 §3.1.1.2).
 */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

export function skipWs(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9) i++;
    else break;
  }
  return i;
}

export function scanToken(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c < 128 && TOKEN[c] === 1) i++;
    else break;
  }
  return i;
}

/**
 * Scans a quoted-string starting at the opening quote at `i`; returns the
 * index after the closing quote, or -1 when it is not closed. quoted-pair
 * escapes any character but CR and LF (§25.1).
 */
export function scanQuoted(s: string, i: number): number {
  i++;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 34) return i + 1;
    if (c === 92 /* \ */) {
      if (i + 1 >= s.length) return -1;
      const n = s.charCodeAt(i + 1);
      if (n === 10 || n === 13) return -1;
      i += 2;
      continue;
    }
    if (c === 10 || c === 13) return -1;
    i++;
  }
  return -1;
}

/** The content of a quoted-string (with its quotes) with quoted-pairs resolved. */
export function unquote(q: string): string {
  if (q.length < 2 || q.charCodeAt(0) !== 34) return q;
  const inner = q.slice(1, -1);
  if (inner.indexOf('\\') < 0) return inner;
  let out = '';
  for (let i = 0; i < inner.length; i++) {
    if (inner.charCodeAt(i) === 92 && i + 1 < inner.length) i++;
    out += inner[i];
  }
  return out;
}

/** Wraps `s` as a quoted-string, escaping `"` and `\`. */
export function quote(s: string): string {
  return '"' + s.replace(/[\\"]/g, (m) => '\\' + m) + '"';
}

/**
 * Splits a header value at top-level commas: commas inside quoted strings and
 * inside `<...>` do not split (RFC 3261 §7.3.1). Elements are trimmed; empty
 * elements are kept so that the typed parsers can reject them.
 */
export function splitCommaList(value: string): string[] {
  if (value.indexOf(',') < 0) return [trimWs(value)];
  const out: string[] = [];
  let start = 0;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 34) {
      const e = scanQuoted(value, i);
      if (e < 0) break;
      i = e - 1;
    } else if (c === 60) angle = true;
    else if (c === 62) angle = false;
    else if (c === 44 && !angle) {
      out.push(trimWs(value.slice(start, i)));
      start = i + 1;
    }
  }
  out.push(trimWs(value.slice(start)));
  return out;
}

function isParamValueChar(c: number): boolean {
  // token / host (incl. IPv6 reference brackets and ':') — §25.1 gen-value.
  return (c < 128 && TOKEN[c] === 1) || c === 58 || c === 91 || c === 93;
}

/**
 * Parses `*( SEMI generic-param )` from `i`, with LWS allowed around `;` and
 * `=` (§25.1 SEMI, EQUAL). Appends to `params`; returns the index where
 * parsing stopped (the first character that does not start a parameter).
 * An empty parameter (`;;`) or a bad value throws `SIP_ERR_HEADER_SYNTAX`.
 */
export function parseGenericParams(s: string, i: number, params: Params, header: string): number {
  for (;;) {
    const j = skipWs(s, i);
    if (j >= s.length || s.charCodeAt(j) !== 59) return i;
    let k = skipWs(s, j + 1);
    const nEnd = scanToken(s, k);
    if (nEnd === k) throw parseError('SIP_ERR_HEADER_SYNTAX', `empty parameter in ${header}`, header);
    const name = s.slice(k, nEnd);
    k = skipWs(s, nEnd);
    let value: string | null = null;
    if (k < s.length && s.charCodeAt(k) === 61) {
      k = skipWs(s, k + 1);
      if (s.charCodeAt(k) === 34) {
        const e = scanQuoted(s, k);
        if (e < 0) throw parseError('SIP_ERR_HEADER_SYNTAX', `unterminated quoted string in ${header}`, header);
        value = s.slice(k, e);
        k = e;
      } else {
        const vStart = k;
        while (k < s.length && isParamValueChar(s.charCodeAt(k))) k++;
        if (k === vStart) throw parseError('SIP_ERR_HEADER_SYNTAX', `empty value for ${name} in ${header}`, header);
        value = s.slice(vStart, k);
      }
      i = k;
    } else {
      i = nEnd;
    }
    params.appendRaw(name, value);
  }
}
