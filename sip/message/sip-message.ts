import { parseError } from '../errors.js';
import { parseCSeq, type CSeq } from '../grammar/cseq.js';
import { splitCommaList } from '../grammar/header-scanner.js';
import { NameAddress, parseNameAddress } from '../grammar/name-address.js';
import { parseVia, type Via } from '../grammar/via.js';
import { EMPTY_BYTES, utf8Decode, utf8Encode } from '../util/bytes.js';
import { headerDisplayName, headerKey } from './header-names.js';

/**
 * One header line. `raw` is the line exactly as received (folds included,
 * without the final CRLF) and is written back unchanged until the header is
 * modified; `value` is the unfolded, trimmed value.
 */
export interface HeaderEntry {
  /** The name as written (`v`, `VIA`, `Via`). */
  name: string;
  /** Lower-case full name (`via`). */
  key: string;
  value: string;
  raw: string | undefined;
}

/** Headers given to a constructor: `[name, value]` pairs in order. */
export type HeaderInit = ReadonlyArray<readonly [name: string, value: string]>;

/** A body given to a constructor: bytes, or text written as UTF-8. */
export type BodyInit = Uint8Array | string;

/**
 * What a SIP request and a SIP response share (RFC 3261 §7): header lines
 * in order, and a body of bytes. Headers the stack needs are parsed on
 * first access and cached; headers nobody reads stay raw text.
 */
export abstract class SipMessage {
  /** Header lines in wire order. Mutate through the methods so caches stay right. */
  readonly headers: HeaderEntry[] = [];
  private _body: Uint8Array = EMPTY_BYTES;
  private _bodyText: string | undefined;

  // Parsed-header caches; `undefined` means not parsed yet.
  private _via: Via[] | undefined;
  private _from: NameAddress | undefined;
  private _to: NameAddress | undefined;
  private _cseq: CSeq | undefined;
  private _contacts: NameAddress[] | '*' | undefined;

  abstract readonly isRequest: boolean;
  /** SIP-Version of the start line; always `SIP/2.0` for messages that validate. */
  version = 'SIP/2.0';

  constructor(headers?: HeaderInit, body?: BodyInit) {
    if (headers) for (const [n, v] of headers) this.addHeader(n, v);
    if (body !== undefined) this.body = body;
  }

  // ---- body ---------------------------------------------------------------

  get body(): Uint8Array {
    return this._body;
  }

  set body(value: BodyInit) {
    if (typeof value === 'string') {
      this._body = utf8Encode(value);
      this._bodyText = value;
    } else {
      this._body = value;
      this._bodyText = undefined;
    }
  }

  /** The body decoded as UTF-8. */
  get bodyText(): string {
    if (this._bodyText === undefined) this._bodyText = this._body.length ? utf8Decode(this._body) : '';
    return this._bodyText;
  }

  // ---- raw header access ----------------------------------------------------

  /** Appends a parsed header line (parser use: keeps the raw text). */
  pushParsedHeader(name: string, key: string, value: string, raw: string | undefined): void {
    this.headers.push({ name, key, value, raw });
  }

  /** The value of the first header line named `name` (any spelling, compact or full). */
  header(name: string): string | undefined {
    const key = headerKey(name);
    const hs = this.headers;
    for (let i = 0; i < hs.length; i++) if (hs[i].key === key) return hs[i].value;
    return undefined;
  }

