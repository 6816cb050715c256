import { parseError } from '../errors.js';
import { TOKEN } from './char-classes.js';
import { parseGenericParams, quote, scanQuoted, skipWs, trimWs, unquote } from './header-scanner.js';
import { Params } from './params.js';
import { parseUri, type Uri } from './uri.js';

/**
 * `(name-addr / addr-spec) *(SEMI param)`: the value of From, To, Contact,
 * Route, Record-Route, Refer-To, P-Asserted-Identity and friends
 * (RFC 3261 §20.10, §25.1).
 */
export class NameAddress {
  constructor(
    public uri: Uri,
    /** Display name, unquoted; `undefined` when absent. */
    public displayName: string | undefined = undefined,
    /** Header parameters (tag, expires, q, lr on Route is a URI param...). */
    public params: Params = new Params(),
  ) {}

  get tag(): string | undefined {
    const t = this.params.get('tag');
    return typeof t === 'string' ? t : undefined;
  }

  set tag(value: string | undefined) {
    if (value === undefined) this.params.delete('tag');
    else this.params.set('tag', value);
  }

  clone(): NameAddress {
    return new NameAddress(this.uri.clone(), this.displayName, this.params.clone());
  }

  /** Always writes the name-addr form with angle brackets (§20.10: safe for any URI). */
  toString(): string {
    let s = '';
    if (this.displayName !== undefined && this.displayName !== '') {
      s = (isTokenList(this.displayName) ? this.displayName : quote(this.displayName)) + ' ';
    }
    return s + '<' + this.uri.toString() + '>' + this.params.toString();
  }
}

function isTokenList(s: string): boolean {
  // Written unquoted only if it is simple tokens separated by single spaces.
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 && i > 0 && s.charCodeAt(i - 1) !== 32) continue;
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return s.charCodeAt(s.length - 1) !== 32;
}

function syntax(header: string, why: string) {
  return parseError('SIP_ERR_HEADER_SYNTAX', `${why} in ${header}`, header);
}

/**
 * Parses one name-addr or addr-spec with parameters from `s` (one element of
 * a comma list, already trimmed). Throws `SIP_ERR_HEADER_SYNTAX` or
 * `SIP_ERR_URI`.
 */
export function parseNameAddress(s: string, header = 'name-addr'): NameAddress {
  let i = skipWs(s, 0);
  if (i >= s.length) throw syntax(header, 'empty value');
  let displayName: string | undefined;
  let uriText: string;
  const first = s.charCodeAt(i);
  if (first === 34 /* " */) {
    const e = scanQuoted(s, i);
    if (e < 0) throw syntax(header, 'unterminated display name');
    displayName = unquote(s.slice(i, e));
    i = skipWs(s, e);
    if (s.charCodeAt(i) !== 60) throw syntax(header, 'expected <');
  } else {
    const lt = s.indexOf('<', i);
    if (lt >= 0) {
      // display-name = *(token LWS): check each word, then accept no space
      // before '<' as RFC 4475 §3.1.1.6 asks.
      const dn = trimWs(s.slice(i, lt));
      if (dn.length) {
        for (let k = 0; k < dn.length; k++) {
          const c = dn.charCodeAt(k);
          if (c === 32 || c === 9) continue;
          if (c >= 128 || TOKEN[c] === 0) throw syntax(header, 'bad display name');
        }
        displayName = dn.replace(/[ \t]+/g, ' ');
      }
      i = lt;
    }
  }
  if (s.charCodeAt(i) === 60 /* < */) {
    const gt = s.indexOf('>', i + 1);
    if (gt < 0) throw syntax(header, 'expected >');
    uriText = s.slice(i + 1, gt);
    for (let k = 0; k < uriText.length; k++) {
      const c = uriText.charCodeAt(k);
      if (c === 32 || c === 9) throw syntax(header, 'whitespace inside <>');
    }
    i = gt + 1;
  } else {
    // addr-spec: the URI runs to the first ';' or whitespace, and may not
    // carry URI parameters, headers or commas (§20.10).
    const start = i;
    while (i < s.length) {
      const c = s.charCodeAt(i);
      if (c === 59 || c === 32 || c === 9) break;
      i++;
    }
    uriText = s.slice(start, i);
    if (uriText.indexOf('?') >= 0 || uriText.indexOf(',') >= 0) throw syntax(header, 'URI with ? or , needs <>');
  }
  const uri = parseUri(uriText);
  const params = new Params();
  i = parseGenericParams(s, i, params, header);
  i = skipWs(s, i);
  if (i !== s.length) throw syntax(header, 'unexpected text after address');
  return new NameAddress(uri, displayName, params);
}
