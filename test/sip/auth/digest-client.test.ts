import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeHa1, computeResponse } from '../../../sip/auth/digest-algorithm.js';
import { buildDigestChallenge, challengeHeaderName, type DigestChallengeOptions } from '../../../sip/auth/digest-challenge.js';
import { DigestClient } from '../../../sip/auth/digest-client.js';
import { DigestVerifier } from '../../../sip/auth/digest-verifier.js';
import { MemoryNonceCountStore } from '../../../sip/auth/nonce-count-store.js';
import { NonceService } from '../../../sip/auth/nonce-service.js';
import { type AuthHeader, parseAuthHeader } from '../../../sip/grammar/auth-header.js';
import { createResponse } from '../../../sip/message/create-response.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import { ManualClock } from '../../../sip/util/clock.js';

const REALM = 'portal.test';
const alice = () => new DigestClient({ username: 'alice', password: 'alice-secret' });

function request(method = 'INVITE', uri = 'sip:wine@portal.test'): SipRequest {
  return new SipRequest(method, uri, [
    ['Via', 'SIP/2.0/WS abc.invalid;branch=z9hG4bKabc'],
    ['From', '<sip:alice@portal.test>;tag=f1'],
    ['To', '<' + uri + '>'],
    ['Call-ID', 'call-1'],
    ['CSeq', `1 ${method}`],
  ]);
}

function challenge(req: SipRequest, status: 401 | 407, ...offers: Array<Partial<DigestChallengeOptions> | string>): SipResponse {
  const res = createResponse(req, status, { toTag: 't' });
  for (const o of offers) {
    const values = typeof o === 'string' ? [o] : buildDigestChallenge({ realm: REALM, nonce: 'nonce-1', ...o });
    for (const v of values) res.addHeader(challengeHeaderName(status), v);
  }
  return res;
}

function sent(req: SipRequest, name = 'authorization'): AuthHeader[] {
  return req.headerLines(name).map((v) => parseAuthHeader(v));
}

