import { describe, expect, it } from 'vitest';
import { computeHa1 } from '../../../sip/auth/digest-algorithm.js';
import { backends, useTestStore } from './store-backends.js';
import { storeErrorCode as codeOf } from './store-error-code.js';

describe.each(backends)('AppServerRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);
  const addWineShop = () =>
    t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'shop-secret', displayName: 'Wine' });

  describe('add', () => {
    it('stores the account with HA1s for its domain and the operator defaulting to its name', async () => {
      const a = await addWineShop();
      expect(a).toMatchObject({ name: 'wine-shop', domain: 'portal.test', displayName: 'Wine', operator: 'wine-shop', disabled: false });
      expect(await t.store.appServers.findHa1('wine-shop', 'portal.test', 'SHA-256')).toBe(
        computeHa1('SHA-256', 'wine-shop', 'portal.test', 'shop-secret'),
      );
      const raw = await t.store.db.selectFrom('app_servers').selectAll().execute();
      expect(JSON.stringify(raw)).not.toContain('shop-secret');
    });

    it('keeps a given operator', async () => {
      const a = await t.store.appServers.add({ name: 'books-a', domain: 'portal.test', password: 'x', operator: 'Acme Books' });
      expect(a.operator).toBe('Acme Books');
    });

    it('refuses a taken name, and a name that a user of the domain has', async () => {
      await addWineShop();
      expect(await codeOf(addWineShop())).toBe('STORE_ERR_DUPLICATE');
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'x' });
      expect(await codeOf(t.store.appServers.add({ name: 'alice', domain: 'portal.test', password: 'x' }))).toBe(
        'STORE_ERR_DUPLICATE',
      );
    });
  });

  describe('setPassword, disable, enable, remove', () => {
    it('setPassword recomputes the digests in the stored domain', async () => {
      await addWineShop();
      await t.store.appServers.setPassword('wine-shop', 'new-secret');
      expect(await t.store.appServers.findHa1('wine-shop', 'portal.test', 'MD5')).toBe(
        computeHa1('MD5', 'wine-shop', 'portal.test', 'new-secret'),
      );
    });

    it('a disabled application server cannot log in and is not a provider', async () => {
      await addWineShop();
      await t.store.services.upsert({ name: 'wine' });
      await t.store.appServers.attachService('wine-shop', 'wine');
      await t.store.appServers.disable('wine-shop');
      expect(await t.store.appServers.findHa1('wine-shop', 'portal.test', 'MD5')).toBeUndefined();
      expect(await t.store.appServers.providers('wine')).toEqual([]);
      expect((await t.store.appServers.listServices({ service: 'wine' }))[0].disabled).toBe(true);
      await t.store.appServers.enable('wine-shop');
      expect(await t.store.appServers.providers('wine')).toHaveLength(1);
    });

    it('remove deletes the account with its bindings and keys', async () => {
      await addWineShop();
      await t.store.services.upsert({ name: 'wine' });
      await t.store.appServers.attachService('wine-shop', 'wine');
      const { key } = await t.store.apiKeys.create({ kind: 'app-server', appServer: 'wine-shop' });
      await t.store.appServers.remove('wine-shop');
      expect(await t.store.appServers.find('wine-shop')).toBeUndefined();
      expect(await t.store.appServers.listServices()).toEqual([]);
      expect(await t.store.apiKeys.verify(key)).toBeUndefined();
      expect(await t.store.apiKeys.list({ includeRevoked: true })).toEqual([]);
    });

    it('each fails with STORE_ERR_NOT_FOUND for an unknown name', async () => {
      expect(await codeOf(t.store.appServers.setPassword('nope', 'x'))).toBe('STORE_ERR_NOT_FOUND');
      expect(await codeOf(t.store.appServers.disable('nope'))).toBe('STORE_ERR_NOT_FOUND');
      expect(await codeOf(t.store.appServers.enable('nope'))).toBe('STORE_ERR_NOT_FOUND');
      expect(await codeOf(t.store.appServers.remove('nope'))).toBe('STORE_ERR_NOT_FOUND');
    });
  });

  describe('services an application server provides', () => {
    it('attachService records weight and target, and attaching again updates them', async () => {
      await addWineShop();
      await t.store.services.upsert({ name: 'wine' });
      const first = await t.store.appServers.attachService('wine-shop', 'wine', {
        weight: 3,
        targetUri: 'sip:127.0.0.1:5071;transport=tcp',
      });
      expect(first).toMatchObject({ appServer: 'wine-shop', service: 'wine', weight: 3, targetUri: 'sip:127.0.0.1:5071;transport=tcp' });
      const second = await t.store.appServers.attachService('wine-shop', 'wine', { weight: 1 });
      expect(second).toMatchObject({ weight: 1, targetUri: null });
      expect(await t.store.appServers.listServices()).toHaveLength(1);
    });

    it('lists providers of a service, by application-server name', async () => {
      await t.store.services.upsert({ name: 'bookstore', forkMode: 'race', allowNoCancel: true });
      await t.store.services.upsert({ name: 'wine' });
      for (const n of ['books-b', 'books-a']) {
        await t.store.appServers.add({ name: n, domain: 'portal.test', password: 'x' });
        await t.store.appServers.attachService(n, 'bookstore');
      }
      await addWineShop();
      await t.store.appServers.attachService('wine-shop', 'wine');
      expect((await t.store.appServers.providers('bookstore')).map((b) => b.appServer)).toEqual(['books-a', 'books-b']);
      expect((await t.store.appServers.listServices({ appServer: 'wine-shop' })).map((b) => b.service)).toEqual(['wine']);
    });

    it('refuses an unknown service or application server, a weight below 1 and a target that is not a SIP URI', async () => {
      await addWineShop();
      await t.store.services.upsert({ name: 'wine' });
      expect(await codeOf(t.store.appServers.attachService('wine-shop', 'wnie'))).toBe('STORE_ERR_NOT_FOUND');
      expect(await codeOf(t.store.appServers.attachService('nope', 'wine'))).toBe('STORE_ERR_NOT_FOUND');
      expect(await codeOf(t.store.appServers.attachService('wine-shop', 'wine', { weight: 0 }))).toBe('STORE_ERR_INVALID');
      expect(await codeOf(t.store.appServers.attachService('wine-shop', 'wine', { weight: 1.5 }))).toBe('STORE_ERR_INVALID');
      expect(await codeOf(t.store.appServers.attachService('wine-shop', 'wine', { targetUri: 'http://x' }))).toBe(
        'STORE_ERR_INVALID',
      );
    });

    it('detachService removes the binding; detaching again is STORE_ERR_NOT_FOUND', async () => {
      await addWineShop();
      await t.store.services.upsert({ name: 'wine' });
      await t.store.appServers.attachService('wine-shop', 'wine');
      await t.store.appServers.detachService('wine-shop', 'wine');
      expect(await t.store.appServers.providers('wine')).toEqual([]);
      expect(await codeOf(t.store.appServers.detachService('wine-shop', 'wine'))).toBe('STORE_ERR_NOT_FOUND');
    });
  });
});
