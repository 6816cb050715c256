import { importJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../sip/util/clock.js';
import { IdentityError } from '../../../server/identity/identity-error.js';
import { JwsSigner } from '../../../server/identity/jws-signer.js';
import { SigningKeyRing } from '../../../server/identity/signing-key-ring.js';
import type { SigningKey } from '../../../server/store/signing-key-repository.js';
import { recordingLogger, waitFor } from '../auth/auth-harness.js';
import { useTestStore } from '../store/store-backends.js';

describe('SigningKeyRing', () => {
  const t = useTestStore('sqlite');

  it('creates the key at first start and reads the same key afterwards; concurrent loads share one read', async () => {
    let reads = 0;
    const keys = {
      ensureActive: (o?: { algorithm?: 'EdDSA' | 'ES256' }) => {
        reads++;
        return t.store.signingKeys.ensureActive(o);
      },
      rotate: (o?: { algorithm?: 'EdDSA' | 'ES256' }) => t.store.signingKeys.rotate(o),
    };
    const ring = new SigningKeyRing({ keys, algorithm: 'ES256' });
    const [a, b] = await Promise.all([ring.load(), ring.load()]);
    expect(a).toBe(b);
    expect(reads).toBe(1);
    expect(a.algorithm).toBe('ES256');
    expect((await new SigningKeyRing({ keys: t.store.signingKeys }).load()).kid).toBe(a.kid);
  });

  it('keeps signing with the previous key and logs a warning when a periodic reload fails', async () => {
    const clock = new ManualClock();
    const logger = recordingLogger();
    let fail = false;
    const keys = {
      ensureActive: async () => {
        if (fail) throw new Error('database gone');
        return t.store.signingKeys.ensureActive();
      },
      rotate: () => t.store.signingKeys.rotate(),
    };
    const ring = new SigningKeyRing({ keys, reloadIntervalMs: 1000, clock, logger });
    const first = await ring.load();
    ring.start();
    fail = true;
    clock.advance(1000);
    await waitFor(() => logger.lines.length > 0 && clock.pending > 0);
    expect(logger.lines).toEqual([expect.objectContaining({ level: 'warn' })]);
    expect(ring.current).toBe(first);
    expect(clock.pending).toBe(1); // still reloading
    ring.stop();
    expect(clock.pending).toBe(0);
  });

  it('refuses an unusable stored key with IDENTITY_ERR_KEY', async () => {
    const good = await t.store.signingKeys.ensureActive();
    const broken: SigningKey = { ...good, privateJwk: { ...good.privateJwk, d: undefined } };
    const ring = new SigningKeyRing({ keys: { ensureActive: async () => broken, rotate: async () => broken } });
    await expect(ring.load()).rejects.toMatchObject({ name: 'IdentityError', code: 'IDENTITY_ERR_KEY' });
    expect(() => ring.current).toThrow(IdentityError);
  });

  it('throws TypeError for bad options', () => {
    expect(() => new SigningKeyRing({ keys: {} as never })).toThrow(TypeError);
    expect(() => new SigningKeyRing({ keys: t.store.signingKeys, reloadIntervalMs: -1 })).toThrow(TypeError);
    expect(() => new SigningKeyRing({ keys: t.store.signingKeys, algorithm: 'RS256' as never })).toThrow(TypeError);
  });
});

describe('JwsSigner', () => {
  const t = useTestStore('sqlite');

  it('signs synchronously what jose verifies with the public JWK, EdDSA and ES256', async () => {
    for (const algorithm of ['EdDSA', 'ES256'] as const) {
      const key = await t.store.signingKeys.rotate({ algorithm });
      const signer = new JwsSigner(key);
      const token = signer.sign({ sub: 'sip:alice@portal.test', n: 'é' });
      const { payload, protectedHeader } = await jwtVerify(token, await importJWK(key.publicJwk, algorithm));
      expect(payload).toEqual({ sub: 'sip:alice@portal.test', n: 'é' });
      expect(protectedHeader).toEqual({ alg: algorithm, typ: 'JWT', kid: key.kid });
    }
  });

  it('refuses a public key or a key of the wrong curve', async () => {
    const key = await t.store.signingKeys.rotate();
    expect(() => new JwsSigner({ ...key, privateJwk: key.publicJwk })).toThrow(IdentityError);
    expect(() => new JwsSigner({ ...key, algorithm: 'ES256' })).toThrow(/not a private EC P-256 JWK/);
  });
});
