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

/** Parses the header section text (start line through the empty line). */
function parseHead(head: string, maxHeaders: number): SipMessageLike {
  let eol = head.indexOf('\n');
  const first = head.charCodeAt(eol - 1) === 13 ? head.slice(0, eol - 1) : head.slice(0, eol);
  const msg = parseStartLine(first);
  let pos = eol + 1;
  let count = 0;
  // The current header accumulates folded continuation lines (§7.3.1).
  let name = '';
  let value = '';
  let rawStart = -1;
  let rawEnd = -1;
  let folded = false;
  const flush = () => {
    if (rawStart < 0) return;
    const key = headerKey(name);
    msg.pushParsedHeader(name, key, folded ? trimWs(value) : value, head.slice(rawStart, rawEnd));
  };
  while (pos < head.length) {
    eol = head.indexOf('\n', pos);
    if (eol < 0) eol = head.length;
    const lineEnd = head.charCodeAt(eol - 1) === 13 ? eol - 1 : eol;
    if (lineEnd === pos) break; // the empty line
    const c = head.charCodeAt(pos);
    if (c === 32 || c === 9) {
      // Continuation of the previous header (LWS = [*WSP CRLF] 1*WSP).
      if (rawStart < 0) throw parseError('SIP_ERR_HEADER_LINE', 'continuation line before any header');
      value += ' ' + trimWs(head.slice(pos, lineEnd));
      rawEnd = lineEnd;
      folded = true;
    } else {
      flush();
      if (++count > maxHeaders) throw parseError('SIP_ERR_TOO_LARGE', `more than ${maxHeaders} header lines`);
      const colon = head.indexOf(':', pos);
      if (colon < 0 || colon > lineEnd) {
        throw parseError('SIP_ERR_HEADER_LINE', `header line without colon: ${JSON.stringify(head.slice(pos, Math.min(lineEnd, pos + 40)))}`);
      }
      let nameEnd = colon;
      while (nameEnd > pos && (head.charCodeAt(nameEnd - 1) === 32 || head.charCodeAt(nameEnd - 1) === 9)) nameEnd--;
      if (nameEnd === pos) throw parseError('SIP_ERR_HEADER_LINE', 'empty header name');
      for (let i = pos; i < nameEnd; i++) {
        const ch = head.charCodeAt(i);
        if (ch >= 128 || TOKEN[ch] === 0) throw parseError('SIP_ERR_HEADER_LINE', 'header name is not a token');
      }
      name = head.slice(pos, nameEnd);
      value = trimWs(head.slice(colon + 1, lineEnd));
      rawStart = pos;
      rawEnd = lineEnd;
      folded = false;
    }
    pos = eol + 1;
  }
  flush();
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
  if (parts.length !== 3) throw parseError('SIP_ERR_START_LINE', 'Request-Line needs method, Request-URI and version');
  const [method, uri, version] = parts;
  for (let i = 0; i < method.length; i++) {
    const ch = method.charCodeAt(i);
    if (ch >= 128 || TOKEN[ch] === 0) throw parseError('SIP_ERR_METHOD', 'method is not a token');
  }
  if (!/^SIP\/\d+\.\d+$/i.test(version)) throw parseError('SIP_ERR_START_LINE', `bad SIP-Version ${JSON.stringify(version)}`);
  const req = new SipRequest(method, uri);
  req.version = version.toUpperCase();
  return req;
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
