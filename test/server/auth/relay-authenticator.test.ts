import { describe, expect, it } from 'vitest';
import { parseDigestChallenge } from '../../../sip/auth/digest-challenge.js';
import { MemoryNonceCountStore } from '../../../sip/auth/nonce-count-store.js';
import { NonceService } from '../../../sip/auth/nonce-service.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { createAuthenticator } from '../../../server/auth/create-authenticator.js';
import { MemoryAuthThrottle } from '../../../server/auth/memory-auth-throttle.js';
import { BLOCKED_REASON, RelayAuthenticator, type AuthOutcomeLabel } from '../../../server/auth/relay-authenticator.js';
import { relayConfigSchema } from '../../../server/config/relay-config-schema.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { backends, useTestStore } from '../store/store-backends.js';
import {
  answer,
  digestClient,
  expectDelayed,
  flowFrom,
  login,
  normalized,
  recordingLogger,
  request,
  respondOf,
  settle,
} from './auth-harness.js';

const ALICE_ADDRESS = '198.51.100.7';
const ATTACKER_ADDRESS = '203.0.113.66';

function relayConfig(overrides: Record<string, unknown> = {}) {
  return relayConfigSchema.parse({
    domains: ['portal.test', 'other.test'],
    auth: {
      nonceSecret: 'a-cluster-wide-nonce-secret-of-32+chars',
      throttle: {
        windowSeconds: 600,
        perUserAndAddress: { slowAfter: 2, slowDelayMs: 1000, blockAfter: 4, blockSeconds: 60 },
        perAddress: { slowAfter: 6, slowDelayMs: 500, blockAfter: 8, blockSeconds: 120 },
      },
    },
    ...overrides,
  });
}

async function seed(store: OpenedStore) {
  await store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret', displayName: 'Alice A.', plan: 'gold' });
  await store.subscribers.add({ username: 'bob', domain: 'portal.test', password: 'bob-secret' });
  await store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'shop-secret' });
}

