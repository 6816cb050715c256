import { parseError } from '../errors.js';
import { utf8Decode, utf8Encode, concatBytes } from '../util/bytes.js';
import { randomToken } from '../util/random.js';
import { parseMediaType } from './content-type.js';

/** One body part of a multipart body (RFC 2046 §5.1). */
export interface BodyPart {
  /** Part headers, lower-case names, in order. */
  headers: Array<[name: string, value: string]>;
  /** Media type of the part, lower-case without parameters (`text/plain` when absent, RFC 2046 §5.1.1). */
  contentType: string;
  body: Uint8Array;
}

function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from: number): number {
  const first = needle[0];
  let i = hay.indexOf(first, from);
  while (i >= 0 && i + needle.length <= hay.length) {
    let k = 1;
    while (k < needle.length && hay[i + k] === needle[k]) k++;
    if (k === needle.length) return i;
    i = hay.indexOf(first, i + 1);
  }
  return -1;
}

/**
 * Splits a `multipart/*` body into its parts by the boundary of the
 * Content-Type (RFC 2046 §5.1.1). Works on bytes, so binary parts survive
 * (RFC 4475 §3.1.1.11). Throws SIP_ERR_HEADER_SYNTAX when the body does not
 * follow the grammar.
 */
export function parseMultipart(contentType: string, body: Uint8Array): BodyPart[] {
  const mt = parseMediaType(contentType);
  if (!mt.type.startsWith('multipart/')) throw parseError('SIP_ERR_HEADER_SYNTAX', `${mt.type} is not multipart`, 'content-type');
  const boundary = mt.params.get('boundary');
  if (!boundary) throw parseError('SIP_ERR_HEADER_SYNTAX', 'multipart without boundary', 'content-type');
  const delimiter = utf8Encode('--' + boundary);
  const parts: BodyPart[] = [];
  let pos = indexOfBytes(body, delimiter, 0);
  if (pos < 0) throw parseError('SIP_ERR_HEADER_SYNTAX', 'multipart boundary not found in body');
  for (;;) {
    let after = pos + delimiter.length;
    // Close delimiter: `--boundary--`.
    if (body[after] === 45 && body[after + 1] === 45) break;
    // Transport padding, then CRLF.
    while (body[after] === 32 || body[after] === 9) after++;
    if (body[after] === 13) after++;
    if (body[after] !== 10) throw parseError('SIP_ERR_HEADER_SYNTAX', 'bad multipart delimiter line');
    const start = after + 1;
    const next = indexOfBytes(body, concatBytes([Uint8Array.of(13, 10), delimiter]), start - 2);
    const nextLf = next < 0 ? indexOfBytes(body, concatBytes([Uint8Array.of(10), delimiter]), start - 1) : -1;
    if (next < 0 && nextLf < 0) throw parseError('SIP_ERR_HEADER_SYNTAX', 'multipart part without closing delimiter');
    const end = next >= 0 ? next : nextLf;
    parts.push(parsePart(body.subarray(start, Math.max(start, end))));
    pos = next >= 0 ? next + 2 : nextLf + 1;
  }
  return parts;
}

function parsePart(bytes: Uint8Array): BodyPart {
  // Part headers end at the first empty line; a part may have none.
  let headEnd = -1;
  let bodyStart = 0;
  if (bytes[0] === 13 && bytes[1] === 10) bodyStart = 2;
  else if (bytes[0] === 10) bodyStart = 1;
  else {
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] !== 10) continue;
      if (bytes[i + 1] === 10) {
        headEnd = i;
        bodyStart = i + 2;
        break;
      }
      if (bytes[i + 1] === 13 && bytes[i + 2] === 10) {
        headEnd = i;
        bodyStart = i + 3;
        break;
      }
    }
    if (headEnd < 0) throw parseError('SIP_ERR_HEADER_SYNTAX', 'multipart part headers not terminated');
  }
  const headers: Array<[string, string]> = [];
  if (headEnd > 0) {
    for (const line of utf8Decode(bytes.subarray(0, headEnd)).split(/\r?\n/)) {
      if (!line) continue;
      if ((line[0] === ' ' || line[0] === '\t') && headers.length) {
        headers[headers.length - 1][1] += ' ' + line.trim();
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) throw parseError('SIP_ERR_HEADER_SYNTAX', 'bad multipart part header');
      headers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
    }
  }
  const ct = headers.find(([n]) => n === 'content-type')?.[1];
  return {
    headers,
    contentType: ct ? parseMediaType(ct).type : 'text/plain',
    body: bytes.subarray(bodyStart),
  };
}

/** A part to put into {@link buildMultipart}. */
export interface BodyPartInit {
  contentType: string;
  body: Uint8Array | string;
  /** Further part headers (Content-Disposition, Content-ID ...). */
  headers?: Array<[string, string]>;
}

/**
 * Builds a `multipart/mixed` body (RFC 2046 §5.1.3) — used by clients that
 * must send SDP and put the siprelay JSON beside it. Returns the
 * Content-Type value (with its boundary) and the body bytes.
 */
export function buildMultipart(parts: BodyPartInit[], subtype = 'mixed'): { contentType: string; body: Uint8Array } {
  const boundary = 'siprelay-' + randomToken(16);
  const chunks: Uint8Array[] = [];
  for (const p of parts) {
    let head = `--${boundary}\r\nContent-Type: ${p.contentType}\r\n`;
    for (const [n, v] of p.headers ?? []) head += `${n}: ${v}\r\n`;
    chunks.push(utf8Encode(head + '\r\n'));
    chunks.push(typeof p.body === 'string' ? utf8Encode(p.body) : p.body);
    chunks.push(utf8Encode('\r\n'));
  }
  chunks.push(utf8Encode(`--${boundary}--\r\n`));
  return { contentType: `multipart/${subtype};boundary=${boundary}`, body: concatBytes(chunks) };
}
