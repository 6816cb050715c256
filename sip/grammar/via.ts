import { parseError } from '../errors.js';
import { parseGenericParams, scanToken, skipWs } from './header-scanner.js';
import { Params } from './params.js';
import { parseHostPort } from './uri.js';

/** The RFC 3261 §8.1.1.7 magic cookie that marks a globally unique branch. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

/** One Via value (RFC 3261 §20.42, RFC 3581 rport). */
export class Via {
  constructor(
    /** Upper-cased transport: UDP, TCP, TLS, SCTP, WS, WSS or any token. */
    public transport: string,
    public host: string,
    public port: number | undefined = undefined,
    public params: Params = new Params(),
    public protocol = 'SIP/2.0',
  ) {}

  get branch(): string | undefined {
    const b = this.params.get('branch');
    return typeof b === 'string' ? b : undefined;
  }

  set branch(value: string | undefined) {
    if (value === undefined) this.params.delete('branch');
    else this.params.set('branch', value);
  }

  get received(): string | undefined {
    const r = this.params.get('received');
    return typeof r === 'string' ? r : undefined;
  }

  /** `rport` value: a number, `null` when present without value, `undefined` when absent. */
  get rport(): number | null | undefined {
    const r = this.params.get('rport');
    if (r === undefined) return undefined;
    if (r === null) return null;
    const n = Number(r);
    return Number.isInteger(n) ? n : null;
  }

  /** True when the branch carries the RFC 3261 magic cookie with something after it. */
  get hasRfc3261Branch(): boolean {
    const b = this.branch;
    return b !== undefined && b.length > BRANCH_MAGIC_COOKIE.length && b.startsWith(BRANCH_MAGIC_COOKIE);
  }

  /** `host[:port]`, the sent-by used for transaction matching (§17.2.3). */
  get sentBy(): string {
    return this.port === undefined ? this.host.toLowerCase() : this.host.toLowerCase() + ':' + this.port;
  }

  clone(): Via {
    return new Via(this.transport, this.host, this.port, this.params.clone(), this.protocol);
  }

  toString(): string {
    return this.protocol + '/' + this.transport + ' ' + this.host + (this.port === undefined ? '' : ':' + this.port) + this.params.toString();
  }
}

function syntax(why: string) {
  return parseError('SIP_ERR_HEADER_SYNTAX', `${why} in Via`, 'via');
}

/** Parses one via-parm (one comma element). */
export function parseVia(s: string): Via {
  // Fast path for the form every stack writes: `SIP/2.0/<TRANSPORT> `.
  if (s.startsWith('SIP/2.0/')) {
    const e = scanToken(s, 8);
    if (e > 8 && (s.charCodeAt(e) === 32 || s.charCodeAt(e) === 9)) {
      return finishVia(s, e, upper(s.slice(8, e)), 'SIP/2.0');
    }
  }
  let i = skipWs(s, 0);
  const parts: string[] = [];
  for (let n = 0; n < 3; n++) {
    if (n > 0) {
      i = skipWs(s, i);
      if (s.charCodeAt(i) !== 47 /* / */) throw syntax('expected /');
      i = skipWs(s, i + 1);
    }
    const e = scanToken(s, i);
    if (e === i) throw syntax('empty sent-protocol');
    parts.push(s.slice(i, e));
    i = e;
  }
  const protocol = parts[0].toUpperCase() === 'SIP' && parts[1] === '2.0' ? 'SIP/2.0' : parts[0] + '/' + parts[1];
  return finishVia(s, i, parts[2].toUpperCase(), protocol);
}

/** Parses `LWS sent-by *(SEMI via-params)` from `i`, after the sent-protocol. */
function finishVia(s: string, i: number, transport: string, protocol: string): Via {
  const afterProto = i;
  i = skipWs(s, i);
  if (i === afterProto) throw syntax('expected whitespace before sent-by');
  const hp = parseHostPort(s, i, s.length);
  if (!hp) throw syntax('bad sent-by');
  const params = new Params();
  i = parseGenericParams(s, hp.end, params, 'via');
  i = skipWs(s, i);
  if (i !== s.length) throw syntax('unexpected text');
  return new Via(transport, hp.host, hp.port, params, protocol);
}

function upper(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) return s.toUpperCase();
  }
  return s;
}
