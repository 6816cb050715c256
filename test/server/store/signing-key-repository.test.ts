import { describe, expect, it } from 'vitest';
import { SignJWT, createLocalJWKSet, importJWK, jwtVerify } from 'jose';
import { DEFAULT_RETIRED_KEY_PUBLISH_MS } from '../../../server/store/signing-key-repository.js';
import { backends, useTestStore } from './store-backends.js';

describe.each(backends)('SigningKeyRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);

  it('has no active key before the first start', async () => {
    expect(await t.store.signingKeys.active()).toBeUndefined();
    expect(await t.store.signingKeys.published()).toEqual([]);
  });

  it('ensureActive creates an Ed25519 key once and returns it afterwards', async () => {
    const first = await t.store.signingKeys.ensureActive();
    expect(first.algorithm).toBe('EdDSA');
    expect(first.publicJwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: first.kid, alg: 'EdDSA', use: 'sig' });
    expect(first.publicJwk).not.toHaveProperty('d');
    expect(first.privateJwk).toHaveProperty('d');
    expect((await t.store.signingKeys.ensureActive()).kid).toBe(first.kid);
    expect(await t.store.signingKeys.all()).toHaveLength(1);
  });

  it('a token signed with the active key verifies against the published key set', async () => {
    const key = await t.store.signingKeys.ensureActive();
    const token = await new SignJWT({ svc: 'wine' })
      .setProtectedHeader({ alg: key.algorithm, kid: key.kid })
      .setAudience('wine-shop')
      .sign(await importJWK(key.privateJwk, key.algorithm));
    const jwks = createLocalJWKSet({ keys: await t.store.signingKeys.published() });
    const { payload } = await jwtVerify(token, jwks, { audience: 'wine-shop' });
    expect(payload.svc).toBe('wine');
  });

  it('rotate activates a new key, retires the old one and keeps publishing it for the retention time', async () => {
    const old = await t.store.signingKeys.ensureActive();
    t.clock.advance(10_000);
    const fresh = await t.store.signingKeys.rotate();
    expect(fresh.kid).not.toBe(old.kid);
    expect((await t.store.signingKeys.active())?.kid).toBe(fresh.kid);
    const all = await t.store.signingKeys.all();
    expect(all.find((k) => k.kid === old.kid)?.retiredAt).toBe(t.clock.wallNow());
    expect((await t.store.signingKeys.published()).map((k) => k.kid)).toEqual([fresh.kid, old.kid]);
    t.clock.advance(DEFAULT_RETIRED_KEY_PUBLISH_MS);
    expect((await t.store.signingKeys.published()).map((k) => k.kid)).toEqual([fresh.kid]);
  });

  it('rotate can make an ES256 key', async () => {
    const k = await t.store.signingKeys.rotate({ algorithm: 'ES256' });
    expect(k.publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    expect((await t.store.signingKeys.active())?.algorithm).toBe('ES256');
  });
});