describe('Digest client', () => {
  describe('answering a challenge', () => {
    it('adds Authorization for a 401', () => {
      const req = request();
      expect(alice().authorize(req, challenge(req, 401, {}))).toBe(true);
      expect(sent(req)).toHaveLength(1);
      expect(req.hasHeader('proxy-authorization')).toBe(false);
    });

    it('adds Proxy-Authorization for a 407', () => {
      const req = request();
      expect(alice().authorize(req, challenge(req, 407, {}))).toBe(true);
      expect(sent(req, 'proxy-authorization')).toHaveLength(1);
      expect(req.hasHeader('authorization')).toBe(false);
    });

    it('writes the response RFC 7616 §3.4 defines, with uri = Request-URI, qop=auth and nc=00000001', () => {
      const req = request();
      alice().authorize(req, challenge(req, 401, { algorithms: ['MD5'], opaque: 'op-1' }));
      const [h] = sent(req);
      expect(h.get('username')).toBe('alice');
      expect(h.get('realm')).toBe(REALM);
      expect(h.get('nonce')).toBe('nonce-1');
      expect(h.get('uri')).toBe('sip:wine@portal.test');
      expect(h.get('algorithm')).toBe('MD5');
      expect(h.get('opaque')).toBe('op-1');
      expect(h.get('qop')).toBe('auth');
      expect(h.get('nc')).toBe('00000001');
      const cnonce = h.get('cnonce') as string;
      expect(cnonce.length).toBeGreaterThanOrEqual(16);
      expect(h.get('response')).toBe(
        computeResponse({
          algorithm: 'MD5',
          ha1: computeHa1('MD5', 'alice', REALM, 'alice-secret'),
          nonce: 'nonce-1',
          method: 'INVITE',
          uri: 'sip:wine@portal.test',
          qop: 'auth',
          nc: 1,
          cnonce,
        }),
      );
      // Tokens unquoted, as RFC 7616 §3.4 requires of algorithm, qop and nc.
      expect(req.header('authorization')).toMatch(/algorithm=MD5, .*qop=auth, nc=00000001/);
    });

    it('picks SHA-256 when it is offered after MD5', () => {
      const req = request();
      alice().authorize(req, challenge(req, 401, {}));
      expect(sent(req)[0].get('algorithm')).toBe('SHA-256');
    });

    it('picks MD5 when its HA1 credentials have no SHA-256 digest', () => {
      const client = new DigestClient({ username: 'alice', ha1: { MD5: computeHa1('MD5', 'alice', REALM, 'alice-secret') } });
      const req = request();
      expect(client.authorize(req, challenge(req, 401, {}))).toBe(true);
      expect(sent(req)[0].get('algorithm')).toBe('MD5');
    });

    it('draws a fresh cnonce for each answer', () => {
      const client = alice();
      const a = request();
      const b = request();
      client.authorize(a, challenge(a, 401, {}));
      client.authorize(b, challenge(b, 401, {}));
      expect(sent(a)[0].get('cnonce')).not.toBe(sent(b)[0].get('cnonce'));
    });

    it('counts on when the server challenges again with the same nonce for another request', () => {
      const client = alice();
      const a = request();
      const b = request();
      client.authorize(a, challenge(a, 401, {}));
      client.authorize(b, challenge(b, 401, {}));
      expect(sent(b)[0].get('nc')).toBe('00000002');
    });

    it('uses qop=auth-int, covering the body, when that is all that is offered', () => {
      const req = request('MESSAGE');
      req.body = 'hello';
      alice().authorize(req, challenge(req, 401, { algorithms: ['MD5'], qop: ['auth-int'] }));
      const [h] = sent(req);
      expect(h.get('qop')).toBe('auth-int');
      expect(h.get('response')).toBe(
        computeResponse({
          algorithm: 'MD5',
          ha1: computeHa1('MD5', 'alice', REALM, 'alice-secret'),
          nonce: 'nonce-1',
          method: 'MESSAGE',
          uri: 'sip:wine@portal.test',
          qop: 'auth-int',
          nc: 1,
          cnonce: h.get('cnonce'),
          entityBody: 'hello',
        }),
      );
    });

    it('answers a legacy challenge without qop in the RFC 2069 form', () => {
      const req = request();
      alice().authorize(req, challenge(req, 401, 'Digest realm="portal.test", nonce="old"'));
      const [h] = sent(req);
      expect(h.get('qop')).toBeUndefined();
      expect(h.get('nc')).toBeUndefined();
      expect(h.get('cnonce')).toBeUndefined();
      expect(h.get('response')).toBe(
        computeResponse({
          algorithm: 'MD5',
          ha1: computeHa1('MD5', 'alice', REALM, 'alice-secret'),
          nonce: 'old',
          method: 'INVITE',
          uri: 'sip:wine@portal.test',
        }),
      );
    });

    it('answers every realm of an aggregated challenge (RFC 3261 §16.7), each in its own header', () => {
      const req = request();
      const res = challenge(req, 407, {}, { realm: 'upstream.test', nonce: 'nonce-2', algorithms: ['MD5'] });
      expect(alice().authorize(req, res)).toBe(true);
      expect(sent(req, 'proxy-authorization').map((h) => h.get('realm'))).toEqual([REALM, 'upstream.test']);
    });
  });

  describe('refusing to answer', () => {
    it('refuses when only unknown algorithms are offered', () => {
      const req = request();
      expect(alice().authorize(req, challenge(req, 401, 'Digest realm="portal.test", nonce="n", algorithm=SHA-1, qop="auth"'))).toBe(false);
      expect(req.hasHeader('authorization')).toBe(false);
    });

    it('refuses when only unknown qop values are offered', () => {
      const req = request();
      expect(alice().authorize(req, challenge(req, 401, 'Digest realm="portal.test", nonce="n", qop="auth-conf"'))).toBe(false);
    });

    it('refuses responses other than 401 and 407', () => {
      const req = request();
      const res = challenge(req, 401, {});
      res.status = 403;
      expect(alice().authorize(req, res)).toBe(false);
    });

    it('refuses realms its credentials are not for', () => {
      const client = new DigestClient({ username: 'alice', password: 'alice-secret', realm: 'elsewhere.test' });
      const req = request();
      expect(client.authorize(req, challenge(req, 401, {}))).toBe(false);
    });

    it('does not loop when a wrong password is challenged again without stale=true', () => {
      const client = new DigestClient({ username: 'alice', password: 'wrong' });
      const req = request();
      expect(client.authorize(req, challenge(req, 401, { nonce: 'n1' }))).toBe(true);
      const before = req.header('authorization');
      // A server that issues a fresh nonce with every challenge…
      expect(client.authorize(req, challenge(req, 401, { nonce: 'n2' }))).toBe(false);
      // …and one that repeats the nonce.
      expect(client.authorize(req, challenge(req, 401, { nonce: 'n1' }))).toBe(false);
      expect(req.header('authorization')).toBe(before);
    });

    it('does not loop when a request that was answered by a copy is challenged with the nonce that failed', () => {
      const client = alice();
      const first = request();
      client.authorize(first, challenge(first, 401, { nonce: 'n1' }));
      const copy = request();
      copy.addHeader('Authorization', first.header('authorization') as string);
      expect(client.authorize(copy, challenge(copy, 401, { nonce: 'n1' }))).toBe(false);
    });

    it('answers stale=true once with the new nonce, then gives up', () => {
      const client = alice();
      const req = request();
      client.authorize(req, challenge(req, 401, { nonce: 'n1' }));
      expect(client.authorize(req, challenge(req, 401, { nonce: 'n2', stale: true }))).toBe(true);
      expect(sent(req)).toHaveLength(1);
      expect(sent(req)[0].get('nonce')).toBe('n2');
      expect(client.authorize(req, challenge(req, 401, { nonce: 'n3', stale: true }))).toBe(false);
    });

    it('gives up on stale=true that repeats the nonce it just used', () => {
      const client = alice();
      const req = request();
      client.authorize(req, challenge(req, 401, { nonce: 'n1' }));
      expect(client.authorize(req, challenge(req, 401, { nonce: 'n1', stale: true }))).toBe(false);
    });
  });

  describe('preemptive authorization', () => {
    function relay() {
      const clock = new ManualClock();
      const nonceService = new NonceService({ secret: 'cluster-secret-0123456789', clock });
      const verifier = new DigestVerifier({
        realm: REALM,
        nonceService,
        nonceCountStore: new MemoryNonceCountStore({ clock }),
        lookupHa1: (u, r, a) => (u === 'alice' ? computeHa1(a, u, r, 'alice-secret') : undefined),
      });
      return { nonceService, verifier };
    }

    it('is off by default', () => {
      const client = alice();
      const a = request();
      client.authorize(a, challenge(a, 401, {}));
      expect(client.authorizePreemptively(request())).toBe(false);
    });

    it('reuses the last challenge with the next nonce count, which the relay accepts', async () => {
      const { nonceService, verifier } = relay();
      const client = new DigestClient({ username: 'alice', password: 'alice-secret' }, { preemptive: true });
      const register = request('REGISTER', 'sip:portal.test');
      client.authorize(register, challenge(register, 401, { nonce: nonceService.create(REALM) }));
      expect(await verifier.verify(register, 'authorization')).toMatchObject({ ok: true });

      const invite = request();
      expect(client.authorizePreemptively(invite)).toBe(true);
      expect(sent(invite)[0].get('nc')).toBe('00000002');
      expect(sent(invite)[0].get('uri')).toBe('sip:wine@portal.test');
      expect(await verifier.verify(invite, 'authorization')).toMatchObject({ ok: true });
    });

    it('answers the challenge that follows a refused preemptive attempt', () => {
      const client = new DigestClient({ username: 'alice', password: 'alice-secret' }, { preemptive: true });
      const first = request();
      client.authorize(first, challenge(first, 401, { nonce: 'n1' }));
      const next = request();
      client.authorizePreemptively(next);
      // The server lost the nonce (restart) and issues a new one, without stale.
      expect(client.authorize(next, challenge(next, 401, { nonce: 'n2' }))).toBe(true);
      expect(sent(next)).toHaveLength(1);
      expect(sent(next)[0].get('nonce')).toBe('n2');
    });

    it('does not reuse a legacy challenge, whose nonce a server accepts once', () => {
      const client = new DigestClient({ username: 'alice', password: 'alice-secret' }, { preemptive: true });
      const first = request();
      client.authorize(first, challenge(first, 401, 'Digest realm="portal.test", nonce="old"'));
      expect(client.authorizePreemptively(request())).toBe(false);
    });

    it('stops after the credentials were refused', () => {
      const client = new DigestClient({ username: 'alice', password: 'wrong' }, { preemptive: true });
      const req = request();
      client.authorize(req, challenge(req, 401, { nonce: 'n1' }));
      client.authorize(req, challenge(req, 401, { nonce: 'n2' }));
      expect(client.authorizePreemptively(request())).toBe(false);
    });
  });

  describe('hostile challenges', () => {
    it('never throw, and give credentials only for a realm and nonce that were offered', () => {
      const line = fc.oneof(
        fc.string(),
        fc.constantFrom(
          'Digest realm="r", nonce="n"',
          'Digest realm="r", nonce="n", qop="auth-int,x"',
          'Digest realm="r", nonce="n", algorithm=SHA-512-256-SESS, qop=auth',
        ),
      );
      fc.assert(
        fc.property(fc.array(line, { maxLength: 4 }), (lines) => {
          const req = request();
          const res = challenge(req, 401, ...lines);
          if (alice().authorize(req, res)) {
            for (const h of sent(req)) expect(lines.some((l) => l.includes(h.get('nonce') as string))).toBe(true);
          }
        }),
        { seed: 8760, numRuns: 500 },
      );
    });
  });

  describe('construction', () => {
    it.each([
      ['no username', { password: 'p' }],
      ['both password and ha1', { username: 'u', password: 'p', ha1: { MD5: '0'.repeat(32) } }],
      ['neither password nor ha1', { username: 'u' }],
      ['an HA1 of the wrong length', { username: 'u', ha1: { MD5: 'abc' } }],
      ['an HA1 for an unknown hash', { username: 'u', ha1: { 'SHA-1': '0'.repeat(40) } }],
      ['an empty ha1', { username: 'u', ha1: {} }],
    ])('throws TypeError for %s', (_name, credentials) => {
      // Deliberately invalid credentials: the cast lets the test pass what TypeScript would reject.
      expect(() => new DigestClient(credentials as never)).toThrow(TypeError);
    });

    it('throws TypeError for bad options', () => {
      expect(() => new DigestClient({ username: 'u', password: 'p' }, { algorithms: [] })).toThrow(TypeError);
      expect(() => new DigestClient({ username: 'u', password: 'p' }, { maxStaleRetries: -1 })).toThrow(TypeError);
      expect(() => new DigestClient({ username: 'u', password: 'p' }, { maxCachedRealms: 0 })).toThrow(TypeError);
    });
  });
});
