import { parseError, SipParseError } from '../errors.js';
import { TOKEN } from '../grammar/char-classes.js';
import { trimWs } from '../grammar/header-scanner.js';
import { utf8Decode, utf8Encode } from '../util/bytes.js';
import { headerKey } from './header-names.js';
import { SipRequest } from './sip-request.js';
import { SipResponse } from './sip-response.js';
import { validateMessage } from './validate.js';

/** Limits and modes of {@link parseMessage}. Every limit has a default. */
export interface ParseOptions {
  /**
   * True when the bytes are one datagram (UDP): without Content-Length the
   * body is the rest of the datagram, and bytes after the body are ignored
   * (RFC 3261 §18.3). False for a message framed by a stream transport,
   * where Content-Length is mandatory. Default true.
   */
  datagram?: boolean;
  /** Largest message accepted, in bytes. Default 65535. */
  maxMessageSize?: number;
  /** Most header lines accepted. Default 256. */
  maxHeaders?: number;
  /**
   * Parse and check the headers every transaction needs (Via, From, To,
   * Call-ID, CSeq, Max-Forwards, Contact, Request-URI) up front. Default true.
   */
  validate?: boolean;
}

export type SipMessageLike = SipRequest | SipResponse;

const DEFAULT_MAX_SIZE = 65535;
const DEFAULT_MAX_HEADERS = 256;

/**
 * Finds the end of the header section: the index just past the empty line
 * (CRLF CRLF, or bare LF LF which is accepted liberally). -1 when absent.
 */
export function findHeaderEnd(data: Uint8Array, from: number): number {
  let p = data.indexOf(10, from);
  while (p >= 0) {
    const n = data[p + 1];
    if (n === 10) return p + 2;
    if (n === 13 && data[p + 2] === 10) return p + 3;
    p = data.indexOf(10, p + 1);
  }
  return -1;
}

/**
 * Parses one SIP message (RFC 3261 §7). Throws {@link SipParseError} with a
 * stable code for anything malformed; `error.partial` then holds what was
 * parsed so a server can still answer 400/505. Never throws anything else.
 */
export function parseMessage(data: Uint8Array | string, options?: ParseOptions): SipMessageLike {
  const bytes = typeof data === 'string' ? utf8Encode(data) : data;
  const maxSize = options?.maxMessageSize ?? DEFAULT_MAX_SIZE;
  if (bytes.length > maxSize) throw parseError('SIP_ERR_TOO_LARGE', `message of ${bytes.length} bytes exceeds ${maxSize}`);
  // RFC 3261 §7.5: ignore CRLFs before the start line.
  let start = 0;
  while (start < bytes.length && (bytes[start] === 13 || bytes[start] === 10)) start++;
  if (start >= bytes.length) throw parseError('SIP_ERR_START_LINE', 'empty message');
  const headEnd = findHeaderEnd(bytes, start);
  if (headEnd < 0) throw parseError('SIP_ERR_UNTERMINATED_HEADERS', 'no empty line after the headers');
  const head = utf8Decode(bytes.subarray(start, headEnd));
  const msg = parseHead(head, options?.maxHeaders ?? DEFAULT_MAX_HEADERS);
  try {
    attachBody(msg, bytes, headEnd, options?.datagram ?? true);
    if (options?.validate ?? true) validateMessage(msg);
  } catch (e) {
    if (e instanceof SipParseError) e.partial = msg;
    throw e;
  }
  return msg;
}

// Header names the relay meets in almost every message. Recognising them by
// length and first letter, then a case-insensitive compare in place, skips
// the allocation of toLowerCase and a hash-map lookup on a fresh string.
const COMMON_HEADERS = [
  'via', 'v', 'from', 'f', 'to', 't', 'call-id', 'i', 'cseq', 'max-forwards', 'contact', 'm',
  'content-length', 'l', 'content-type', 'c', 'route', 'record-route', 'allow', 'supported', 'k',
  'require', 'proxy-require', 'user-agent', 'server', 'accept', 'expires', 'session-expires', 'x',
  'min-se', 'authorization', 'proxy-authorization', 'www-authenticate', 'proxy-authenticate',
  'p-asserted-identity', 'session-id', 'refer-to', 'r', 'referred-by', 'b', 'event', 'o',
  'subscription-state', 'info-package', 'recv-info', 'replaces', 'target-dialog', 'reason',
  'request-disposition', 'd', 'content-disposition', 'date', 'timestamp', 'subject', 's',
  'organization', 'retry-after', 'unsupported', 'warning', 'rseq', 'rack', 'allow-events', 'u',
];
const commonByShape = new Map<number, string[]>();
for (const name of COMMON_HEADERS) {
  const shape = name.length * 128 + name.charCodeAt(0);
  const list = commonByShape.get(shape) ?? [];
  list.push(name);
  commonByShape.set(shape, list);
}

