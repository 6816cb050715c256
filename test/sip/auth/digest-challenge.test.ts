import { describe, expect, it } from 'vitest';
import { buildDigestChallenge, challengeHeaderName, parseDigestChallenge } from '../../../sip/auth/digest-challenge.js';
import { parseAuthHeader } from '../../../sip/grammar/auth-header.js';
import { createResponse } from '../../../sip/message/create-response.js';
import { parseMessage } from '../../../sip/message/parser.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';

describe('Digest challenge', () => {
  describe('built for the relay', () => {
    const values = buildDigestChallenge({ realm: 'portal.test', nonce: 'abc' });

    it('offers MD5 first and SHA-256 second, because JsSIP and SIP.js read only the first', () => {
      expect(values).toHaveLength(2);
      expect(parseAuthHeader(values[0]).get('algorithm')).toBe('MD5');
      expect(parseAuthHeader(values[1]).get('algorithm')).toBe('SHA-256');
    });

    it('carries realm, nonce and qop="auth", with the token parameters unquoted (RFC 7616 §3.3)', () => {
      expect(values[0]).toBe('Digest realm="portal.test", nonce="abc", algorithm=MD5, qop="auth"');
    });

    it('keeps the order it is given', () => {
      const v = buildDigestChallenge({ realm: 'r', nonce: 'n', algorithms: ['SHA-256', 'SHA-512-256', 'MD5'] });
      expect(v.map((x) => parseAuthHeader(x).get('algorithm'))).toEqual(['SHA-256', 'SHA-512-256', 'MD5']);
    });

    it('adds opaque and stale=true when asked', () => {
      const [v] = buildDigestChallenge({ realm: 'r', nonce: 'n', algorithms: ['MD5'], opaque: 'op"q', stale: true });
      const h = parseAuthHeader(v);
      expect(h.get('opaque')).toBe('op"q');
      expect(h.get('stale')).toBe('true');
      expect(v).toContain('stale=true');
    });

    it('offers several qop values as one quoted list', () => {
      const [v] = buildDigestChallenge({ realm: 'r', nonce: 'n', algorithms: ['MD5'], qop: ['auth', 'auth-int'] });
      expect(v).toContain('qop="auth,auth-int"');
    });

    it('serializes into a 401 that parses back with both challenges in order', () => {
      const req = parseMessage(
        'REGISTER sip:portal.test SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\nFrom: <sip:alice@portal.test>;tag=1\r\n' +
          'To: <sip:alice@portal.test>\r\nCall-ID: c1\r\nCSeq: 1 REGISTER\r\nContent-Length: 0\r\n\r\n',
      ) as SipRequest;
      const res = createResponse(req, 401, { toTag: 't' });
      for (const v of values) res.addHeader(challengeHeaderName(401), v);
      const back = parseMessage(res.toString()) as SipResponse;
      const parsed = back.headerLines('www-authenticate').map(parseDigestChallenge);
      expect(parsed.map((c) => c?.algorithm)).toEqual(['MD5', 'SHA-256']);
      expect(parsed[0]).toMatchObject({ realm: 'portal.test', nonce: 'abc', qop: ['auth'], stale: false });
    });

    it.each([
      ['an empty realm', { realm: '', nonce: 'n' }],
      ['an empty nonce', { realm: 'r', nonce: '' }],
      ['no algorithm', { realm: 'r', nonce: 'n', algorithms: [] }],
      ['an unknown algorithm', { realm: 'r', nonce: 'n', algorithms: ['SHA-1'] }],
      ['an unknown qop', { realm: 'r', nonce: 'n', qop: ['auth-conf'] }],
    ])('throws TypeError for %s', (_name, options) => {
      // Deliberately invalid options: the cast lets the test pass what TypeScript would reject.
      expect(() => buildDigestChallenge(options as never)).toThrow(TypeError);
    });
  });

  describe('header names', () => {
    it('are WWW-Authenticate for 401 and Proxy-Authenticate for 407 (RFC 3261 §22)', () => {
      expect(challengeHeaderName(401)).toBe('WWW-Authenticate');
      expect(challengeHeaderName(407)).toBe('Proxy-Authenticate');
    });
  });

  describe('read by a client', () => {
    it('reads the RFC 7616 §3.9.1 challenge', () => {
      const c = parseDigestChallenge(
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, ' +
          'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
      );
      expect(c).toEqual({
        realm: 'http-auth@example.org',
        nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
        algorithm: 'SHA-256',
        algorithmName: 'SHA-256',
        qop: ['auth', 'auth-int'],
        opaque: 'FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS',
        stale: false,
      });
    });

    it('takes a missing algorithm as MD5 and a missing qop as the legacy form', () => {
      expect(parseDigestChallenge('Digest realm="r", nonce="n"')).toMatchObject({ algorithm: 'MD5', qop: [] });
    });

    it('reads stale in any case, quoted or not', () => {
      expect(parseDigestChallenge('Digest realm="r", nonce="n", stale=TRUE')?.stale).toBe(true);
      expect(parseDigestChallenge('Digest realm="r", nonce="n", stale="true"')?.stale).toBe(true);
      expect(parseDigestChallenge('Digest realm="r", nonce="n", stale=false')?.stale).toBe(false);
    });

    it('keeps an unknown algorithm by name without a parsed value', () => {
      expect(parseDigestChallenge('Digest realm="r", nonce="n", algorithm=SHA-1')).toMatchObject({
        algorithm: undefined,
        algorithmName: 'SHA-1',
      });
    });

    it('skips what it cannot answer: other schemes, missing realm or nonce, bad syntax', () => {
      expect(parseDigestChallenge('Basic realm="r"')).toBeUndefined();
      expect(parseDigestChallenge('Digest nonce="n"')).toBeUndefined();
      expect(parseDigestChallenge('Digest realm="r"')).toBeUndefined();
      expect(parseDigestChallenge('Digest realm="r, nonce=n')).toBeUndefined();
    });
  });
});
