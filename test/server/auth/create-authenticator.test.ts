import { describe, expect, it } from 'vitest';
import { parseDigestChallenge } from '../../../sip/auth/digest-challenge.js';
import { MemoryNonceCountStore } from '../../../sip/auth/nonce-count-store.js';
import { createAuthenticator } from '../../../server/auth/create-authenticator.js';
import { MemoryAuthThrottle } from '../../../server/auth/memory-auth-throttle.js';
import { RedisAuthThrottle } from '../../../server/auth/redis-auth-throttle.js';
import { RedisNonceCountStore } from '../../../server/auth/redis-nonce-count-store.js';
import { relayConfigSchema } from '../../../server/config/relay-config-schema.js';
import { useTestStore } from '../store/store-backends.js';
import { answer, digestClient, flowFrom, login, request, respondOf } from './auth-harness.js';
import { deleteKeys, randomAddress, useRedis } from './redis-harness.js';

const config = (auth: Record<string, unknown> = {}) =>
  relayConfigSchema.parse({
    domains: ['portal.test'],
    auth: {
      throttle: { perUserAndAddress: { slowAfter: 3, slowDelayMs: 0, blockAfter: 3, blockSeconds: 60 } },
      ...auth,
    },
  });
const SECRET = 'a-cluster-wide-nonce-secret-of-32+chars';

describe('createAuthenticator', () => {
  const t = useTestStore('sqlite');

  it('keeps nonce counts and failures in memory without Redis', () => {
    const built = createAuthenticator(config(), t.store);
    expect(built.nonceCountStore).toBeInstanceOf(MemoryNonceCountStore);
    expect(built.throttle).toBeInstanceOf(MemoryAuthThrottle);
    expect(built.nonceService.lifetimeMs).toBe(300_000);
  });

  it('takes the nonce lifetime from auth.nonceLifetimeSeconds', () => {
    expect(createAuthenticator(config({ nonceLifetimeSeconds: 30 }), t.store).nonceService.lifetimeMs).toBe(30_000);
  });

  it('without auth.nonceSecret, a nonce from one process is not valid in another (a fresh challenge, not stale)', async () => {
    await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
    const a = createAuthenticator(config(), t.store).authenticator;
    const b = createAuthenticator(config(), t.store).authenticator;
    const req = request();
    answer(digestClient('alice', 'alice-secret'), req, respondOf(await a.authenticate(req, flowFrom('198.51.100.7'), 'www')));
    const res = respondOf(await b.authenticate(req, flowFrom('198.51.100.7'), 'www'));
    expect(res.status).toBe(401);
    expect(parseDigestChallenge(res.header('WWW-Authenticate')!)!.stale).toBe(false);
  });

  describe('with Redis (a cluster of two nodes)', () => {
    const r = useRedis();
    const nodes = () => {
      const one = createAuthenticator(config({ nonceSecret: SECRET }), t.store, { redis: r.redis });
      const two = createAuthenticator(config({ nonceSecret: SECRET }), t.store, { redis: r.redis });
      return [one, two] as const;
    };

    it('uses the Redis nonce-count store and throttle', () => {
      const [one] = nodes();
      expect(one.nonceCountStore).toBeInstanceOf(RedisNonceCountStore);
      expect(one.throttle).toBeInstanceOf(RedisAuthThrottle);
    });

    it('accepts at one node the answer to a challenge of the other, and refuses its replay at either', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
      const [one, two] = nodes();
      const address = randomAddress();
      const req = request();
      answer(digestClient('alice', 'alice-secret'), req, respondOf(await one.authenticator.authenticate(req, flowFrom(address), 'www')));
      expect((await two.authenticator.authenticate(req, flowFrom(address), 'www')).kind).toBe('authenticated');
      const replay = respondOf(await one.authenticator.authenticate(req, flowFrom(address), 'www'));
      expect(parseDigestChallenge(replay.header('WWW-Authenticate')!)!.stale).toBe(true);
      await deleteKeys(r.redis, `siprelay:authfail:{${address}}*`);
    });

    it('counts failures at both nodes together: three guesses spread over two nodes block the pair', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
      const [one, two] = nodes();
      const address = randomAddress();
      expect(respondOf(await login(one.authenticator, digestClient('alice', 'x'), request(), flowFrom(address))).status).toBe(401);
      expect(respondOf(await login(two.authenticator, digestClient('alice', 'y'), request(), flowFrom(address))).status).toBe(401);
      expect(respondOf(await login(one.authenticator, digestClient('alice', 'z'), request(), flowFrom(address))).status).toBe(403);
      const refused = respondOf(await login(two.authenticator, digestClient('alice', 'alice-secret'), request(), flowFrom(address)));
      expect(refused.status).toBe(403);
      expect(Number(refused.header('Retry-After'))).toBeGreaterThan(55);
      await deleteKeys(r.redis, `siprelay:authfail:{${address}}*`);
    });
  });
});