describe.each(backends)('RelayAuthenticator against the store on $name', ({ kind }) => {
  const t = useTestStore(kind);

  function relay(config = relayConfig()) {
    const logger = recordingLogger();
    const outcomes: AuthOutcomeLabel[] = [];
    const built = createAuthenticator(config, t.store, { clock: t.clock, logger, onOutcome: (o) => outcomes.push(o) });
    return { ...built, auth: built.authenticator, logger, outcomes };
  }

  describe('challenge', () => {
    it('answers a request without credentials with 401 and one WWW-Authenticate per algorithm, MD5 first and repeated last', async () => {
      await seed(t.store);
      const { auth } = relay();
      const req = request();
      const res = respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'));
      expect(res.status).toBe(401);
      expect(res.to.tag).toBeTruthy();
      expect(res.headerLines('Proxy-Authenticate')).toEqual([]);
      const challenges = res.headerLines('WWW-Authenticate').map((v) => parseDigestChallenge(v)!);
      // SIP.js reads the first challenge, JsSIP keeps the last: both must be MD5.
      expect(challenges.map((c) => c.algorithmName)).toEqual(['MD5', 'SHA-256', 'MD5']);
      for (const c of challenges) {
        expect(c).toMatchObject({ realm: 'portal.test', qop: ['auth'], stale: false });
      }
      expect(challenges[0].nonce).toBe(challenges[1].nonce);
      expect(res.headerLines('WWW-Authenticate')[2]).toBe(res.headerLines('WWW-Authenticate')[0]);
    });

    it('does not repeat the first challenge when told not to', async () => {
      await seed(t.store);
      const { auth } = relay(relayConfig({ auth: { repeatFirstChallenge: false } }));
      const res = respondOf(await auth.authenticate(request(), flowFrom(ALICE_ADDRESS), 'www'));
      expect(res.headerLines('WWW-Authenticate').map((v) => parseDigestChallenge(v)!.algorithmName)).toEqual(['MD5', 'SHA-256']);
    });

    it("answers 407 with Proxy-Authenticate in 'proxy' mode, in the realm of the sender's domain", async () => {
      const { auth } = relay();
      const res = respondOf(await auth.authenticate(request('INVITE', 'sip:shop@elsewhere.example', 'sip:alice@other.test'), flowFrom(ALICE_ADDRESS), 'proxy'));
      expect(res.status).toBe(407);
      expect(res.headerLines('WWW-Authenticate')).toEqual([]);
      const challenges = res.headerLines('Proxy-Authenticate').map((v) => parseDigestChallenge(v)!);
      expect(challenges.map((c) => [c.algorithmName, c.realm])).toEqual([
        ['MD5', 'other.test'],
        ['SHA-256', 'other.test'],
        ['MD5', 'other.test'],
      ]);
    });

    it('challenges in the realm of the Request-URI domain, and in the first domain for anything else', async () => {
      const { auth } = relay();
      const realmOf = async (uri: string, from: string) =>
        parseDigestChallenge(respondOf(await auth.authenticate(request('REGISTER', uri, from), flowFrom(ALICE_ADDRESS), 'www')).header('WWW-Authenticate')!)!.realm;
      expect(await realmOf('sip:other.test', 'sip:alice@portal.test')).toBe('other.test');
      expect(await realmOf('sip:192.0.2.1', 'sip:alice@unknown.example')).toBe('portal.test');
    });

    it('offers only the configured algorithms, in the configured order', async () => {
      const { auth } = relay(relayConfig({ auth: { algorithms: ['SHA-256'] } }));
      const res = respondOf(await auth.authenticate(request(), flowFrom(ALICE_ADDRESS), 'www'));
      expect(res.headerLines('WWW-Authenticate').map((v) => parseDigestChallenge(v)!.algorithmName)).toEqual(['SHA-256']);
    });
  });

  describe('success', () => {
    it('authenticates an MD5 client (JsSIP, SIP.js) and reports the subscriber', async () => {
      await seed(t.store);
      const { auth, outcomes } = relay();
      const client = digestClient('alice', 'alice-secret', { algorithms: ['MD5'] });
      const req = request();
      const outcome = await login(auth, client, req, flowFrom(ALICE_ADDRESS));
      expect(req.header('Authorization')).toContain('algorithm=MD5');
      const alice = await t.store.subscribers.find('alice', 'portal.test');
      expect(outcome).toEqual({
        kind: 'authenticated',
        party: { kind: 'subscriber', id: alice!.id, username: 'alice', domain: 'portal.test', displayName: 'Alice A.', plan: 'gold' },
      });
      expect(outcomes).toEqual(['challenged', 'authenticated']);
    });

    it('authenticates a SHA-256 client', async () => {
      await seed(t.store);
      const { auth } = relay();
      const req = request('REGISTER', 'sip:portal.test');
      const outcome = await login(auth, digestClient('bob', 'bob-secret'), req, flowFrom(ALICE_ADDRESS));
      expect(req.header('Authorization')).toContain('algorithm=SHA-256');
      expect(outcome).toMatchObject({ kind: 'authenticated', party: { kind: 'subscriber', username: 'bob', domain: 'portal.test' } });
      expect(outcome.kind === 'authenticated' && 'displayName' in outcome.party).toBe(false);
    });

    it('authenticates through Proxy-Authorization in proxy mode', async () => {
      await seed(t.store);
      const { auth } = relay();
      const req = request('INVITE', 'sip:shop@elsewhere.example');
      const outcome = await login(auth, digestClient('alice', 'alice-secret'), req, flowFrom(ALICE_ADDRESS), 'proxy');
      expect(req.hasHeader('Proxy-Authorization')).toBe(true);
      expect(outcome.kind).toBe('authenticated');
    });

    it('authenticates an application server and says so', async () => {
      await seed(t.store);
      const { auth } = relay();
      const outcome = await login(auth, digestClient('wine-shop', 'shop-secret'), request('REGISTER', 'sip:portal.test', 'sip:wine-shop@portal.test'), flowFrom('192.0.2.10'));
      expect(outcome).toMatchObject({ kind: 'authenticated', party: { kind: 'app-server', username: 'wine-shop', domain: 'portal.test' } });
    });

    it('lets a client reuse its nonce with the next count (no new challenge)', async () => {
      await seed(t.store);
      const { auth } = relay();
      const client = digestClient('alice', 'alice-secret', { preemptive: true });
      expect((await login(auth, client, request(), flowFrom(ALICE_ADDRESS))).kind).toBe('authenticated');
      const next = request('MESSAGE');
      expect(client.authorizePreemptively(next)).toBe(true);
      expect(next.header('Authorization')).toContain('nc=00000002');
      expect((await auth.authenticate(next, flowFrom(ALICE_ADDRESS), 'www')).kind).toBe('authenticated');
    });
  });

  describe('failure', () => {
    it('gives an unknown user and a wrong password byte-identical answers apart from nonce and tag', async () => {
      await seed(t.store);
      const { auth, outcomes } = relay();
      const answerTo = async (username: string, password: string) => {
        const req = request();
        const challenge = respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'));
        // Same request otherwise: same Call-ID, tags, branch.
        req.setHeader('Call-ID', 'same-call@client.test');
        req.setHeader('Via', 'SIP/2.0/UDP 198.51.100.7:5070;branch=z9hG4bKsame');
        req.setHeader('From', '<sip:alice@portal.test>;tag=fsame');
        answer(digestClient(username, password), req, challenge);
        return respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'));
      };
      const wrongPassword = await answerTo('alice', 'not-her-password');
      const unknownUser = await answerTo('mallory', 'whatever');
      expect(wrongPassword.status).toBe(401);
      expect(normalized(unknownUser)).toBe(normalized(wrongPassword));
      expect(normalized(unknownUser)).toMatch(/^To: .*;tag=T\r$/m);
      expect(unknownUser.header('WWW-Authenticate')).not.toBe(wrongPassword.header('WWW-Authenticate'));
      expect(outcomes.filter((o) => o === 'failed')).toHaveLength(2);
    });

    it('a client with the wrong password gives up after one round trip (no stale=true)', async () => {
      await seed(t.store);
      const { auth } = relay();
      const client = digestClient('alice', 'wrong');
      const req = request();
      const second = respondOf(await login(auth, client, req, flowFrom(ALICE_ADDRESS)));
      expect(second.status).toBe(401);
      expect(parseDigestChallenge(second.header('WWW-Authenticate')!)!.stale).toBe(false);
      expect(client.authorize(req, second)).toBe(false);
    });

    it('challenges with stale=true when the right credentials come on an expired nonce, and the retry succeeds', async () => {
      await seed(t.store);
      const { auth } = relay();
      const client = digestClient('alice', 'alice-secret');
      const req = request();
      answer(client, req, respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www')));
      t.clock.advance(301_000);
      const stale = respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'));
      expect(stale.status).toBe(401);
      expect(stale.headerLines('WWW-Authenticate').map((v) => parseDigestChallenge(v)!.stale)).toEqual([true, true, true]);
      expect(answer(client, req, stale)).toBe(true);
      expect((await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www')).kind).toBe('authenticated');
    });

    it('refuses a replayed request (same nonce count) with a stale=true challenge', async () => {
      await seed(t.store);
      const { auth, outcomes } = relay();
      const req = request();
      expect((await login(auth, digestClient('alice', 'alice-secret'), req, flowFrom(ALICE_ADDRESS))).kind).toBe('authenticated');
      const replay = respondOf(await auth.authenticate(req, flowFrom(ATTACKER_ADDRESS), 'www'));
      expect(replay.status).toBe(401);
      expect(parseDigestChallenge(replay.header('WWW-Authenticate')!)!.stale).toBe(true);
      expect(outcomes.at(-1)).toBe('stale');
    });

    it('answers 400 to credentials that do not follow RFC 7616', async () => {
      const { auth, outcomes } = relay();
      const req = request();
      req.addHeader('Authorization', 'Digest username="alice", realm="portal.test", uri="sip:wine@portal.test", response="00"');
      const res = respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'));
      expect([res.status, res.reason]).toEqual([400, 'Malformed Credentials']);
      expect(outcomes).toEqual(['malformed']);
    });

    it('challenges credentials for a realm that is not ours, leaving them for another proxy', async () => {
      const { auth } = relay();
      const req = request();
      req.addHeader('Authorization', 'Digest username="alice", realm="elsewhere.example", nonce="x", uri="sip:a@b", response="00"');
      const res = respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'));
      expect(res.status).toBe(401);
    });
  });

  describe('disabled accounts', () => {
    it('refuses a disabled user like bad credentials once the cache entry is invalidated', async () => {
      await seed(t.store);
      const { auth, credentialCache } = relay();
      expect((await login(auth, digestClient('alice', 'alice-secret'), request(), flowFrom(ALICE_ADDRESS))).kind).toBe('authenticated');
      await t.store.subscribers.disable('alice', 'portal.test');
      credentialCache.invalidate('alice', 'portal.test');
      const res = respondOf(await login(auth, digestClient('alice', 'alice-secret'), request(), flowFrom(ALICE_ADDRESS)));
      expect(res.status).toBe(401);
      expect(parseDigestChallenge(res.header('WWW-Authenticate')!)!.stale).toBe(false);
    });

    it('refuses a user disabled by another process within the cache lifetime (30 s)', async () => {
      await seed(t.store);
      const { auth } = relay();
      expect((await login(auth, digestClient('alice', 'alice-secret'), request(), flowFrom(ALICE_ADDRESS))).kind).toBe('authenticated');
      await t.store.subscribers.disable('alice', 'portal.test');
      // Still cached: the documented delay.
      expect((await login(auth, digestClient('alice', 'alice-secret'), request(), flowFrom(ALICE_ADDRESS))).kind).toBe('authenticated');
      t.clock.advance(30_000);
      expect(respondOf(await login(auth, digestClient('alice', 'alice-secret'), request(), flowFrom(ALICE_ADDRESS))).status).toBe(401);
    });

    it('refuses a disabled application server', async () => {
      await seed(t.store);
      await t.store.appServers.disable('wine-shop');
      const { auth } = relay();
      const res = respondOf(await login(auth, digestClient('wine-shop', 'shop-secret'), request('REGISTER', 'sip:portal.test'), flowFrom('192.0.2.10')));
      expect(res.status).toBe(401);
    });
  });

  describe('throttling', () => {
    // perUserAndAddress: slow after 2, 1000 ms; block after 4 for 60 s. perAddress: slow after 6, block after 8.
    const guess = (auth: RelayAuthenticator, address: string, username = 'alice', password = 'guess') =>
      login(auth, digestClient(username, password), request(), flowFrom(address), 'www', t.clock);

    it('slows the answers after slowAfter failures of one user from one address, then blocks them while the user gets in from elsewhere', async () => {
      await seed(t.store);
      const { auth, logger } = relay();
      for (let i = 0; i < 2; i++) expect(respondOf(await guess(auth, ATTACKER_ADDRESS)).status).toBe(401);

      // Third failure: answered after slowDelayMs.
      const client = digestClient('alice', 'guess');
      const req = request();
      answer(client, req, respondOf(await auth.authenticate(req, flowFrom(ATTACKER_ADDRESS), 'www')));
      const third = await expectDelayed(auth.authenticate(req, flowFrom(ATTACKER_ADDRESS), 'www'), t.clock, 1000);
      expect(respondOf(third).status).toBe(401);

      // Fourth failure starts the block: refused, no challenge.
      const fourth = respondOf(await guess(auth, ATTACKER_ADDRESS));
      expect([fourth.status, fourth.reason]).toEqual([403, BLOCKED_REASON]);
      expect(fourth.header('Retry-After')).toBe('60');
      expect(fourth.hasHeader('WWW-Authenticate')).toBe(false);

      // Even the right password is refused from that address now, without looking at it.
      const blocked = respondOf(await guess(auth, ATTACKER_ADDRESS, 'alice', 'alice-secret'));
      expect(blocked.status).toBe(403);
      expect(Number(blocked.header('Retry-After'))).toBeLessThanOrEqual(60);

      // The real user, from her own address, is not locked out.
      expect((await guess(auth, ALICE_ADDRESS, 'alice', 'alice-secret')).kind).toBe('authenticated');
      // Another user from the attacker's address is not blocked either (per pair).
      expect((await guess(auth, ATTACKER_ADDRESS, 'bob', 'bob-secret')).kind).toBe('authenticated');

      const warnings = logger.lines.filter((l) => l.level === 'warn');
      expect(warnings.map((w) => w.obj)).toEqual([
        expect.objectContaining({ address: ATTACKER_ADDRESS, username: 'alice', scope: 'user-address' }),
        expect.objectContaining({ address: ATTACKER_ADDRESS, username: 'alice', scope: 'user-address', retryAfterSeconds: expect.any(Number) }),
      ]);

      t.clock.advance(60_000);
      expect((await guess(auth, ATTACKER_ADDRESS, 'alice', 'alice-secret')).kind).toBe('authenticated');
    });

    it('delays a success too while slowed, and a success clears the failures of the pair', async () => {
      await seed(t.store);
      const { auth } = relay();
      for (let i = 0; i < 2; i++) await guess(auth, ALICE_ADDRESS);
      const client = digestClient('alice', 'alice-secret');
      const req = request();
      answer(client, req, respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www')));
      const ok = await expectDelayed(auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'), t.clock, 1000);
      expect(ok.kind).toBe('authenticated');
      // Counter cleared: two more failures are answered at once.
      for (let i = 0; i < 2; i++) {
        const r = request();
        answer(digestClient('alice', 'typo'), r, respondOf(await auth.authenticate(r, flowFrom(ALICE_ADDRESS), 'www')));
        const p = auth.authenticate(r, flowFrom(ALICE_ADDRESS), 'www');
        expect(respondOf(await p).status).toBe(401);
        expect(t.clock.pending).toBe(0);
      }
    });

    it('blocks an address that fails with many usernames, for every request from it', async () => {
      await seed(t.store);
      const { auth, logger } = relay();
      const names = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'];
      for (const n of names) expect(respondOf(await guess(auth, ATTACKER_ADDRESS, n)).status).toBe(401);
      const eighth = respondOf(await guess(auth, ATTACKER_ADDRESS, 'u8'));
      expect([eighth.status, eighth.header('Retry-After')]).toEqual([403, '120']);
      // No credentials at all: still refused from that address.
      const bare = respondOf(await auth.authenticate(request(), flowFrom(ATTACKER_ADDRESS), 'www'));
      expect(bare.status).toBe(403);
      expect(logger.lines.some((l) => l.level === 'warn' && (l.obj as { scope?: string }).scope === 'address')).toBe(true);
      // Other addresses are unaffected.
      expect((await guess(auth, ALICE_ADDRESS, 'alice', 'alice-secret')).kind).toBe('authenticated');
    });

    it('counts IPv6 clients by their /64: stepping to a neighbouring address does not escape a block', async () => {
      await seed(t.store);
      const { auth, logger } = relay();
      for (let i = 1; i <= 4; i++) await guess(auth, `2001:db8:1:2::${i}`);
      const next = respondOf(await guess(auth, '2001:db8:1:2:ffff::1', 'alice', 'alice-secret'));
      expect(next.status).toBe(403);
      expect(logger.lines.find((l) => l.level === 'warn')?.obj).toMatchObject({ address: '2001:db8:1:2::4', countedAs: '2001:db8:1:2::/64' });
      expect((await guess(auth, '2001:db8:1:3::1', 'alice', 'alice-secret')).kind).toBe('authenticated');
    });

    it('counts an unknown user exactly like a wrong password', async () => {
      await seed(t.store);
      const { auth } = relay();
      for (let i = 0; i < 3; i++) await guess(auth, ATTACKER_ADDRESS, 'nobody');
      expect(respondOf(await guess(auth, ATTACKER_ADDRESS, 'nobody')).status).toBe(403);
    });

    it('forgets failures after the window', async () => {
      await seed(t.store);
      const { auth } = relay();
      for (let i = 0; i < 3; i++) await guess(auth, ATTACKER_ADDRESS);
      t.clock.advance(600_000);
      // Window over: the next failure is the first of a new window, answered with a challenge at once.
      const r = request();
      answer(digestClient('alice', 'guess'), r, respondOf(await auth.authenticate(r, flowFrom(ATTACKER_ADDRESS), 'www')));
      expect(respondOf(await auth.authenticate(r, flowFrom(ATTACKER_ADDRESS), 'www')).status).toBe(401);
      expect(t.clock.pending).toBe(0);
    });
  });
});

describe('RelayAuthenticator when the store fails', () => {
  it('answers 503 with Retry-After and logs the error, without throwing', async () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    const auth = new RelayAuthenticator({
      domains: ['portal.test'],
      principals: { get: () => Promise.reject(new Error('connection refused')) },
      nonceService: new NonceService({ secret: 'a-nonce-secret-of-enough-length', clock }),
      nonceCountStore: new MemoryNonceCountStore({ clock }),
      throttle: new MemoryAuthThrottle({ limits: relayConfig().auth.throttle, clock }),
      clock,
      logger,
    });
    const req = request();
    const challenge = respondOf(await auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'));
    answer(digestClient('alice', 'alice-secret'), req, challenge);
    const res = respondOf(await settle(auth.authenticate(req, flowFrom(ALICE_ADDRESS), 'www'), clock));
    expect([res.status, res.header('Retry-After')]).toEqual([503, '5']);
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'error' })]);
  });

  it('throws TypeError for bad options', () => {
    const clock = new ManualClock();
    const base = {
      domains: ['portal.test'],
      principals: { get: async () => undefined },
      nonceService: new NonceService({ secret: 'a-nonce-secret-of-enough-length', clock }),
      nonceCountStore: new MemoryNonceCountStore({ clock }),
      throttle: new MemoryAuthThrottle({ limits: relayConfig().auth.throttle, clock }),
    };
    expect(() => new RelayAuthenticator({ ...base, domains: [] })).toThrow(TypeError);
    expect(() => new RelayAuthenticator({ ...base, algorithms: ['SHA-512-256' as 'MD5'] })).toThrow(/MD5 or SHA-256/);
    expect(() => new RelayAuthenticator({ ...base, unavailableRetryAfterSeconds: -1 })).toThrow(TypeError);
  });

});
