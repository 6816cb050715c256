import { describe, expect, it } from 'vitest';
import { validateProxyRequest } from '../../../server/proxy/request-validation.js';
import { SipRequest } from '../../../sip/message/sip-request.js';

const options = { proxyRequireSupported: new Set(['sec-agree']) };

function request(uri: string, headers: Array<[string, string]> = []): SipRequest {
  return new SipRequest('OPTIONS', uri, [
    ['Via', 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKabc'],
    ['Max-Forwards', '70'],
    ['From', '<sip:a@x>;tag=1'],
    ['To', '<sip:b@x>'],
    ['Call-ID', 'c'],
    ['CSeq', '1 OPTIONS'],
    ...headers,
  ]);
}

describe('proxy request validation (RFC 3261 §16.3)', () => {
  it('lets a well-formed sip, sips or tel request through', () => {
    expect(validateProxyRequest(request('sip:wine@portal.test'), options)).toBeUndefined();
    expect(validateProxyRequest(request('sips:wine@portal.test'), options)).toBeUndefined();
    expect(validateProxyRequest(request('tel:+15551234'), options)).toBeUndefined();
  });

  it('answers 416 to a Request-URI scheme it does not route (RFC 4475 unkscm)', () => {
    expect(validateProxyRequest(request('nobodyKnowsThisScheme:totallyopaquecontent'), options)?.status).toBe(416);
    expect(validateProxyRequest(request('http://example.com/'), options)?.status).toBe(416);
  });

  it('answers 400 to escaped headers in the Request-URI (RFC 4475 escruri)', () => {
    const f = validateProxyRequest(request('sip:user@example.com?Route=%3Csip:example.com%3E'), options);
    expect(f?.status).toBe(400);
  });

  it('answers 483 to Max-Forwards 0, unless the caller answers the request itself', () => {
    const r = request('sip:wine@portal.test');
    r.setHeader('Max-Forwards', '0');
    expect(validateProxyRequest(r, options)?.status).toBe(483);
    expect(validateProxyRequest(r, options, true)).toBeUndefined();
  });

  it('answers 420 listing the Proxy-Require option tags it does not support', () => {
    const f = validateProxyRequest(request('sip:wine@portal.test', [['Proxy-Require', 'foo, sec-agree, Bar']]), options);
    expect(f?.status).toBe(420);
    expect(f?.headers).toEqual([['Unsupported', 'foo, bar']]);
    expect(validateProxyRequest(request('sip:wine@portal.test', [['Proxy-Require', 'sec-agree']]), options)).toBeUndefined();
  });
});
