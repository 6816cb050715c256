import { parseError } from '../errors.js';
import { HNV, HOST, PARAM, PASSWORD, URIC, USER } from './char-classes.js';
import { hasValidEscapes, unescape } from './escape.js';
import { Params } from './params.js';

/**
 * A SIP or SIPS URI (RFC 3261 §19.1). User and password are stored as
 * written on the wire (escaped); {@link SipUri.userDecoded} unescapes once.
 */
export class SipUri {
  readonly kind = 'sip' as const;
  scheme: 'sip' | 'sips';
  user: string | undefined;
  password: string | undefined;
  /** Host as written; IPv6 references keep their brackets (RFC 5118 §4.1). */
  host: string;
  port: number | undefined;
  params: Params;
  /** URI headers (`?name=value&...`), raw and in order. */
  headers: Array<[name: string, value: string]>;

  constructor(init: {
    scheme?: 'sip' | 'sips';
    user?: string;
    password?: string;
    host: string;
    port?: number;
    params?: Params;
    headers?: Array<[string, string]>;
  }) {
    this.scheme = init.scheme ?? 'sip';
    this.user = init.user;
    this.password = init.password;
    this.host = init.host;
    this.port = init.port;
    this.params = init.params ?? new Params();
    this.headers = init.headers ?? [];
  }

  /** The user part with `%HH` escapes decoded once. */
  get userDecoded(): string | undefined {
    return this.user === undefined ? undefined : unescape(this.user);
  }

  /** Host without IPv6 brackets, lower-cased: what a resolver or socket takes. */
  get hostname(): string {
    const h = this.host.startsWith('[') ? this.host.slice(1, -1) : this.host;
    return h.toLowerCase();
  }

  /** The `transport` parameter, lower-cased, if present. */
  get transport(): string | undefined {
    const t = this.params.get('transport');
    return typeof t === 'string' ? t.toLowerCase() : undefined;
  }

  /** Loose-routing flag (RFC 3261 §16.12, §19.1.1). */
  get lr(): boolean {
    return this.params.has('lr');
  }

  clone(): SipUri {
    return new SipUri({
      scheme: this.scheme,
      user: this.user,
      password: this.password,
      host: this.host,
      port: this.port,
      params: this.params.clone(),
      headers: this.headers.map(([n, v]) => [n, v]),
    });
  }

  toString(): string {
    let s = this.scheme + ':';
    if (this.user !== undefined) {
      s += this.user;
      if (this.password !== undefined) s += ':' + this.password;
      s += '@';
    }
    s += this.host;
    if (this.port !== undefined) s += ':' + this.port;
    if (this.params.size) s += this.params.toString();
    if (this.headers.length) {
      s += '?';
      for (let i = 0; i < this.headers.length; i++) {
        if (i) s += '&';
        s += this.headers[i][0] + '=' + this.headers[i][1];
      }
    }
    return s;
  }
}

/** A tel URI (RFC 3966): the number as written and its parameters. */
export class TelUri {
  readonly kind = 'tel' as const;
  readonly scheme = 'tel' as const;
  constructor(
    public number: string,
    public params: Params = new Params(),
  ) {}

  /** True for a global number (`+` prefix, RFC 3966 §5.1.4). */
  get isGlobal(): boolean {
    return this.number.startsWith('+');
  }

  clone(): TelUri {
    return new TelUri(this.number, this.params.clone());
  }

  toString(): string {
    return 'tel:' + this.number + this.params.toString();
  }
}

/**
 * Any other absolute URI (RFC 3986): kept as scheme plus opaque text. The
 * relay answers 416 for schemes it does not route (RFC 4475 §3.3.2).
 */
export class AbsoluteUri {
  readonly kind = 'absolute' as const;
  constructor(
    public scheme: string,
    public opaque: string,
  ) {}

  clone(): AbsoluteUri {
    return new AbsoluteUri(this.scheme, this.opaque);
  }

  toString(): string {
    return this.scheme + ':' + this.opaque;
  }
}

export type Uri = SipUri | TelUri | AbsoluteUri;

function uriError(s: string, why: string) {
  return parseError('SIP_ERR_URI', `${why} in URI ${JSON.stringify(s.length > 80 ? s.slice(0, 80) + '…' : s)}`);
}

