import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isAppServerError } from '../../appserver/app-server-error.js';
import { JwksKeySource } from '../../appserver/jwks-key-source.js';
import { RelayTokenVerifier } from '../../appserver/relay-token-verifier.js';
import { ManualClock } from '../../sip/util/clock.js';
import { JwksServer, makeKey, newSid, signToken, type TestKey } from './support/relay-keys.js';

let key: TestKey;
let other: TestKey;
beforeAll(async () => {
  key = await makeKey('k1');
  other = await makeKey('k1'); // same kid, different key: a forgery
});

const servers: JwksServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return isAppServerError(e) ? e.code : String(e);
  }
}

describe('RelayTokenVerifier', () => {
  const verifier = () => new RelayTokenVerifier({ audience: 'wineshop', keys: { keys: [key.publicJwk] } });

  it('accepts a valid token and gives the user, service, session and facts', async () => {
    const sid = newSid();
    const token = await signToken(key, { sid, svc: 'wine', name: 'Alice A.', facts: { plan: 'gold' } });
    const v = await verifier().verify(token);
    expect(v.user).toEqual({ aor: 'sip:alice@portal.test', username: 'alice', domain: 'portal.test', displayName: 'Alice A.' });
    expect(v.claims.sid).toBe(sid);
    expect(v.claims.svc).toBe('wine');
    expect(v.claims.facts).toEqual({ plan: 'gold' });
    expect(v.token).toBe(token);
  });

  it('gives the linked session of a transfer, and refuses a malformed one', async () => {
    const linked = newSid();
    expect((await verifier().verify(await signToken(key, { linked }))).claims.linked).toBe(linked);
    expect((await verifier().verify(await signToken(key))).claims.linked).toBeUndefined();
    expect(await codeOf(verifier().verify(await signToken(key, { linked: 'nope' })))).toBe('APPSERVER_ERR_TOKEN_INVALID');
  });

  it('refuses a missing token', async () => {
    expect(await codeOf(verifier().verify(undefined))).toBe('APPSERVER_ERR_TOKEN_MISSING');
    expect(await codeOf(verifier().verify(''))).toBe('APPSERVER_ERR_TOKEN_MISSING');
  });

  it('refuses an expired token', async () => {
    expect(await codeOf(verifier().verify(await signToken(key, { expiresIn: -120 })))).toBe('APPSERVER_ERR_TOKEN_EXPIRED');
  });

  it('tolerates clock skew within clockToleranceSeconds', async () => {
    expect(await codeOf(verifier().verify(await signToken(key, { expiresIn: -10 })))).toBe('resolved');
  });

  it('refuses a token for another application server', async () => {
    expect(await codeOf(verifier().verify(await signToken(key, { aud: 'beershop' })))).toBe('APPSERVER_ERR_TOKEN_AUDIENCE');
  });

  it('refuses a forged signature', async () => {
    expect(await codeOf(verifier().verify(await signToken(other)))).toBe('APPSERVER_ERR_TOKEN_INVALID');
    const good = await signToken(key);
    const [h, p] = good.split('.');
    const tampered = [h, Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: 'sip:mallory@portal.test' })).toString('base64url'), good.split('.')[2]].join('.');
    expect(await codeOf(verifier().verify(tampered))).toBe('APPSERVER_ERR_TOKEN_INVALID');
  });

  it('refuses garbage and unsigned tokens', async () => {
    expect(await codeOf(verifier().verify('not-a-jwt'))).toBe('APPSERVER_ERR_TOKEN_INVALID');
    const none = Buffer.from('{"alg":"none"}').toString('base64url') + '.' + Buffer.from('{"sub":"sip:a@b"}').toString('base64url') + '.';
    expect(await codeOf(verifier().verify(none))).toBe('APPSERVER_ERR_TOKEN_INVALID');
  });

  it('refuses a token whose session id is not 32 hex digits', async () => {
    expect(await codeOf(verifier().verify(await signToken(key, { sid: 'xyz' })))).toBe('APPSERVER_ERR_TOKEN_INVALID');
  });

  it('checks the issuer when one is configured', async () => {
    const v = new RelayTokenVerifier({ audience: 'wineshop', keys: { keys: [key.publicJwk] }, issuer: 'http://relay.test' });
    expect(await codeOf(v.verify(await signToken(key)))).toBe('resolved');
    expect(await codeOf(v.verify(await signToken(key, { iss: 'http://evil.test' })))).toBe('APPSERVER_ERR_TOKEN_INVALID');
  });

  it('throws TypeError for bad options', () => {
    expect(() => new RelayTokenVerifier({ audience: '', keys: { keys: [] } })).toThrow(TypeError);
    expect(() => new RelayTokenVerifier({ audience: 'a', keys: {} as never })).toThrow(TypeError);
  });
});

