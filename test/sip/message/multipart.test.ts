import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseMediaType } from '../../../sip/message/content-type.js';
import { buildMultipart, parseMultipart } from '../../../sip/message/multipart.js';
import { parseMessage } from '../../../sip/message/parser.js';
import { utf8Decode } from '../../../sip/util/bytes.js';

describe('Content-Type', () => {
  it('reads type, subtype and unquoted parameters', () => {
    const mt = parseMediaType('Multipart/Mixed ; boundary="a b"; charset=utf-8');
    expect(mt.type).toBe('multipart/mixed');
    expect(mt.params.get('boundary')).toBe('a b');
    expect(mt.params.get('charset')).toBe('utf-8');
  });
  it('refuses a type without subtype', () => {
    expect(() => parseMediaType('application')).toThrow(expect.objectContaining({ code: 'SIP_ERR_HEADER_SYNTAX' }));
  });
});

describe('multipart bodies (RFC 2046 §5.1)', () => {
  it('splits the RFC 4475 mpart01 body, keeping the binary part byte-exact', () => {
    const m = parseMessage(readFileSync(new URL('../../fixtures/rfc4475/mpart01.dat', import.meta.url)));
    const parts = parseMultipart(m.header('content-type')!, m.body);
    expect(parts.map((p) => p.contentType)).toEqual(['text/plain', 'application/octet-stream']);
    expect(utf8Decode(parts[0].body)).toBe('Hello');
    expect(parts[1].body.includes(0)).toBe(true);
    expect(parts[1].body[0]).toBe(0x30);
  });

  it('round-trips SDP and the siprelay JSON side by side', () => {
    const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n';
    const json = '{"service":"wine"}';
    const built = buildMultipart([
      { contentType: 'application/sdp', body: sdp },
      { contentType: 'application/vnd.siprelay.request+json', body: json, headers: [['Content-Disposition', 'render;handling=optional']] },
    ]);
    expect(built.contentType).toMatch(/^multipart\/mixed;boundary=siprelay-/);
    const parts = parseMultipart(built.contentType, built.body);
    expect(parts.map((p) => [p.contentType, utf8Decode(p.body)])).toEqual([
      ['application/sdp', sdp],
      ['application/vnd.siprelay.request+json', json],
    ]);
    expect(parts[1].headers).toContainEqual(['content-disposition', 'render;handling=optional']);
  });

  it('refuses a body without its boundary', () => {
    expect(() => parseMultipart('multipart/mixed;boundary=x', new TextEncoder().encode('nothing here'))).toThrow(
      expect.objectContaining({ code: 'SIP_ERR_HEADER_SYNTAX' }),
    );
  });
});
