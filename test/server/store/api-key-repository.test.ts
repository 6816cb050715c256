import { describe, expect, it } from 'vitest';
import { backends, useTestStore } from './store-backends.js';
import { storeErrorCode as codeOf } from './store-error-code.js';

describe.each(backends)('ApiKeyRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);
  const addShop = () => t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x', operator: 'Vino Ltd' });

  describe('create', () => {
    it('returns the plaintext once and stores only its hash and prefix', async () => {
      await addShop();
      const { key, apiKey } = await t.store.apiKeys.create({ kind: 'app-server', appServer: 'wine-shop' }, { label: 'charges' });
      expect(key).toMatch(/^srk_[A-Za-z0-9_-]{43}$/);
      expect(apiKey).toMatchObject({
        prefix: key.slice(0, 12),
        ownerKind: 'app-server',
        appServer: 'wine-shop',
        label: 'charges',
        revokedAt: null,
      });
      const raw = await t.store.db.selectFrom('api_keys').selectAll().execute();
      expect(JSON.stringify(raw)).not.toContain(key);
      expect(JSON.stringify(raw)).not.toContain(key.slice(12));
    });

    it('gives every key a different value', async () => {
      const a = await t.store.apiKeys.create({ kind: 'admin' });
      const b = await t.store.apiKeys.create({ kind: 'admin' });
      expect(a.key).not.toBe(b.key);
    });

    it('refuses an unknown application server', async () => {
      expect(await codeOf(t.store.apiKeys.create({ kind: 'app-server', appServer: 'nope' }))).toBe('STORE_ERR_NOT_FOUND');
    });
  });

  describe('verify', () => {
    it('names the application server and its operator', async () => {
      const shop = await addShop();
      const { key, apiKey } = await t.store.apiKeys.create({ kind: 'app-server', appServer: 'wine-shop' });
      expect(await t.store.apiKeys.verify(key)).toEqual({
        kind: 'app-server',
        keyId: apiKey.id,
        appServerId: shop.id,
        appServer: 'wine-shop',
        operator: 'Vino Ltd',
      });
    });

    it('recognises an admin key', async () => {
      const { key, apiKey } = await t.store.apiKeys.create({ kind: 'admin' }, { label: 'ops' });
      expect(await t.store.apiKeys.verify(key)).toEqual({ kind: 'admin', keyId: apiKey.id, label: 'ops' });
    });

    it('knows nothing of a wrong, altered or malformed key', async () => {
      const { key } = await t.store.apiKeys.create({ kind: 'admin' });
      const altered = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
      expect(await t.store.apiKeys.verify(altered)).toBeUndefined();
      expect(await t.store.apiKeys.verify('')).toBeUndefined();
      expect(await t.store.apiKeys.verify('Bearer ' + key)).toBeUndefined();
    });

    it('refuses the key of a disabled application server', async () => {
      await addShop();
      const { key } = await t.store.apiKeys.create({ kind: 'app-server', appServer: 'wine-shop' });
      await t.store.appServers.disable('wine-shop');
      expect(await t.store.apiKeys.verify(key)).toBeUndefined();
    });
  });

  describe('revoke', () => {
    it('by id: the key stops working and is listed only with includeRevoked', async () => {
      const { key, apiKey } = await t.store.apiKeys.create({ kind: 'admin' });
      const revoked = await t.store.apiKeys.revoke(apiKey.id);
      expect(revoked.revokedAt).toBe(t.clock.wallNow());
      expect(await t.store.apiKeys.verify(key)).toBeUndefined();
      expect(await t.store.apiKeys.list()).toEqual([]);
      expect((await t.store.apiKeys.list({ includeRevoked: true }))[0].id).toBe(apiKey.id);
    });

    it('by displayed prefix, and by id given as text', async () => {
      const a = await t.store.apiKeys.create({ kind: 'admin' });
      const b = await t.store.apiKeys.create({ kind: 'admin' });
      await t.store.apiKeys.revoke(a.apiKey.prefix);
      await t.store.apiKeys.revoke(String(b.apiKey.id));
      expect(await t.store.apiKeys.verify(a.key)).toBeUndefined();
      expect(await t.store.apiKeys.verify(b.key)).toBeUndefined();
    });

    it('keeps the first revocation instant when revoked twice', async () => {
      const { apiKey } = await t.store.apiKeys.create({ kind: 'admin' });
      const first = await t.store.apiKeys.revoke(apiKey.id);
      t.clock.advance(1000);
      expect((await t.store.apiKeys.revoke(apiKey.id)).revokedAt).toBe(first.revokedAt);
    });

    it('reports an unknown key', async () => {
      expect(await codeOf(t.store.apiKeys.revoke(999))).toBe('STORE_ERR_NOT_FOUND');
      expect(await codeOf(t.store.apiKeys.revoke('srk_nothing1'))).toBe('STORE_ERR_NOT_FOUND');
    });
  });

  it('list shows newest first and filters by application server', async () => {
    await addShop();
    const admin = await t.store.apiKeys.create({ kind: 'admin' });
    const shop = await t.store.apiKeys.create({ kind: 'app-server', appServer: 'wine-shop' });
    expect((await t.store.apiKeys.list()).map((k) => k.id)).toEqual([shop.apiKey.id, admin.apiKey.id]);
    expect((await t.store.apiKeys.list({ appServer: 'wine-shop' })).map((k) => k.id)).toEqual([shop.apiKey.id]);
  });
});
