import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type DigestAlgorithm,
  type DigestHashAlgorithm,
  type DigestQop,
  computeHa1,
  computeResponse,
  formatNonceCount,
} from '../../../sip/auth/digest-algorithm.js';
import { buildDigestChallenge, challengeHeaderName } from '../../../sip/auth/digest-challenge.js';
import { DigestClient } from '../../../sip/auth/digest-client.js';
import { DigestVerifier, type DigestVerifierOptions } from '../../../sip/auth/digest-verifier.js';
import { MemoryNonceCountStore } from '../../../sip/auth/nonce-count-store.js';
import { NonceService } from '../../../sip/auth/nonce-service.js';
import { createResponse } from '../../../sip/message/create-response.js';
import { SipRequest } from '../../../sip/message/sip-request.js';
import { ManualClock } from '../../../sip/util/clock.js';

const REALM = 'portal.test';
const SECRET = 'cluster-secret-0123456789';
const USERS: Record<string, string> = { alice: 'alice-secret', bob: 'bob-secret' };

function relay(options: Partial<DigestVerifierOptions> & { clock?: ManualClock; secrets?: string[] } = {}) {
  const clock = options.clock ?? new ManualClock();
  const nonceService = options.nonceService ?? new NonceService({ secrets: options.secrets ?? [SECRET], clock });
  const nonceCountStore = options.nonceCountStore ?? new MemoryNonceCountStore({ clock });
  const lookups: Array<{ username: string; realm: string; algorithm: DigestHashAlgorithm }> = [];
  const verifier = new DigestVerifier({
    realm: REALM,
    nonceService,
    nonceCountStore,
    // The subscriber store keeps HA1 per hash, never the password.
    lookupHa1: async (username, realm, algorithm) => {
      lookups.push({ username, realm, algorithm });
      const password = USERS[username];
      return password === undefined ? undefined : computeHa1(algorithm, username, realm, password);
    },
    ...(options.realms ? { realm: undefined, realms: options.realms } : {}),
    ...(options.algorithms ? { algorithms: options.algorithms } : {}),
    ...(options.allowNoQop !== undefined ? { allowNoQop: options.allowNoQop } : {}),
  });
  return { clock, nonceService, nonceCountStore, verifier, lookups };
}

function invite(uri = 'sip:wine@portal.test', body?: string): SipRequest {
  return new SipRequest(
    'INVITE',
    uri,
    [
      ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKabc'],
      ['Max-Forwards', '70'],
      ['From', '<sip:alice@portal.test>;tag=f1'],
      ['To', '<' + uri + '>'],
      ['Call-ID', 'call-1'],
      ['CSeq', '1 INVITE'],
    ],
    body,
  );
}

/** Credentials written by hand, for the cases a well-behaved client never produces. */
function credentials(p: {
  nonce: string;
  username?: string;
  password?: string;
  realm?: string;
  algorithm?: DigestAlgorithm;
  qop?: DigestQop;
  nc?: number;
  cnonce?: string;
  uri?: string;
  method?: string;
  body?: string;
  extra?: string;
}): string {
  const username = p.username ?? 'alice';
  const realm = p.realm ?? REALM;
  const algorithm = p.algorithm ?? 'MD5';
  const uri = p.uri ?? 'sip:wine@portal.test';
  const cnonce = p.cnonce ?? 'c0ffee';
  const nc = p.nc ?? 1;
  const response = computeResponse({
    algorithm,
    ha1: computeHa1(algorithm, username, realm, p.password ?? USERS[username] ?? 'x'),
    nonce: p.nonce,
    method: p.method ?? 'INVITE',
    uri,
    qop: p.qop,
    cnonce: p.qop ? cnonce : undefined,
    nc: p.qop ? nc : undefined,
    entityBody: p.body,
  });
  let v = `Digest username="${username}", realm="${realm}", nonce="${p.nonce}", uri="${uri}", response="${response}", algorithm=${algorithm}`;
  if (p.qop) v += `, qop=${p.qop}, nc=${formatNonceCount(nc)}, cnonce="${cnonce}"`;
  return v + (p.extra ?? '');
}

