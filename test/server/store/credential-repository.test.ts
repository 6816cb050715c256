import { describe, expect, it } from 'vitest';
import { computeHa1 } from '../../../sip/auth/digest-algorithm.js';
import { backends, useTestStore } from './store-backends.js';

describe.each(backends)('CredentialRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);

  it('finds a user and an application server by username and realm', async () => {
    const alice = await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
    const shop = await t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'shop' });
    expect(await t.store.credentials.find('alice', 'portal.test', 'MD5')).toEqual({
      kind: 'subscriber',
      id: alice.id,
      username: 'alice',
      ha1: computeHa1('MD5', 'alice', 'portal.test', 'alice-secret'),
    });
    expect(await t.store.credentials.find('wine-shop', 'Portal.Test', 'SHA-256')).toEqual({
      kind: 'app-server',
      id: shop.id,
      username: 'wine-shop',
      ha1: computeHa1('SHA-256', 'wine-shop', 'portal.test', 'shop'),
    });
  });

  it('has no SHA-512-256 HA1 (only MD5 and SHA-256 are stored)', async () => {
    await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'x' });
    expect(await t.store.credentials.find('alice', 'portal.test', 'SHA-512-256')).toBeUndefined();
    expect(await t.store.subscribers.findHa1('alice', 'portal.test', 'SHA-512-256')).toBeUndefined();
  });

  it('finds nobody for an unknown or disabled name', async () => {
    await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'x' });
    await t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x' });
    await t.store.subscribers.disable('alice', 'portal.test');
    await t.store.appServers.disable('wine-shop');
    expect(await t.store.credentials.find('alice', 'portal.test', 'MD5')).toBeUndefined();
    expect(await t.store.credentials.find('wine-shop', 'portal.test', 'MD5')).toBeUndefined();
    expect(await t.store.credentials.find('mallory', 'portal.test', 'MD5')).toBeUndefined();
  });
});