/** The lower-case full name of the header name at head[start, end), or undefined if not a token. */
function keyAt(head: string, start: number, end: number): string | undefined {
  const len = end - start;
  const candidates = commonByShape.get(len * 128 + (head.charCodeAt(start) | 0x20));
  if (candidates !== undefined) {
    for (let c = 0; c < candidates.length; c++) {
      const cand = candidates[c];
      let i = 1;
      // `| 0x20` folds ASCII letters; '-' (0x2d) is unchanged by it.
      while (i < len && (head.charCodeAt(start + i) | 0x20) === cand.charCodeAt(i) && head.charCodeAt(start + i) !== 13) i++;
      if (i === len) return len === 1 ? headerKey(cand) : cand;
    }
  }
  for (let i = start; i < end; i++) {
    const ch = head.charCodeAt(i);
    if (ch >= 128 || TOKEN[ch] === 0) return undefined;
  }
  return headerKey(head.slice(start, end));
}

/** Parses the header section text (start line through the empty line). */
function parseHead(head: string, maxHeaders: number): SipMessageLike {
  let eol = head.indexOf('\n');
  let msg: SipMessageLike;
  // A Request-Line error that still names method and version (lwsruri) is
  // raised after the headers, which then ride on it as `partial` for the 400.
  let startLineError: SipParseError | undefined;
  try {
    msg = parseStartLine(head.slice(0, head.charCodeAt(eol - 1) === 13 ? eol - 1 : eol));
  } catch (e) {
    if (!(e instanceof SipParseError) || !(e.partial instanceof SipRequest)) throw e;
    startLineError = e;
    msg = e.partial;
  }
  const len = head.length;
  let pos = eol + 1;
  let count = 0;
  // The current header; continuation lines fold into it (§7.3.1).
  let name = '';
  let key = '';
  let value = '';
  let rawStart = -1;
  let rawEnd = -1;
  let folded = false;
  while (pos < len) {
    eol = head.indexOf('\n', pos);
    if (eol < 0) eol = len;
    const lineEnd = head.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
    if (lineEnd <= pos) break; // the empty line
    const c = head.charCodeAt(pos);
    if (c === 32 || c === 9) {
      // Continuation of the previous header (LWS = [*WSP CRLF] 1*WSP).
      if (rawStart < 0) throw parseError('SIP_ERR_HEADER_LINE', 'continuation line before any header');
      value += ' ' + trimWs(head.slice(pos, lineEnd));
      rawEnd = lineEnd;
      folded = true;
    } else {
      if (rawStart >= 0) msg.pushParsedHeader(name, key, folded ? trimWs(value) : value, head.slice(rawStart, rawEnd));
      if (++count > maxHeaders) throw parseError('SIP_ERR_TOO_LARGE', `more than ${maxHeaders} header lines`);
      const colon = head.indexOf(':', pos);
      if (colon < 0 || colon > lineEnd) {
        throw parseError('SIP_ERR_HEADER_LINE', `header line without colon: ${JSON.stringify(head.slice(pos, Math.min(lineEnd, pos + 40)))}`);
      }
      let nameEnd = colon;
      while (nameEnd > pos && (head.charCodeAt(nameEnd - 1) === 32 || head.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
      if (nameEnd === pos) throw parseError('SIP_ERR_HEADER_LINE', 'empty header name');
      const k = keyAt(head, pos, nameEnd);
      if (k === undefined) throw parseError('SIP_ERR_HEADER_LINE', 'header name is not a token');
      key = k;
      name = head.slice(pos, nameEnd);
      let vs = colon + 1;
      while (vs < lineEnd && (head.charCodeAt(vs) === 32 || head.charCodeAt(vs) === 9)) vs++;
      let ve = lineEnd;
      while (ve > vs && (head.charCodeAt(ve - 1) === 32 || head.charCodeAt(ve - 1) === 9)) ve--;
      value = head.slice(vs, ve);
      rawStart = pos;
      rawEnd = lineEnd;
      folded = false;
    }
    pos = eol + 1;
  }
  if (rawStart >= 0) msg.pushParsedHeader(name, key, folded ? trimWs(value) : value, head.slice(rawStart, rawEnd));
  if (startLineError !== undefined) throw startLineError;
  return msg;
}

/**
 * Request-Line = Method SP Request-URI SP SIP-Version (§7.1); Status-Line =
 * SIP-Version SP Status-Code SP Reason-Phrase (§7.2). Runs of spaces and
 * trailing whitespace are accepted (RFC 4475 §3.1.2.9–10 liberal reading);
 * the line is rewritten with single spaces when forwarded. The version is
 * checked by validation so that a 505 can still be built from the headers.
 */
function parseStartLine(line: string): SipMessageLike {
  const fast = parseCommonStartLine(line);
  if (fast !== undefined) return fast;
  if (line.startsWith('SIP/')) {
    const m = /^(SIP\/\d+\.\d+)[ \t]+(\d+)(?:[ \t]([^\r\n]*))?$/.exec(line);
    if (!m) throw parseError('SIP_ERR_START_LINE', 'malformed Status-Line');
    if (m[2].length !== 3) throw parseError('SIP_ERR_STATUS_CODE', `status code ${m[2]} is not three digits`);
    const status = Number(m[2]);
    if (status < 100 || status > 699) throw parseError('SIP_ERR_STATUS_CODE', `status code ${status} out of range`);
    const res = new SipResponse(status, m[3] ?? '');
    res.version = m[1];
    return res;
  }
  const parts = trimWs(line).split(/[ \t]+/);
  if (parts.length > 3 && isToken(parts[0]) && /^SIP\/\d+\.\d+$/i.test(parts[parts.length - 1])) {
    // RFC 4475 §3.1.2.8 (lwsruri): whitespace inside the Request-URI is
    // malformed, but method and version are clear, so a 400 can be sent.
    const e = parseError('SIP_ERR_START_LINE', 'whitespace inside the Request-URI');
    const partial = new SipRequest(parts[0], parts.slice(1, -1).join(' '));
    partial.version = parts[parts.length - 1].toUpperCase();
    e.partial = partial;
    throw e;
  }
  if (parts.length !== 3) throw parseError('SIP_ERR_START_LINE', 'Request-Line needs method, Request-URI and version');
  const [method, uri, version] = parts;
  if (!isToken(method)) throw parseError('SIP_ERR_METHOD', 'method is not a token');
  if (!/^SIP\/\d+\.\d+$/i.test(version)) throw parseError('SIP_ERR_START_LINE', `bad SIP-Version ${JSON.stringify(version)}`);
  const req = new SipRequest(method, uri);
  req.version = version.toUpperCase();
  return req;
}

/**
 * The start line as nearly every message writes it — single spaces and
 * `SIP/2.0` — read without regular expressions (the relay's hot path);
 * undefined for anything else, which {@link parseStartLine} reads in full.
 */
function parseCommonStartLine(line: string): SipMessageLike | undefined {
  if (line.startsWith('SIP/2.0 ')) {
    // "SIP/2.0 200 OK": three digits, then a space or the end of the line.
    if (line.length < 11 || (line.length > 11 && line.charCodeAt(11) !== 32)) return undefined;
    let status = 0;
    for (let i = 8; i < 11; i++) {
      const c = line.charCodeAt(i);
      if (c < 48 || c > 57) return undefined;
      status = status * 10 + (c - 48);
    }
    if (status < 100 || status > 699) return undefined;
    const reason = line.length > 12 ? line.slice(12) : '';
    for (let i = 0; i < reason.length; i++) if (reason.charCodeAt(i) === 9) return undefined;
    return new SipResponse(status, reason);
  }
  const a = line.indexOf(' ');
  if (a <= 0) return undefined;
  const b = line.indexOf(' ', a + 1);
  if (b !== line.length - 8 || b === a + 1 || !line.endsWith(' SIP/2.0')) return undefined;
  for (let i = a + 1; i < b; i++) if (line.charCodeAt(i) === 9) return undefined;
  const method = line.slice(0, a);
  if (!isToken(method)) return undefined;
  return new SipRequest(method, line.slice(a + 1, b));
}

function isToken(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    if (ch >= 128 || TOKEN[ch] === 0) return false;
  }
  return s.length > 0;
}

/** Frames the body by Content-Length (§18.3, §20.14). */
function attachBody(msg: SipMessageLike, bytes: Uint8Array, headEnd: number, datagram: boolean): void {
  let length: number | undefined;
  for (const h of msg.headers) {
    if (h.key !== 'content-length') continue;
    if (!/^\d{1,10}$/.test(h.value)) throw parseError('SIP_ERR_CONTENT_LENGTH', `bad Content-Length ${JSON.stringify(h.value)}`, 'content-length');
    const n = Number(h.value);
    if (length !== undefined && n !== length) throw parseError('SIP_ERR_CONTENT_LENGTH', 'two different Content-Length values', 'content-length');
    length = n;
  }
  const available = bytes.length - headEnd;
  if (length === undefined) {
    if (!datagram) throw parseError('SIP_ERR_CONTENT_LENGTH', 'Content-Length is required on stream transports', 'content-length');
    length = available;
  } else if (length > available) {
    throw parseError('SIP_ERR_BODY_INCOMPLETE', `Content-Length ${length} exceeds the ${available} bytes received`, 'content-length');
  }
  if (length > 0) msg.body = bytes.subarray(headEnd, headEnd + length);
}
