import { describe, expect, it } from 'vitest';
import {
  computeHa1,
  computeResponse,
  digestHash,
  digestHashAlgorithm,
  formatNonceCount,
  isSessionAlgorithm,
  parseDigestAlgorithm,
} from '../../../sip/auth/digest-algorithm.js';

// RFC 7616 §3.9.1: one request answered with MD5 and with SHA-256.
const RFC7616 = {
  username: 'Mufasa',
  password: 'Circle of Life',
  realm: 'http-auth@example.org',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
  cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  nc: '00000001',
};

// RFC 2617 §3.5 (note the capital O in the password).
const RFC2617 = {
  username: 'Mufasa',
  password: 'Circle Of Life',
  realm: 'testrealm@host.com',
  method: 'GET',
  uri: '/dir/index.html',
  nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
  cnonce: '0a4f113b',
};

describe('Digest algorithms', () => {
  describe('RFC 7616 §3.9.1 example', () => {
    it('gives response 8ca523f5… with MD5', () => {
      const ha1 = computeHa1('MD5', RFC7616.username, RFC7616.realm, RFC7616.password);
      expect(computeResponse({ algorithm: 'MD5', ha1, qop: 'auth', ...RFC7616 })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    });

    it('gives response 753927fa… with SHA-256', () => {
      const ha1 = computeHa1('SHA-256', RFC7616.username, RFC7616.realm, RFC7616.password);
      expect(computeResponse({ algorithm: 'SHA-256', ha1, qop: 'auth', ...RFC7616 })).toBe(
        '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
      );
    });

    it('takes the nonce count as a number or as the 8 hex digits sent', () => {
      const ha1 = computeHa1('MD5', RFC7616.username, RFC7616.realm, RFC7616.password);
      expect(computeResponse({ algorithm: 'MD5', ha1, qop: 'auth', ...RFC7616, nc: 1 })).toBe('8ca523f5e9506fed4657c9700eebdbec');
    });
  });

  describe('RFC 2617 §3.5 example', () => {
    const ha1 = computeHa1('MD5', RFC2617.username, RFC2617.realm, RFC2617.password);

    it('gives response 6629fae4… with qop=auth', () => {
      expect(computeResponse({ algorithm: 'MD5', ha1, qop: 'auth', nc: 1, ...RFC2617 })).toBe('6629fae49393a05397450978507c4ef1');
    });

    it('gives response 670fd8c2… in the legacy form without qop (RFC 2069)', () => {
      const { cnonce: _unused, ...noQop } = RFC2617;
      expect(computeResponse({ algorithm: 'MD5', ha1, ...noQop })).toBe('670fd8c2df070c60b045671b8b24ff02');
    });
  });

  describe('hash functions', () => {
    it('hashes with SHA-512/256 (FIPS 180-4 "abc" vector)', () => {
      expect(digestHash('SHA-512-256', 'abc')).toBe('53048e2681941ef99b2e29b76b4c7dabe4c2d0c634fc6d46e0e2f13107e7af23');
    });

    it('hashes text as UTF-8', () => {
      expect(digestHash('MD5', 'é')).toBe(digestHash('MD5', new Uint8Array([0xc3, 0xa9])));
    });

    it('stores an HA1 of the hash length, never the password', () => {
      expect(computeHa1('MD5', 'alice', 'portal.test', 'alice-secret')).toMatch(/^[0-9a-f]{32}$/);
      expect(computeHa1('SHA-256', 'alice', 'portal.test', 'alice-secret')).toMatch(/^[0-9a-f]{64}$/);
      expect(computeHa1('SHA-256-sess', 'alice', 'portal.test', 'alice-secret')).toBe(
        computeHa1('SHA-256', 'alice', 'portal.test', 'alice-secret'),
      );
    });
  });

  describe('-sess variants', () => {
    it('derive the session key H(HA1:nonce:cnonce) (RFC 7616 §3.4.2)', () => {
      const ha1 = computeHa1('MD5', 'u', 'r', 'p');
      const sessionKey = digestHash('MD5', `${ha1}:N:C`);
      const ha2 = digestHash('MD5', 'INVITE:sip:x@r');
      expect(
        computeResponse({ algorithm: 'MD5-sess', ha1, nonce: 'N', cnonce: 'C', nc: 1, qop: 'auth', method: 'INVITE', uri: 'sip:x@r' }),
      ).toBe(digestHash('MD5', `${sessionKey}:N:00000001:C:auth:${ha2}`));
    });

    it('refuse to compute without a cnonce', () => {
      expect(() => computeResponse({ algorithm: 'SHA-256-sess', ha1: 'x', nonce: 'n', method: 'M', uri: 'u' })).toThrow(TypeError);
    });
  });

  describe('qop=auth-int', () => {
    it('covers the body: A2 = method:uri:H(body) (RFC 7616 §3.4.3)', () => {
      const base = { algorithm: 'SHA-256' as const, ha1: 'h', nonce: 'n', cnonce: 'c', nc: 1, qop: 'auth-int' as const, method: 'MESSAGE', uri: 'sip:a@b' };
      const ha2 = digestHash('SHA-256', 'MESSAGE:sip:a@b:' + digestHash('SHA-256', 'hello'));
      expect(computeResponse({ ...base, entityBody: 'hello' })).toBe(digestHash('SHA-256', `h:n:00000001:c:auth-int:${ha2}`));
      expect(computeResponse({ ...base, entityBody: 'hello' })).not.toBe(computeResponse({ ...base, entityBody: 'hellO' }));
    });
  });

  describe('names', () => {
    it('parse case-insensitively, with MD5 for an absent parameter', () => {
      expect(parseDigestAlgorithm(undefined)).toBe('MD5');
      expect(parseDigestAlgorithm('sha-256')).toBe('SHA-256');
      expect(parseDigestAlgorithm('md5-SESS')).toBe('MD5-sess');
      expect(parseDigestAlgorithm('SHA-1')).toBeUndefined();
    });

    it('map each variant to its hash', () => {
      expect(digestHashAlgorithm('SHA-512-256-sess')).toBe('SHA-512-256');
      expect(isSessionAlgorithm('SHA-512-256-sess')).toBe(true);
      expect(isSessionAlgorithm('SHA-256')).toBe(false);
    });

    it('write nonce counts as 8 lower-case hex digits', () => {
      expect(formatNonceCount(1)).toBe('00000001');
      expect(formatNonceCount(0xabc)).toBe('00000abc');
      expect(() => formatNonceCount(2 ** 32)).toThrow(TypeError);
    });
  });
});