/** Scans `s` from `i` while characters are in `table` or are `%HH` escapes; returns the end. */
function scanEscaped(s: string, i: number, end: number, table: Uint8Array): number {
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 128 && table[c] === 1) i++;
    else if (c === 37 && i + 2 < end && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) i += 3;
    else break;
  }
  return i;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Validates an IPv6 reference body (between the brackets), loosely per RFC 5118. */
function isIpv6(s: string): boolean {
  if (s.length < 2 || s.indexOf(':') < 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(isHex(c) || c === 58 || c === 46)) return false;
  }
  return true;
}

/** Parses `host [":" port]` at `i`; returns host, port and the end index. */
export function parseHostPort(
  s: string,
  i: number,
  end: number,
): { host: string; port: number | undefined; end: number } | undefined {
  let host: string;
  if (s.charCodeAt(i) === 91 /* [ */) {
    const close = s.indexOf(']', i);
    if (close < 0 || close >= end || !isIpv6(s.slice(i + 1, close))) return undefined;
    host = s.slice(i, close + 1);
    i = close + 1;
  } else {
    const start = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      if (c < 128 && HOST[c] === 1) i++;
      else break;
    }
    if (i === start) return undefined;
    host = s.slice(start, i);
    // A host label never starts or ends with '-' (RFC 3261 §25.1 hostname).
    if (host.charCodeAt(0) === 45 || host.charCodeAt(host.length - 1) === 45) return undefined;
  }
  let port: number | undefined;
  if (i < end && s.charCodeAt(i) === 58 /* : */) {
    const start = ++i;
    while (i < end && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === start || i - start > 5) return undefined;
    port = Number(s.slice(start, i));
    if (port > 65535) return undefined;
  }
  return { host, port, end: i };
}

/**
 * Parses a URI. SIP and SIPS URIs follow RFC 3261 §19.1 strictly; tel URIs
 * RFC 3966; anything else must be an absolute URI of RFC 3986 and is kept
 * opaque. Throws `SIP_ERR_URI`.
 */
export function parseUri(s: string): Uri {
  const colon = s.indexOf(':');
  if (colon <= 0) throw uriError(s, 'no scheme');
  for (let i = 0; i < colon; i++) {
    const c = s.charCodeAt(i);
    if (!(isAlpha(c) || (i > 0 && ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46)))) {
      throw uriError(s, 'bad scheme');
    }
  }
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(s, colon + 1, scheme);
  if (scheme === 'tel') return parseTelUri(s, colon + 1);
  const opaque = s.slice(colon + 1);
  if (opaque.length === 0) throw uriError(s, 'empty');
  for (let i = 0; i < opaque.length; i++) {
    const c = opaque.charCodeAt(i);
    if (c >= 128 || URIC[c] === 0) throw uriError(s, 'bad character');
  }
  return new AbsoluteUri(s.slice(0, colon), opaque);
}

function parseSipUri(s: string, i: number, scheme: 'sip' | 'sips'): SipUri {
  const end = s.length;
  let user: string | undefined;
  let password: string | undefined;
  // userinfo ends at the first '@': '@' is never unescaped in user or password.
  const at = s.indexOf('@', i);
  if (at >= 0) {
    const uEnd = scanEscaped(s, i, at, USER);
    if (uEnd === i) throw uriError(s, 'empty user');
    user = s.slice(i, uEnd);
    if (uEnd < at) {
      if (s.charCodeAt(uEnd) !== 58 /* : */) throw uriError(s, 'bad character in user');
      const pEnd = scanEscaped(s, uEnd + 1, at, PASSWORD);
      if (pEnd !== at) throw uriError(s, 'bad character in password');
      password = s.slice(uEnd + 1, at);
    }
    i = at + 1;
  }
  const hp = parseHostPort(s, i, end);
  if (!hp) throw uriError(s, 'bad host or port');
  i = hp.end;
  const params = new Params();
  while (i < end && s.charCodeAt(i) === 59 /* ; */) {
    const nStart = ++i;
    i = scanEscaped(s, i, end, PARAM);
    if (i === nStart) throw uriError(s, 'empty parameter');
    const name = s.slice(nStart, i);
    let value: string | null = null;
    if (i < end && s.charCodeAt(i) === 61 /* = */) {
      const vStart = ++i;
      i = scanEscaped(s, i, end, PARAM);
      if (i === vStart) throw uriError(s, 'empty parameter value');
      value = s.slice(vStart, i);
    }
    params.appendRaw(name, value);
  }
  const headers: Array<[string, string]> = [];
  if (i < end && s.charCodeAt(i) === 63 /* ? */) {
    i++;
    for (;;) {
      const nStart = i;
      i = scanEscaped(s, i, end, HNV);
      if (i === nStart || s.charCodeAt(i) !== 61) throw uriError(s, 'bad header');
      const name = s.slice(nStart, i);
      const vStart = ++i;
      i = scanEscaped(s, i, end, HNV);
      headers.push([name, s.slice(vStart, i)]);
      if (i < end && s.charCodeAt(i) === 38 /* & */) {
        i++;
        continue;
      }
      break;
    }
  }
  if (i !== end) throw uriError(s, 'unexpected character');
  return new SipUri({ scheme, user, password, host: hp.host, port: hp.port, params, headers });
}