  /** The values of every line named `name`, one per line (not split at commas). */
  headerLines(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const h of this.headers) if (h.key === key) out.push(h.value);
    return out;
  }

  /** Every comma-separated element of every line named `name` (§7.3.1). */
  headerList(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.key !== key) continue;
      for (const v of splitCommaList(h.value)) if (v.length) out.push(v);
    }
    return out;
  }

  hasHeader(name: string): boolean {
    const key = headerKey(name);
    for (const h of this.headers) if (h.key === key) return true;
    return false;
  }

  /** Number of lines named `name`. */
  countHeader(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const h of this.headers) if (h.key === key) n++;
    return n;
  }

  /** Appends a header line. */
  addHeader(name: string, value: string): this {
    const key = headerKey(name);
    this.headers.push({ name: headerDisplayName(name), key, value, raw: undefined });
    this.invalidate(key);
    return this;
  }

  /**
   * Inserts a header line before the first line of the same name, or at the
   * top. Used for Via and Record-Route, whose order is their meaning.
   */
  prependHeader(name: string, value: string): this {
    const key = headerKey(name);
    const entry: HeaderEntry = { name: headerDisplayName(name), key, value, raw: undefined };
    const at = this.headers.findIndex((h) => h.key === key);
    if (at < 0) this.headers.unshift(entry);
    else this.headers.splice(at, 0, entry);
    this.invalidate(key);
    return this;
  }

  /** Replaces every line named `name` with one line (kept where the first one was). */
  setHeader(name: string, value: string): this {
    const key = headerKey(name);
    const at = this.headers.findIndex((h) => h.key === key);
    if (at < 0) return this.addHeader(name, value);
    const first = this.headers[at];
    first.value = value;
    first.raw = undefined;
    for (let i = this.headers.length - 1; i > at; i--) if (this.headers[i].key === key) this.headers.splice(i, 1);
    this.invalidate(key);
    return this;
  }

  /** Removes every line named `name`; returns how many were removed. */
  removeHeader(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (let i = this.headers.length - 1; i >= 0; i--) {
      if (this.headers[i].key === key) {
        this.headers.splice(i, 1);
        n++;
      }
    }
    if (n) this.invalidate(key);
    return n;
  }

  /**
   * Replaces (or, with `undefined`, removes) the first comma element of the
   * first line named `name`, leaving every other element and line as written.
   * The proxy uses it to pop the top Via or Route (RFC 3261 §16.4, §16.7).
   */
  replaceFirstListElement(name: string, value: string | undefined): boolean {
    const key = headerKey(name);
    const at = this.headers.findIndex((h) => h.key === key);
    if (at < 0) return false;
    const entry = this.headers[at];
    const parts = splitCommaList(entry.value);
    if (value === undefined) parts.shift();
    else parts[0] = value;
    if (parts.length === 0) this.headers.splice(at, 1);
    else {
      entry.value = parts.join(', ');
      entry.raw = undefined;
    }
    this.invalidate(key);
    return true;
  }

  /** Drops cached parses after a header changed. */
  protected invalidate(key: string): void {
    switch (key) {
      case 'via':
        this._via = undefined;
        break;
      case 'from':
        this._from = undefined;
        break;
      case 'to':
        this._to = undefined;
        break;
      case 'cseq':
        this._cseq = undefined;
        break;
      case 'contact':
        this._contacts = undefined;
        break;
    }
  }

  // ---- typed access -------------------------------------------------------
  // Each getter parses on first use and throws SipParseError when the header
  // is missing or malformed; the parser's validation calls them up front.

  private required(key: string): string {
    const v = this.header(key);
    if (v === undefined) throw parseError('SIP_ERR_MISSING_HEADER', `missing ${headerDisplayName(key)}`, key);
    return v;
  }

  /** All Via values, top first (§20.42). */
  get via(): Via[] {
    if (this._via === undefined) {
      const list: Via[] = [];
      for (const h of this.headers) {
        if (h.key !== 'via') continue;
        for (const part of splitCommaList(h.value)) list.push(parseVia(part));
      }
      if (list.length === 0) throw parseError('SIP_ERR_MISSING_HEADER', 'missing Via', 'via');
      this._via = list;
    }
    return this._via;
  }

  get topVia(): Via {
    return this.via[0];
  }

  /**
   * Writes a modified top Via (after changing its params) back into the
   * first Via line, leaving the others untouched.
   */
  commitTopVia(): void {
    const list = this.via;
    this.replaceFirstListElement('via', list[0].toString());
    // Only the top value's text changed; the parsed list is still right.
    this._via = list;
  }

  get from(): NameAddress {
    return (this._from ??= parseNameAddress(this.required('from'), 'from'));
  }

  get to(): NameAddress {
    return (this._to ??= parseNameAddress(this.required('to'), 'to'));
  }

  /** Writes a changed From (e.g. after setting the tag) back into its line. */
  commitFrom(): void {
    const f = this.from;
    this.setHeader('From', f.toString());
    this._from = f;
  }

  /** Writes a changed To (e.g. after setting the tag) back into its line. */
  commitTo(): void {
    const t = this.to;
    this.setHeader('To', t.toString());
    this._to = t;
  }

  get callId(): string {
    return this.required('call-id');
  }

  get cseq(): CSeq {
    return (this._cseq ??= parseCSeq(this.required('cseq')));
  }

  /** Max-Forwards as a number, or undefined when absent (§20.22). */
  get maxForwards(): number | undefined {
    const v = this.header('max-forwards');
    if (v === undefined) return undefined;
    let n = 0;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c < 48 || c > 57 || i > 9) throw parseError('SIP_ERR_NUMBER_RANGE', 'malformed Max-Forwards', 'max-forwards');
      n = n * 10 + (c - 48);
    }
    if (v.length === 0) throw parseError('SIP_ERR_NUMBER_RANGE', 'malformed Max-Forwards', 'max-forwards');
    if (n > 255) throw parseError('SIP_ERR_NUMBER_RANGE', 'Max-Forwards above 255', 'max-forwards');
    return n;
  }

  /** Contact values, or `'*'` for the REGISTER wildcard (§10.2.2); empty when absent. */
  get contacts(): NameAddress[] | '*' {
    if (this._contacts === undefined) {
      const parts = this.headerListStrict('contact');
      if (parts.length === 1 && parts[0] === '*') this._contacts = '*';
      else this._contacts = parts.map((p) => parseNameAddress(p, 'contact'));
    }
    return this._contacts;
  }

  /** Route values in order (§20.34). */
  get routes(): NameAddress[] {
    return this.headerListStrict('route').map((p) => parseNameAddress(p, 'route'));
  }

  /** Record-Route values in order (§20.30). */
  get recordRoutes(): NameAddress[] {
    return this.headerListStrict('record-route').map((p) => parseNameAddress(p, 'record-route'));
  }

  /** Comma elements of `name`, throwing on empty elements (`a,,b`). */
  headerListStrict(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const h of this.headers) {
      if (h.key !== key) continue;
      for (const v of splitCommaList(h.value)) {
        if (!v.length) throw parseError('SIP_ERR_HEADER_SYNTAX', `empty element in ${headerDisplayName(key)}`, key);
        out.push(v);
      }
    }
    return out;
  }

  /** Media type of the body, lower-case, without parameters (`application/sdp`). */
  get contentType(): string | undefined {
    const v = this.header('content-type');
    if (v === undefined) return undefined;
    const semi = v.indexOf(';');
    return (semi < 0 ? v : v.slice(0, semi)).trim().toLowerCase();
  }

  /** Option tags of Require, Proxy-Require, Supported or Unsupported, lower-case. */
  optionTags(name: 'require' | 'proxy-require' | 'supported' | 'unsupported'): string[] {
    return this.headerList(name).map((t) => t.toLowerCase());
  }

  // ---- serialisation --------------------------------------------------------

  /** The Request-Line or Status-Line, without CRLF. */
  abstract startLine(): string;

  /**
   * The header section as text: start line, each header line (raw when
   * untouched), Content-Length fixed to the body's length, blank line.
   */
  headText(): string {
    let out = this.startLine() + '\r\n';
    let sawLength = false;
    const len = this._body.length;
    const hs = this.headers;
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i];
      if (h.key === 'content-length') {
        if (sawLength) continue;
        sawLength = true;
        if (h.value !== String(len) || h.raw === undefined) {
          out += h.name + ': ' + len + '\r\n';
          continue;
        }
      }
      out += (h.raw ?? h.name + ': ' + h.value) + '\r\n';
    }
    // RFC 3261 §18.3: mandatory over streams; always written, so one
    // serialisation serves every transport.
    if (!sawLength) out += 'Content-Length: ' + len + '\r\n';
    return out + '\r\n';
  }

  /** The wire form as text (the body decoded as UTF-8; use for logs and tests). */
  toString(): string {
    return this.headText() + this.bodyText;
  }
}
