import { describe, expect, it } from 'vitest';
import { isSipParseError } from '../../../sip/errors.js';
import { AbsoluteUri, parseUri, SipUri, TelUri, uriEquals } from '../../../sip/grammar/uri.js';

const sip = (s: string) => parseUri(s) as SipUri;
function fails(s: string): string | undefined {
  try {
    parseUri(s);
    return undefined;
  } catch (e) {
    return isSipParseError(e) ? e.code : 'not-typed';
  }
}

describe('SIP URI parsing (RFC 3261 §19.1)', () => {
  it('reads user, password, host, port, parameters and headers', () => {
    const u = sip('sips:alice:secret@Example.COM:5061;transport=TLS;lr;maddr=10.0.0.1?subject=hi&priority=urgent');
    expect(u.scheme).toBe('sips');
    expect(u.user).toBe('alice');
    expect(u.password).toBe('secret');
    expect(u.host).toBe('Example.COM');
    expect(u.hostname).toBe('example.com');
    expect(u.port).toBe(5061);
    expect(u.transport).toBe('tls');
    expect(u.lr).toBe(true);
    expect(u.params.get('maddr')).toBe('10.0.0.1');
    expect(u.headers).toEqual([
      ['subject', 'hi'],
      ['priority', 'urgent'],
    ]);
  });

  it('writes back what it read', () => {
    for (const s of ['sip:a@b', 'sip:b:5060', 'sips:u:p@[::1]:5061;lr;x=y?h=v', 'sip:%61lice@host;transport=ws']) {
      expect(parseUri(s).toString()).toBe(s);
    }
  });

  it('accepts a host without user, and scheme in any case', () => {
    const u = sip('SIP:proxy.example.com');
    expect(u.scheme).toBe('sip');
    expect(u.user).toBeUndefined();
  });

  it.each([
    ['sip:', 'empty host'],
    ['sip:user@', 'empty host after @'],
    ['sip:@host', 'empty user'],
    ['sip:host:99999', 'port out of range'],
    ['sip:host:', 'empty port'],
    ['sip:ho st', 'space'],
    ['sip:host;;lr', 'empty parameter'],
    ['sip:host;a=', 'empty parameter value'],
    ['sip:[::1', 'unclosed IPv6'],
    ['sip:[zz::1]', 'bad IPv6'],
    ['sip:-host', 'label starting with -'],
    ['sip:us%zzer@host', 'bad escape'],
    ['<sip:host>', 'angle brackets'],
    ['nocolon', 'no scheme'],
    ['1sip:host', 'scheme starting with a digit'],
  ])('refuses %s (%s)', (s) => {
    expect(fails(s)).toBe('SIP_ERR_URI');
  });
});

describe('tel and other URIs', () => {
  it('parses tel URIs with parameters (RFC 3966)', () => {
    const t = parseUri('tel:+1-201-555-0123;ext=1234') as TelUri;
    expect(t.kind).toBe('tel');
    expect(t.isGlobal).toBe(true);
    expect(t.params.get('ext')).toBe('1234');
    expect(t.toString()).toBe('tel:+1-201-555-0123;ext=1234');
  });

  it('keeps unknown schemes opaque', () => {
    const a = parseUri('urn:service:sos') as AbsoluteUri;
    expect(a.kind).toBe('absolute');
    expect(a.opaque).toBe('service:sos');
  });
});

describe('URI comparison (RFC 3261 §19.1.4)', () => {
  const eq = (a: string, b: string) => uriEquals(parseUri(a), parseUri(b));
  it('follows the RFC examples of equal URIs', () => {
    expect(eq('sip:%61lice@atlanta.com;transport=TCP', 'sip:alice@AtLanTa.CoM;Transport=tcp')).toBe(true);
    expect(eq('sip:carol@chicago.com', 'sip:carol@chicago.com;newparam=5')).toBe(true);
    expect(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;newparam=5')).toBe(true);
    expect(eq('sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com', 'sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com')).toBe(true);
  });

  it('follows the RFC examples of different URIs', () => {
    expect(eq('SIP:ALICE@AtLanTa.CoM;Transport=udp', 'sip:alice@AtLanTa.CoM;Transport=UDP')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com:5060')).toBe(false);
    expect(eq('sip:bob@biloxi.com', 'sip:bob@biloxi.com;transport=udp')).toBe(false);
    expect(eq('sip:carol@chicago.com;security=on', 'sip:carol@chicago.com;security=off')).toBe(false);
    expect(eq('sip:alice@atlanta.com?subject=project%20x', 'sip:alice@atlanta.com')).toBe(false);
  });
});