const TEL_NUMBER = (() => {
  const t = new Uint8Array(128);
  for (const ch of '0123456789abcdefABCDEF*#+-.()pPwW') t[ch.charCodeAt(0)] = 1;
  return t;
})();

function parseTelUri(s: string, i: number): TelUri {
  const end = s.length;
  const start = i;
  while (i < end) {
    const c = s.charCodeAt(i);
    if (c < 128 && TEL_NUMBER[c] === 1) i++;
    else break;
  }
  if (i === start) throw uriError(s, 'empty telephone number');
  const number = s.slice(start, i);
  const params = new Params();
  while (i < end && s.charCodeAt(i) === 59) {
    const nStart = ++i;
    i = scanEscaped(s, i, end, PARAM);
    if (i === nStart) throw uriError(s, 'empty parameter');
    const name = s.slice(nStart, i);
    let value: string | null = null;
    if (s.charCodeAt(i) === 61) {
      const vStart = ++i;
      i = scanEscaped(s, i, end, PARAM);
      value = s.slice(vStart, i);
    }
    params.appendRaw(name, value);
  }
  if (i !== end) throw uriError(s, 'unexpected character');
  return new TelUri(number, params);
}

/** Like {@link parseUri} but requires a SIP or SIPS URI. */
export function parseSipUriStrict(s: string): SipUri {
  const u = parseUri(s);
  if (u.kind !== 'sip') throw uriError(s, 'not a SIP URI');
  return u;
}

/** Parameters that must match when present in either URI (RFC 3261 §19.1.4). */
const MUST_MATCH = ['user', 'ttl', 'method', 'maddr', 'transport'];

/** Parameters with names and values unescaped once and lower-cased, for comparison. */
function normalizedParams(p: Params): Map<string, string | null> {
  const m = new Map<string, string | null>();
  for (const [name, value] of p.entries()) {
    m.set(unescape(name).toLowerCase(), value === null ? null : unescape(value).toLowerCase());
  }
  return m;
}

/**
 * URI comparison of RFC 3261 §19.1.4: user and password case-sensitive after
 * unescaping once, host case-insensitive, a port given on one side only makes
 * URIs differ, and the listed parameters must match when either side has them.
 */
export function uriEquals(a: Uri, b: Uri): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'sip' && b.kind === 'sip') {
    if (a.scheme !== b.scheme) return false;
    if (a.userDecoded !== b.userDecoded) return false;
    if ((a.password === undefined ? undefined : unescape(a.password)) !== (b.password === undefined ? undefined : unescape(b.password))) return false;
    if (a.host.toLowerCase() !== b.host.toLowerCase()) return false;
    if (a.port !== b.port) return false;
    const pa = normalizedParams(a.params);
    const pb = normalizedParams(b.params);
    for (const name of MUST_MATCH) {
      if (pa.get(name) !== pb.get(name)) return false;
    }
    for (const [key, value] of pa) {
      if (pb.has(key) && pb.get(key) !== value) return false;
    }
    if (a.headers.length !== b.headers.length) return false;
    for (const [n, v] of a.headers) {
      const match = b.headers.find(([bn]) => bn.toLowerCase() === n.toLowerCase());
      if (!match || unescape(match[1]) !== unescape(v)) return false;
    }
    return true;
  }
  if (a.kind === 'tel' && b.kind === 'tel') {
    const strip = (n: string) => n.replace(/[-.()]/g, '').toLowerCase();
    return strip(a.number) === strip(b.number) && a.params.toString().toLowerCase() === b.params.toString().toLowerCase();
  }
  return a.scheme.toLowerCase() === b.scheme.toLowerCase() && (a as AbsoluteUri).opaque === (b as AbsoluteUri).opaque;
}

export { hasValidEscapes };