describe('JwksKeySource', () => {
  it('fetches the keys once and serves later tokens from the cache', async () => {
    const jwks = await new JwksServer([key]).start();
    servers.push(jwks);
    const v = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: jwks.url }) });
    await v.verify(await signToken(key));
    await v.verify(await signToken(key));
    await Promise.all([v.verify(await signToken(key)), v.verify(await signToken(key))]);
    expect(jwks.hits).toBe(1);
  });

  it('fetches again for an unknown kid: a rotated relay key verifies at once', async () => {
    const jwks = await new JwksServer([key]).start();
    servers.push(jwks);
    const v = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: jwks.url }) });
    await v.verify(await signToken(key));
    const rotated = await makeKey('k2');
    jwks.keys = [rotated.publicJwk, key.publicJwk];
    expect(await codeOf(v.verify(await signToken(rotated)))).toBe('resolved');
    expect(jwks.hits).toBe(2);
  });

  it('does not refetch for unknown kids more often than the cooldown', async () => {
    const clock = new ManualClock();
    const jwks = await new JwksServer([key]).start();
    servers.push(jwks);
    const v = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: jwks.url, clock, cooldownMs: 30_000 }) });
    const stranger = await makeKey('k-unknown');
    expect(await codeOf(v.verify(await signToken(stranger)))).toBe('APPSERVER_ERR_TOKEN_INVALID');
    expect(jwks.hits).toBe(2); // the first fetch, then one for the unknown kid
    expect(await codeOf(v.verify(await signToken(stranger)))).toBe('APPSERVER_ERR_TOKEN_INVALID');
    expect(await codeOf(v.verify(await signToken(key)))).toBe('resolved');
    expect(jwks.hits).toBe(2);
    clock.advance(30_000);
    expect(await codeOf(v.verify(await signToken(stranger)))).toBe('APPSERVER_ERR_TOKEN_INVALID');
    expect(jwks.hits).toBe(3);
  });

  it('refetches keys that grew old, and keeps the old ones when that fails', async () => {
    const clock = new ManualClock();
    const jwks = await new JwksServer([key]).start();
    servers.push(jwks);
    const v = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: jwks.url, clock, maxAgeMs: 60_000 }) });
    await v.verify(await signToken(key));
    clock.advance(60_000);
    jwks.failWith = 500;
    expect(await codeOf(v.verify(await signToken(key)))).toBe('resolved');
    expect(jwks.hits).toBe(2);
  });

  it('reports APPSERVER_ERR_JWKS_UNAVAILABLE when the keys were never fetched', async () => {
    const jwks = await new JwksServer([key]).start();
    servers.push(jwks);
    jwks.failWith = 503;
    const v = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: jwks.url }) });
    expect(await codeOf(v.verify(await signToken(key)))).toBe('APPSERVER_ERR_JWKS_UNAVAILABLE');
    const gone = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: 'http://127.0.0.1:9/jwks.json', timeoutMs: 500 }) });
    expect(await codeOf(gone.verify(await signToken(key)))).toBe('APPSERVER_ERR_JWKS_UNAVAILABLE');
  });

  it('throws TypeError for a URL that is not http(s)', () => {
    expect(() => new JwksKeySource({ url: 'ftp://x/jwks' })).toThrow(TypeError);
    expect(() => new JwksKeySource({ url: 'nope' })).toThrow(TypeError);
  });
});
