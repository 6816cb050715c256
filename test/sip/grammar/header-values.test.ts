import { describe, expect, it } from 'vitest';
import { isSipParseError } from '../../../sip/errors.js';
import { parseAuthHeader } from '../../../sip/grammar/auth-header.js';
import { parseCSeq } from '../../../sip/grammar/cseq.js';
import { splitCommaList, unquote } from '../../../sip/grammar/header-scanner.js';
import { NameAddress, parseNameAddress } from '../../../sip/grammar/name-address.js';
import { parseUri } from '../../../sip/grammar/uri.js';
import { parseVia } from '../../../sip/grammar/via.js';

const code = (fn: () => unknown) => {
  try {
    fn();
    return undefined;
  } catch (e) {
    return isSipParseError(e) ? e.code : 'not-typed';
  }
};

describe('comma lists (RFC 3261 §7.3.1)', () => {
  it('splits at top-level commas only', () => {
    expect(splitCommaList('<sip:a,b@x>;q=1, "x, y" <sip:c@d>, sip:e@f')).toEqual(['<sip:a,b@x>;q=1', '"x, y" <sip:c@d>', 'sip:e@f']);
  });
  it('keeps empty elements so that typed parsers can refuse them', () => {
    expect(splitCommaList('a,,b')).toEqual(['a', '', 'b']);
  });
});

describe('name-addr and addr-spec (§20.10, §25.1)', () => {
  it('reads a quoted display name with escapes, the URI and parameters', () => {
    const na = parseNameAddress('"Alice \\"A\\" Smith" <sip:alice@atlanta.com;lr>;tag=1928301774;expires=60');
    expect(na.displayName).toBe('Alice "A" Smith');
    expect(na.uri.toString()).toBe('sip:alice@atlanta.com;lr');
    expect(na.tag).toBe('1928301774');
    expect(na.params.get('expires')).toBe('60');
  });

  it('treats parameters after an addr-spec as header parameters', () => {
    const na = parseNameAddress('sip:bob@biloxi.com;tag=a6c85cf');
    expect(na.uri.toString()).toBe('sip:bob@biloxi.com');
    expect(na.tag).toBe('a6c85cf');
  });

  it('writes the name-addr form and quotes display names that need it', () => {
    const na = new NameAddress(parseUri('sip:a@b'), 'Bell, Alexander');
    na.tag = 'x1';
    expect(na.toString()).toBe('"Bell, Alexander" <sip:a@b>;tag=x1');
    expect(new NameAddress(parseUri('sip:a@b'), 'Bob').toString()).toBe('Bob <sip:a@b>');
  });

  it.each([
    ['Bell, Alexander <sip:a@b>', 'comma in an unquoted display name'],
    ['"open <sip:a@b>', 'unterminated quote'],
    ['<sip:a@b', 'missing >'],
    ['< sip:a@b >', 'spaces inside <>'],
    ['sip:a@b?x=y', 'headers without <>'],
    ['<sip:a@b>;;tag=1', 'empty parameter'],
    ['<sip:a@b> junk', 'trailing text'],
    ['', 'empty'],
  ])('refuses %j (%s)', (s) => {
    expect(code(() => parseNameAddress(s))).toMatch(/SIP_ERR_(HEADER_SYNTAX|URI)/);
  });
});

describe('Via (§20.42, RFC 3581)', () => {
  it('reads protocol, transport, sent-by and parameters with LWS around separators', () => {
    const v = parseVia('SIP / 2.0 / ws df7jal23ls0d.invalid;branch=z9hG4bKnashds7 ; rport ;received=192.0.2.1');
    expect(v.transport).toBe('WS');
    expect(v.host).toBe('df7jal23ls0d.invalid');
    expect(v.branch).toBe('z9hG4bKnashds7');
    expect(v.rport).toBeNull();
    expect(v.received).toBe('192.0.2.1');
    expect(v.hasRfc3261Branch).toBe(true);
  });

  it('reads rport with a value and an IPv6 sent-by with port', () => {
    const v = parseVia('SIP/2.0/UDP [2001:db8::1]:5070;rport=5071;branch=z9hG4bK1');
    expect(v.rport).toBe(5071);
    expect(v.sentBy).toBe('[2001:db8::1]:5070');
  });

  it('writes a canonical form', () => {
    expect(parseVia('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport').toString()).toBe('SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK1;rport');
  });

  it.each(['SIP/2.0/UDP', 'SIP/2.0 host', 'SIP/2.0/UDPhost', 'SIP/2.0/UDP host;;', 'SIP/2.0/UDP host:abc', ''])('refuses %j', (s) => {
    expect(code(() => parseVia(s))).toBe('SIP_ERR_HEADER_SYNTAX');
  });
});

describe('CSeq (§20.16)', () => {
  it('accepts leading zeros and folding whitespace', () => {
    expect(parseCSeq('0009  INVITE')).toEqual({ seq: 9, method: 'INVITE' });
    expect(parseCSeq('4294967295 ACK')).toEqual({ seq: 4294967295, method: 'ACK' });
  });
  it.each(['4294967296 INVITE', '-1 INVITE', 'INVITE', '1', '1 IN VITE', '1 INV@TE'])('refuses %j', (s) => {
    expect(code(() => parseCSeq(s))).toBe('SIP_ERR_CSEQ');
  });
});

describe('auth headers (§25.1, RFC 7616)', () => {
  it('reads a Digest challenge with quoted and token values', () => {
    const h = parseAuthHeader('Digest realm="portal.test", nonce="abc,def", qop="auth", algorithm=SHA-256, stale=true');
    expect(h.scheme).toBe('Digest');
    expect(h.get('realm')).toBe('portal.test');
    expect(h.get('nonce')).toBe('abc,def');
    expect(h.get('ALGORITHM')).toBe('SHA-256');
    expect(h.get('stale')).toBe('true');
  });

  it('writes quoted values back quoted', () => {
    const s = 'Digest username="bob", realm="x", nc=00000001, response="0a"';
    expect(parseAuthHeader(s).toString()).toBe(s);
  });

  it('reads an unknown scheme (RFC 4475 §3.3.7)', () => {
    expect(parseAuthHeader('NoOneKnowsThisScheme opaque-data=here').get('opaque-data')).toBe('here');
  });

  it('refuses an unterminated quoted value', () => {
    expect(code(() => parseAuthHeader('Digest realm="x'))).toBe('SIP_ERR_HEADER_SYNTAX');
  });

  it('unquotes quoted-pairs', () => {
    expect(unquote('"a\\"b\\\\c"')).toBe('a"b\\c');
  });
});
