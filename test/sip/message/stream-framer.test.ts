import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSipParseError } from '../../../sip/errors.js';
import { parseMessage } from '../../../sip/message/parser.js';
import { StreamFramer } from '../../../sip/message/stream-framer.js';

const enc = (s: string) => new TextEncoder().encode(s);
const msg = (n: number, body = '') =>
  `OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK${n}\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c${n}\r\nCSeq: ${n} OPTIONS\r\nl: ${enc(body).length}\r\n\r\n${body}`;

function messages(items: ReturnType<StreamFramer['push']>) {
  return items.filter((i) => i.kind === 'message').map((i) => (i.kind === 'message' ? i.bytes : new Uint8Array()));
}

describe('stream framing by Content-Length (RFC 3261 §18.3)', () => {
  it('splits several messages that arrive in one chunk', () => {
    const f = new StreamFramer();
    const out = messages(f.push(enc(msg(1) + msg(2, 'hello') + msg(3))));
    expect(out.map((b) => (parseMessage(b, { datagram: false }) as { cseq: { seq: number } }).cseq.seq)).toEqual([1, 2, 3]);
    expect(f.pending).toBe(0);
  });

  it('joins one message that arrives a byte at a time', () => {
    const f = new StreamFramer();
    const bytes = enc(msg(1, 'body with ünïcode'));
    const out: Uint8Array[] = [];
    for (const b of bytes) out.push(...messages(f.push(Uint8Array.of(b))));
    expect(out).toHaveLength(1);
    expect(Buffer.from(out[0]).equals(Buffer.from(bytes))).toBe(true);
  });

  it('frames a binary body with NULs and bare LFs (mpart01)', () => {
    const bytes = readFileSync(new URL('../../fixtures/rfc4475/mpart01.dat', import.meta.url));
    const f = new StreamFramer();
    const out = messages(f.push(bytes.subarray(0, 700)).concat(f.push(bytes.subarray(700))));
    expect(out).toHaveLength(1);
    expect(parseMessage(out[0], { datagram: false }).body.length).toBe(553);
  });

  it('reports CRLF CRLF as a ping and a lone CRLF as a pong (RFC 5626 §3.5.1)', () => {
    const f = new StreamFramer();
    expect(f.push(enc('\r\n\r\n')).map((i) => i.kind)).toEqual(['ping']);
    expect(f.push(enc('\r\n')).map((i) => i.kind)).toEqual(['pong']);
    expect(f.push(enc('\r\n\r\n' + msg(1))).map((i) => i.kind)).toEqual(['ping', 'message']);
  });

  it.each([
    ['a negative Content-Length', msg(1).replace('l: 0', 'l: -999'), 'SIP_ERR_FRAMING'],
    ['a missing Content-Length', msg(1).replace('l: 0\r\n', ''), 'SIP_ERR_FRAMING'],
    ['two different Content-Lengths', msg(1).replace('l: 0', 'l: 0\r\nContent-Length: 5'), 'SIP_ERR_FRAMING'],
  ])('fails for good on %s, so the connection is closed', (_what, text, code) => {
    const f = new StreamFramer();
    let err: unknown;
    try {
      f.push(enc(text));
    } catch (e) {
      err = e;
    }
    expect(isSipParseError(err) && err.code).toBe(code);
    expect(() => f.push(enc(msg(2)))).toThrow();
  });

  it('refuses a message larger than the limit, even before it is complete', () => {
    const f = new StreamFramer({ maxMessageSize: 1000 });
    expect(() => f.push(enc(msg(1, 'x'.repeat(2000))))).toThrow(/exceeds/);
    const g = new StreamFramer({ maxMessageSize: 1000 });
    expect(() => g.push(enc('OPTIONS sip:a@b SIP/2.0\r\nX: ' + 'y'.repeat(1500)))).toThrow(/exceeds/);
  });

  it('validates its options', () => {
    expect(() => new StreamFramer({ maxMessageSize: 10 })).toThrow(TypeError);
  });
});
