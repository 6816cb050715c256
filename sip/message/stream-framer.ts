import { parseError, type SipParseError } from '../errors.js';
import { findHeaderEnd } from './parser.js';

/** Limits of a {@link StreamFramer}. */
export interface StreamFramerOptions {
  /** Largest message, header section plus body, in bytes. Default 65535. */
  maxMessageSize?: number;
}

/** What {@link StreamFramer.push} found in the bytes it was given. */
export type FramedItem =
  | { kind: 'message'; bytes: Uint8Array }
  /** A CRLF CRLF keep-alive ping (RFC 5626 §3.5.1); answer with one CRLF. */
  | { kind: 'ping' }
  /** A lone CRLF: a pong, or an idle keep-alive. */
  | { kind: 'pong' };

/**
 * Frames SIP messages on a byte stream (TCP, TLS) by Content-Length
 * (RFC 3261 §18.3). Once framing fails — an over-long message, a missing or
 * bad Content-Length — the stream cannot be resynchronised: `push` throws a
 * SipParseError with code `SIP_ERR_FRAMING` or `SIP_ERR_TOO_LARGE` and the
 * transport must close the connection (RFC 4475 §3.1.2.3, §3.3.9).
 */
export class StreamFramer {
  // A growable buffer: bytes [0, length) are held; capacity doubles so a
  // message trickling in byte by byte costs linear time, not quadratic.
  private buf: Uint8Array = new Uint8Array(0);
  private length = 0;
  // Where the search for the end of the header section resumes.
  private scanFrom = 0;
  // Known end of the current message once its headers were read, else -1.
  private messageEnd = -1;
  private readonly maxSize: number;
  private failed: SipParseError | undefined;

  constructor(options?: StreamFramerOptions) {
    this.maxSize = options?.maxMessageSize ?? 65535;
    if (!Number.isInteger(this.maxSize) || this.maxSize < 256) throw new TypeError('maxMessageSize must be an integer >= 256');
  }

  /** Bytes held waiting for the rest of a message. */
  get pending(): number {
    return this.length;
  }

  /** Adds bytes; returns every complete item now available, in order. */
  push(chunk: Uint8Array): FramedItem[] {
    if (this.failed) throw this.failed;
    this.append(chunk);
    const data = this.buf;
    const out: FramedItem[] = [];
    let pos = 0;
    for (;;) {
      if (this.messageEnd < 0) {
        // Keep-alives between messages (RFC 5626 §3.5.1, RFC 3261 §7.5).
        if (pos + 1 < this.length && data[pos] === 13 && data[pos + 1] === 10) {
          if (pos + 3 < this.length && data[pos + 2] === 13 && data[pos + 3] === 10) {
            out.push({ kind: 'ping' });
            pos += 4;
          } else {
            out.push({ kind: 'pong' });
            pos += 2;
          }
          this.scanFrom = pos;
          continue;
        }
        if (pos >= this.length) break;
        const view = data.subarray(0, this.length);
        const headEnd = findHeaderEnd(view, Math.max(pos, this.scanFrom - 3));
        if (headEnd < 0) {
          this.scanFrom = this.length;
          if (this.length - pos > this.maxSize) this.fail('SIP_ERR_TOO_LARGE', 'header section exceeds the maximum message size');
          break;
        }
        const length = contentLength(view, pos, headEnd);
        if (length === undefined) this.fail('SIP_ERR_FRAMING', 'missing Content-Length on a stream transport');
        if (length < 0) this.fail('SIP_ERR_FRAMING', 'bad or conflicting Content-Length');
        this.messageEnd = headEnd + length;
        if (this.messageEnd - pos > this.maxSize) this.fail('SIP_ERR_TOO_LARGE', `message of ${this.messageEnd - pos} bytes exceeds ${this.maxSize}`);
      }
      if (this.messageEnd > this.length) break;
      out.push({ kind: 'message', bytes: data.slice(pos, this.messageEnd) });
      pos = this.messageEnd;
      this.messageEnd = -1;
      this.scanFrom = pos;
    }
    this.consume(pos);
    return out;
  }

  private append(chunk: Uint8Array): void {
    const need = this.length + chunk.length;
    if (need > this.buf.length) {
      const grown = new Uint8Array(Math.max(need, this.buf.length * 2, 1024));
      grown.set(this.buf.subarray(0, this.length));
      this.buf = grown;
    }
    this.buf.set(chunk, this.length);
    this.length = need;
  }

  /** Drops the first `n` bytes, shifting what remains to the front. */
  private consume(n: number): void {
    if (n === 0) return;
    if (n >= this.length) {
      this.length = 0;
      this.scanFrom = 0;
      if (this.messageEnd >= 0) this.messageEnd -= n;
      // Release a large buffer once it is empty.
      if (this.buf.length > 65536) this.buf = new Uint8Array(0);
      return;
    }
    this.buf.copyWithin(0, n, this.length);
    this.length -= n;
    this.scanFrom = Math.max(0, this.scanFrom - n);
    if (this.messageEnd >= 0) this.messageEnd -= n;
  }

  private fail(code: 'SIP_ERR_FRAMING' | 'SIP_ERR_TOO_LARGE', detail: string): never {
    this.failed = parseError(code, detail, 'content-length');
    this.buf = new Uint8Array(0);
    this.length = 0;
    throw this.failed;
  }
}

/**
 * Reads Content-Length (or `l`) from the raw header bytes: the number,
 * `undefined` when absent, -1 when malformed or given twice with different
 * values. Works on bytes so the header section is not decoded twice.
 */
function contentLength(data: Uint8Array, from: number, to: number): number | undefined {
  let result: number | undefined;
  let lineStart = from;
  while (lineStart < to) {
    let lineEnd = data.indexOf(10, lineStart);
    if (lineEnd < 0 || lineEnd > to) lineEnd = to;
    const c0 = data[lineStart] | 0x20;
    if (c0 === 0x6c /* l */ || c0 === 0x63 /* c */) {
      let i = lineStart;
      let matched = false;
      if (c0 === 0x6c) {
        i++;
        matched = true;
      } else if (lineEnd - lineStart > 14) {
        const name = 'content-length';
        matched = true;
        for (let k = 0; k < 14; k++) {
          if ((data[lineStart + k] | 0x20) !== name.charCodeAt(k)) {
            matched = false;
            break;
          }
        }
        i = lineStart + 14;
      }
      if (matched) {
        while (data[i] === 32 || data[i] === 9) i++;
        if (data[i] === 58 /* : */) {
          i++;
          while (data[i] === 32 || data[i] === 9) i++;
          let n = 0;
          let digits = 0;
          while (data[i] >= 48 && data[i] <= 57) {
            n = n * 10 + (data[i] - 48);
            i++;
            if (++digits > 9) return -1;
          }
          while (data[i] === 32 || data[i] === 9) i++;
          if (digits === 0 || (data[i] !== 13 && data[i] !== 10)) return -1;
          if (result !== undefined && result !== n) return -1;
          result = n;
        }
      }
    }
    lineStart = lineEnd + 1;
  }
  return result;
}
