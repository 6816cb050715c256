import { parseError } from '../errors.js';
import { quote, scanQuoted, scanToken, skipWs, unquote } from './header-scanner.js';

/** One `name=value` of an auth header, remembering whether it was quoted. */
export interface AuthParam {
  name: string;
  value: string;
  quoted: boolean;
}

/**
 * The value of WWW-Authenticate, Proxy-Authenticate, Authorization or
 * Proxy-Authorization (RFC 3261 §25.1, RFC 7616 §3.3–3.4): a scheme and a
 * comma-separated parameter list. Unknown schemes parse too (RFC 4475
 * §3.3.7) so that a proxy can pass them on untouched.
 */
export class AuthHeader {
  constructor(
    public scheme: string,
    public params: AuthParam[] = [],
  ) {}

  /** The unquoted value of `name` (case-insensitive), or undefined. */
  get(name: string): string | undefined {
    const key = name.toLowerCase();
    for (const p of this.params) if (p.name.toLowerCase() === key) return p.value;
    return undefined;
  }

  /** Sets a parameter; `quoted` chooses the wire form. */
  set(name: string, value: string, quoted: boolean): this {
    const key = name.toLowerCase();
    const p = this.params.find((x) => x.name.toLowerCase() === key);
    if (p) {
      p.value = value;
      p.quoted = quoted;
    } else this.params.push({ name, value, quoted });
    return this;
  }

  toString(): string {
    return (
      this.scheme +
      ' ' +
      this.params.map((p) => p.name + '=' + (p.quoted ? quote(p.value) : p.value)).join(', ')
    );
  }
}

/** Parses an auth header value; throws `SIP_ERR_HEADER_SYNTAX`. */
export function parseAuthHeader(s: string, header = 'authorization'): AuthHeader {
  let i = skipWs(s, 0);
  const schemeEnd = scanToken(s, i);
  if (schemeEnd === i) throw parseError('SIP_ERR_HEADER_SYNTAX', `missing auth scheme in ${header}`, header);
  const h = new AuthHeader(s.slice(i, schemeEnd));
  i = skipWs(s, schemeEnd);
  while (i < s.length) {
    const nEnd = scanToken(s, i);
    if (nEnd === i) throw parseError('SIP_ERR_HEADER_SYNTAX', `bad auth-param in ${header}`, header);
    const name = s.slice(i, nEnd);
    i = skipWs(s, nEnd);
    if (s.charCodeAt(i) !== 61) throw parseError('SIP_ERR_HEADER_SYNTAX', `expected = after ${name} in ${header}`, header);
    i = skipWs(s, i + 1);
    let value: string;
    let quoted = false;
    if (s.charCodeAt(i) === 34) {
      const e = scanQuoted(s, i);
      if (e < 0) throw parseError('SIP_ERR_HEADER_SYNTAX', `unterminated quoted string in ${header}`, header);
      value = unquote(s.slice(i, e));
      quoted = true;
      i = e;
    } else {
      const e = scanToken(s, i);
      if (e === i) throw parseError('SIP_ERR_HEADER_SYNTAX', `empty value for ${name} in ${header}`, header);
      value = s.slice(i, e);
      i = e;
    }
    h.params.push({ name, value, quoted });
    i = skipWs(s, i);
    if (i < s.length) {
      if (s.charCodeAt(i) !== 44) throw parseError('SIP_ERR_HEADER_SYNTAX', `expected , in ${header}`, header);
      i = skipWs(s, i + 1);
    }
  }
  return h;
}