describe('Digest verifier', () => {
  describe('with a DigestClient answering the relay’s own challenge', () => {
    async function roundTrip(client: DigestClient, status: 401 | 407 = 401) {
      const r = relay();
      const request = invite();
      const challenge = createResponse(request, status, { toTag: 't' });
      for (const v of buildDigestChallenge({ realm: REALM, nonce: r.nonceService.create(REALM) })) {
        challenge.addHeader(challengeHeaderName(status), v);
      }
      expect(client.authorize(request, challenge)).toBe(true);
      const result = await r.verifier.verify(request, status === 401 ? 'authorization' : 'proxy-authorization');
      return { ...r, request, result };
    }

    it('accepts a client that knows SHA-256, which it picks from behind the MD5 challenge', async () => {
      const { result } = await roundTrip(new DigestClient({ username: 'alice', password: 'alice-secret' }));
      expect(result).toEqual({ ok: true, username: 'alice', realm: REALM, algorithm: 'SHA-256', qop: 'auth' });
    });

    it('accepts a client that knows only MD5 and reads only the first challenge (JsSIP, SIP.js)', async () => {
      const client = new DigestClient({ username: 'bob', password: 'bob-secret' }, { algorithms: ['MD5'] });
      const { result } = await roundTrip(client);
      expect(result).toMatchObject({ ok: true, username: 'bob', algorithm: 'MD5' });
    });

    it('accepts Proxy-Authorization answering a 407', async () => {
      const { result } = await roundTrip(new DigestClient({ username: 'alice', password: 'alice-secret' }), 407);
      expect(result).toMatchObject({ ok: true, username: 'alice' });
    });

    it('accepts a client that holds only HA1 digests', async () => {
      const client = new DigestClient({ username: 'alice', ha1: { 'SHA-256': computeHa1('SHA-256', 'alice', REALM, 'alice-secret') } });
      const { result } = await roundTrip(client);
      expect(result).toMatchObject({ ok: true, algorithm: 'SHA-256' });
    });

    it('rejects a wrong password as bad-credentials', async () => {
      const { result } = await roundTrip(new DigestClient({ username: 'alice', password: 'guess' }));
      expect(result).toEqual({ ok: false, reason: 'bad-credentials', realm: REALM, username: 'alice', stale: false });
    });

    it('rejects an unknown user as bad-credentials too, after looking the user up like any other', async () => {
      const { result, lookups } = await roundTrip(new DigestClient({ username: 'mallory', password: 'x' }));
      expect(result).toEqual({ ok: false, reason: 'bad-credentials', realm: REALM, username: 'mallory', stale: false });
      expect(lookups).toEqual([{ username: 'mallory', realm: REALM, algorithm: 'SHA-256' }]);
    });

    it('rejects the same request sent again as a replay', async () => {
      const { request, verifier, result } = await roundTrip(new DigestClient({ username: 'alice', password: 'alice-secret' }));
      expect(result.ok).toBe(true);
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ ok: false, reason: 'replay', stale: true });
    });
  });

  describe('credentials', () => {
    it('are missing when the request has no Authorization, or none in the Digest scheme', async () => {
      const { verifier } = relay();
      const request = invite();
      expect(await verifier.verify(request, 'authorization')).toEqual({ ok: false, reason: 'missing', stale: false });
      request.addHeader('Authorization', 'Bearer abc');
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ reason: 'missing' });
    });

    it('are read from the header named: Authorization is not taken for Proxy-Authorization', async () => {
      const { verifier, nonceService } = relay();
      const request = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM), qop: 'auth' }));
      expect(await verifier.verify(request, 'proxy-authorization')).toMatchObject({ reason: 'missing' });
    });

    it('are taken from the line whose realm is ours when there are several', async () => {
      const { verifier, nonceService } = relay();
      const request = invite()
        .addHeader('Proxy-Authorization', credentials({ nonce: 'x', realm: 'upstream.test', qop: 'auth' }))
        .addHeader('Proxy-Authorization', credentials({ nonce: nonceService.create(REALM), qop: 'auth' }));
      expect(await verifier.verify(request, 'proxy-authorization')).toMatchObject({ ok: true, username: 'alice' });
    });

    it('for another realm only are a realm mismatch', async () => {
      const { verifier } = relay();
      const request = invite().addHeader('Authorization', credentials({ nonce: 'x', realm: 'elsewhere.test', qop: 'auth' }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ reason: 'realm-mismatch' });
    });

    it('are accepted for any of several realms', async () => {
      const { verifier, nonceService } = relay({ realms: ['a.test', REALM] });
      const request = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM), qop: 'auth' }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ ok: true, realm: REALM });
    });

    it('may name another uri than the Request-URI (SIPp puts the relay address there)', async () => {
      const { verifier, nonceService } = relay();
      const request = invite().addHeader(
        'Authorization',
        credentials({ nonce: nonceService.create(REALM), qop: 'auth', uri: 'sip:127.0.0.1:5060' }),
      );
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ ok: true });
    });

    it('must still prove the method: credentials computed for REGISTER do not authorize an INVITE', async () => {
      const { verifier, nonceService } = relay();
      const request = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM), qop: 'auth', method: 'REGISTER' }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ reason: 'bad-credentials' });
    });

    it.each([
      ['an unparseable header', 'Digest username="alice, realm="portal.test"'],
      ['no uri', 'Digest username="alice", realm="portal.test", nonce="n", response="r"'],
      ['no username', 'Digest realm="portal.test", nonce="n", uri="sip:x", response="r"'],
      ['no response', 'Digest username="alice", realm="portal.test", nonce="n", uri="sip:x"'],
      ['qop without nc', 'Digest username="alice", realm="portal.test", nonce="n", uri="sip:x", response="r", qop=auth, cnonce="c"'],
      ['qop without cnonce', 'Digest username="alice", realm="portal.test", nonce="n", uri="sip:x", response="r", qop=auth, nc=00000001'],
      ['an nc that is not hex', 'Digest username="alice", realm="portal.test", nonce="n", uri="sip:x", response="r", qop=auth, nc=0000000g, cnonce="c"'],
      ['an unknown qop', 'Digest username="alice", realm="portal.test", nonce="n", uri="sip:x", response="r", qop=auth-conf, nc=1, cnonce="c"'],
      ['a duplicated response', 'Digest username="alice", realm="portal.test", nonce="n", uri="sip:x", response="r", response="s"'],
      ['a hashed username', 'Digest username="abcd", realm="portal.test", nonce="n", uri="sip:x", response="r", userhash=true'],
      ['MD5-sess without qop', 'Digest username="alice", realm="portal.test", nonce="n", uri="sip:x", response="r", algorithm=MD5-sess'],
    ])('are malformed with %s', async (_name, value) => {
      const { verifier } = relay();
      const result = await verifier.verify(invite().addHeader('Authorization', value), 'authorization');
      expect(result).toMatchObject({ ok: false, reason: 'malformed' });
    });

    it('with an unknown algorithm are unsupported', async () => {
      const { verifier, nonceService } = relay();
      const value = credentials({ nonce: nonceService.create(REALM), qop: 'auth' }).replace('algorithm=MD5', 'algorithm=SHA-1');
      expect(await verifier.verify(invite().addHeader('Authorization', value), 'authorization')).toMatchObject({
        reason: 'unsupported-algorithm',
      });
    });

    it('with an algorithm the operator turned off are unsupported', async () => {
      const { verifier, nonceService } = relay({ algorithms: ['SHA-256'] });
      const md5 = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM), qop: 'auth' }));
      expect(await verifier.verify(md5, 'authorization')).toMatchObject({ reason: 'unsupported-algorithm' });
      const sha = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM), qop: 'auth', algorithm: 'SHA-256' }));
      expect(await verifier.verify(sha, 'authorization')).toMatchObject({ ok: true });
    });

    it('without an algorithm parameter are MD5 (RFC 7616 §3.4)', async () => {
      const { verifier, nonceService } = relay();
      const value = credentials({ nonce: nonceService.create(REALM), qop: 'auth' }).replace(', algorithm=MD5', '');
      expect(await verifier.verify(invite().addHeader('Authorization', value), 'authorization')).toMatchObject({ ok: true, algorithm: 'MD5' });
    });

    it('with a -sess algorithm look up the HA1 of its hash', async () => {
      const { verifier, nonceService, lookups } = relay();
      const value = credentials({ nonce: nonceService.create(REALM), qop: 'auth', algorithm: 'SHA-256-sess' });
      expect(await verifier.verify(invite().addHeader('Authorization', value), 'authorization')).toMatchObject({
        ok: true,
        algorithm: 'SHA-256-sess',
      });
      expect(lookups[0].algorithm).toBe('SHA-256');
    });

    it('with qop=auth-int prove the body too', async () => {
      const { verifier, nonceService } = relay();
      const value = credentials({ nonce: nonceService.create(REALM), qop: 'auth-int', body: '{"wine":"red"}' });
      expect(await verifier.verify(invite(undefined, '{"wine":"red"}').addHeader('Authorization', value), 'authorization')).toMatchObject({
        ok: true,
        qop: 'auth-int',
      });
      const value2 = credentials({ nonce: nonceService.create(REALM), qop: 'auth-int', body: '{"wine":"red"}' });
      expect(await verifier.verify(invite(undefined, '{"wine":"rosé"}').addHeader('Authorization', value2), 'authorization')).toMatchObject({
        reason: 'bad-credentials',
      });
    });
  });

  describe('nonces', () => {
    it('that were tampered with are invalid, before any user lookup', async () => {
      const { verifier, nonceService, lookups } = relay();
      const nonce = nonceService.create(REALM);
      const forged = nonce.slice(0, 10) + (nonce[10] === 'A' ? 'B' : 'A') + nonce.slice(11);
      const request = invite().addHeader('Authorization', credentials({ nonce: forged, qop: 'auth' }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ ok: false, reason: 'nonce-invalid', stale: false });
      expect(lookups).toHaveLength(0);
    });

    it('that expired are stale, with stale=true asked for, when the credentials are right', async () => {
      const { verifier, nonceService, clock } = relay();
      const nonce = nonceService.create(REALM);
      clock.advance(300_001);
      const request = invite().addHeader('Authorization', credentials({ nonce, qop: 'auth' }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ ok: false, reason: 'nonce-stale', stale: true });
    });

    it('that expired give bad-credentials, not stale, with a wrong password or an unknown user (RFC 7616 §3.3)', async () => {
      const { verifier, nonceService, clock } = relay();
      const nonce = nonceService.create(REALM);
      clock.advance(300_001);
      const wrong = invite().addHeader('Authorization', credentials({ nonce, qop: 'auth', password: 'guess' }));
      const unknown = invite().addHeader('Authorization', credentials({ nonce, qop: 'auth', username: 'mallory' }));
      expect(await verifier.verify(wrong, 'authorization')).toMatchObject({ reason: 'bad-credentials', stale: false });
      expect(await verifier.verify(unknown, 'authorization')).toMatchObject({ reason: 'bad-credentials', stale: false });
    });

    it('issued by another relay node with the same secret are accepted', async () => {
      const clock = new ManualClock();
      const nodeA = relay({ clock });
      const nodeB = relay({ clock });
      const request = invite().addHeader('Authorization', credentials({ nonce: nodeA.nonceService.create(REALM), qop: 'auth' }));
      expect(await nodeB.verifier.verify(request, 'authorization')).toMatchObject({ ok: true });
    });

    it('issued under the previous secret are accepted during a rotation', async () => {
      const clock = new ManualClock();
      const oldNode = relay({ clock, secrets: ['old-secret-0123456789'] });
      const rotated = relay({ clock, secrets: ['new-secret-0123456789', 'old-secret-0123456789'] });
      const request = invite().addHeader('Authorization', credentials({ nonce: oldNode.nonceService.create(REALM), qop: 'auth' }));
      expect(await rotated.verifier.verify(request, 'authorization')).toMatchObject({ ok: true });
    });

    it('issued for another realm are invalid', async () => {
      const { verifier, nonceService } = relay({ realms: ['a.test', REALM] });
      const request = invite().addHeader('Authorization', credentials({ nonce: nonceService.create('a.test'), qop: 'auth' }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ reason: 'nonce-invalid' });
    });
  });

  describe('nonce counts', () => {
    it('must grow: a repeated nc is a replay, a greater one is accepted', async () => {
      const { verifier, nonceService } = relay();
      const nonce = nonceService.create(REALM);
      const at = (nc: number) => invite().addHeader('Authorization', credentials({ nonce, qop: 'auth', nc, cnonce: 'c' + nc }));
      expect(await verifier.verify(at(1), 'authorization')).toMatchObject({ ok: true });
      expect(await verifier.verify(at(1), 'authorization')).toMatchObject({ ok: false, reason: 'replay', stale: true });
      expect(await verifier.verify(at(2), 'authorization')).toMatchObject({ ok: true });
    });

    it('are not recorded for a wrong password, so an attacker cannot burn them', async () => {
      const { verifier, nonceService, nonceCountStore } = relay();
      const nonce = nonceService.create(REALM);
      await verifier.verify(invite().addHeader('Authorization', credentials({ nonce, qop: 'auth', password: 'guess' })), 'authorization');
      expect((nonceCountStore as MemoryNonceCountStore).size).toBe(0);
      expect(await verifier.verify(invite().addHeader('Authorization', credentials({ nonce, qop: 'auth' })), 'authorization')).toMatchObject({
        ok: true,
      });
    });

    it('are checked through an asynchronous store as well', async () => {
      const seen = new Map<string, number>();
      const nonceCountStore = {
        checkAndRecord: async (nonce: string, nc: number) => {
          if ((seen.get(nonce) ?? -1) >= nc) return false;
          seen.set(nonce, nc);
          return true;
        },
      };
      const { verifier, nonceService } = relay({ nonceCountStore });
      const request = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM), qop: 'auth' }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ ok: true });
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ reason: 'replay' });
    });
  });

  describe('legacy responses without qop (RFC 2069)', () => {
    it('are accepted by default, once per nonce', async () => {
      const { verifier, nonceService } = relay();
      const request = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM) }));
      expect(await verifier.verify(request, 'authorization')).toEqual({ ok: true, username: 'alice', realm: REALM, algorithm: 'MD5', qop: undefined });
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ reason: 'replay' });
    });

    it('are refused as malformed when allowNoQop is false', async () => {
      const { verifier, nonceService } = relay({ allowNoQop: false });
      const request = invite().addHeader('Authorization', credentials({ nonce: nonceService.create(REALM) }));
      expect(await verifier.verify(request, 'authorization')).toMatchObject({ reason: 'malformed' });
    });
  });

  describe('hostile input', () => {
    it('never throws and never accepts, whatever the header holds', async () => {
      const { verifier, nonceService } = relay();
      const nonce = nonceService.create(REALM);
      const param = fc.tuple(
        fc.constantFrom('username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'qop', 'nc', 'cnonce', 'userhash', 'opaque'),
        fc.oneof(fc.string(), fc.constantFrom(REALM, nonce, 'alice', 'auth', 'auth-int', 'MD5', 'SHA-256-sess', '00000001', 'ffffffff')),
        fc.boolean(),
      );
      await fc.assert(
        fc.asyncProperty(fc.oneof(fc.string(), fc.array(param, { maxLength: 12 })), async (input) => {
          const value =
            typeof input === 'string'
              ? input
              : 'Digest ' + input.map(([n, v, q]) => `${n}=${q ? JSON.stringify(v) : v}`).join(', ');
          const result = await verifier.verify(invite().addHeader('Authorization', value), 'authorization');
          expect(result.ok).toBe(false);
        }),
        { seed: 7616, numRuns: 500 },
      );
    });
  });

  describe('options', () => {
    const base = {
      nonceService: new NonceService({ secret: SECRET }),
      nonceCountStore: new MemoryNonceCountStore(),
      lookupHa1: () => undefined,
    };
    it.each([
      ['no realm', { ...base }],
      ['realm and realms', { ...base, realm: 'a', realms: ['b'] }],
      ['an empty realm', { ...base, realm: '' }],
      ['no realms', { ...base, realms: [] }],
      ['no nonce service', { ...base, realm: 'a', nonceService: undefined }],
      ['no nonce-count store', { ...base, realm: 'a', nonceCountStore: undefined }],
      ['no lookupHa1', { ...base, realm: 'a', lookupHa1: undefined }],
      ['an unknown algorithm', { ...base, realm: 'a', algorithms: ['SHA-1'] }],
      ['no algorithm', { ...base, realm: 'a', algorithms: [] }],
    ])('throw TypeError for %s', (_name, options) => {
      // Deliberately invalid options: the cast lets the test pass what TypeScript would reject.
      expect(() => new DigestVerifier(options as never)).toThrow(TypeError);
    });
  });
});
