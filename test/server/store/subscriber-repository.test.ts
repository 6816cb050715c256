import { describe, expect, it } from 'vitest';
import { computeHa1 } from '../../../sip/auth/digest-algorithm.js';
import { backends, useTestStore } from './store-backends.js';
import { storeErrorCode as codeOf } from './store-error-code.js';

describe.each(backends)('SubscriberRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);

  describe('add', () => {
    it('stores both HA1 digests of username:domain:password and never the password', async () => {
      const s = t.store;
      await s.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
      expect(await s.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBe(
        computeHa1('MD5', 'alice', 'portal.test', 'alice-secret'),
      );
      expect(await s.subscribers.findHa1('alice', 'portal.test', 'SHA-256')).toBe(
        computeHa1('SHA-256', 'alice', 'portal.test', 'alice-secret'),
      );
      const raw = await s.db.selectFrom('subscribers').selectAll().execute();
      expect(JSON.stringify(raw)).not.toContain('alice-secret');
    });

    it('returns the new subscriber with its instants from the clock', async () => {
      const now = t.clock.wallNow();
      const sub = await t.store.subscribers.add({
        username: 'bob',
        domain: 'portal.test',
        password: 'bob-secret',
        displayName: 'Bob',
        plan: 'basic',
      });
      expect(sub).toMatchObject({
        username: 'bob',
        domain: 'portal.test',
        displayName: 'Bob',
        plan: 'basic',
        disabled: false,
        createdAt: now,
        updatedAt: now,
      });
      expect(sub.id).toBeGreaterThan(0);
      expect(await t.store.subscribers.find('bob', 'portal.test')).toEqual(sub);
    });

    it('lower-cases the domain and keeps the username case (RFC 3261 §19.1.4)', async () => {
      await t.store.subscribers.add({ username: 'Carol', domain: 'Portal.TEST', password: 'pw' });
      expect((await t.store.subscribers.find('Carol', 'portal.test'))?.domain).toBe('portal.test');
      expect(await t.store.subscribers.find('carol', 'portal.test')).toBeUndefined();
      expect(await t.store.subscribers.findHa1('Carol', 'PORTAL.test', 'MD5')).toBe(
        computeHa1('MD5', 'Carol', 'portal.test', 'pw'),
      );
    });

    it('refuses a second user of the same name in the same domain', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'a' });
      expect(await codeOf(t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'b' }))).toBe(
        'STORE_ERR_DUPLICATE',
      );
    });

    it('allows the same name in another domain', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'a' });
      await t.store.subscribers.add({ username: 'alice', domain: 'other.test', password: 'b' });
      expect(await t.store.subscribers.list()).toHaveLength(2);
    });

    it('refuses a name that an application server of the domain uses', async () => {
      await t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x' });
      expect(
        await codeOf(t.store.subscribers.add({ username: 'wine-shop', domain: 'portal.test', password: 'y' })),
      ).toBe('STORE_ERR_DUPLICATE');
    });

    it.each([
      ['an empty username', { username: '', domain: 'portal.test', password: 'x' }],
      ['a username with ":"', { username: 'a:b', domain: 'portal.test', password: 'x' }],
      ['a username with "@"', { username: 'a@b', domain: 'portal.test', password: 'x' }],
      ['a username with a space', { username: 'a b', domain: 'portal.test', password: 'x' }],
      ['a domain that is not a host', { username: 'a', domain: 'portal test', password: 'x' }],
      ['an empty password', { username: 'a', domain: 'portal.test', password: '' }],
      ['a password with a newline', { username: 'a', domain: 'portal.test', password: 'x\ny' }],
    ])('refuses %s as STORE_ERR_INVALID', async (_what, input) => {
      expect(await codeOf(t.store.subscribers.add(input))).toBe('STORE_ERR_INVALID');
    });
  });

  describe('setPassword', () => {
    it('replaces both digests and moves updatedAt', async () => {
      const before = await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'old' });
      t.clock.advance(5000);
      await t.store.subscribers.setPassword('alice', 'portal.test', 'new');
      expect(await t.store.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBe(
        computeHa1('MD5', 'alice', 'portal.test', 'new'),
      );
      expect(await t.store.subscribers.findHa1('alice', 'portal.test', 'SHA-256')).toBe(
        computeHa1('SHA-256', 'alice', 'portal.test', 'new'),
      );
      const after = await t.store.subscribers.find('alice', 'portal.test');
      expect(after?.createdAt).toBe(before.createdAt);
      expect(after?.updatedAt).toBe(before.createdAt + 5000);
    });

    it('fails with STORE_ERR_NOT_FOUND for an unknown user', async () => {
      expect(await codeOf(t.store.subscribers.setPassword('nobody', 'portal.test', 'x'))).toBe('STORE_ERR_NOT_FOUND');
    });
  });

  describe('disable and enable', () => {
    it('a disabled user has no HA1, so it cannot log in, but is still listed', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'pw' });
      await t.store.subscribers.disable('alice', 'portal.test');
      expect(await t.store.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBeUndefined();
      expect(await t.store.subscribers.findHa1('alice', 'portal.test', 'SHA-256')).toBeUndefined();
      expect((await t.store.subscribers.find('alice', 'portal.test'))?.disabled).toBe(true);
      await t.store.subscribers.enable('alice', 'portal.test');
      expect(await t.store.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBe(
        computeHa1('MD5', 'alice', 'portal.test', 'pw'),
      );
    });

    it('fails with STORE_ERR_NOT_FOUND for an unknown user', async () => {
      expect(await codeOf(t.store.subscribers.disable('nobody', 'portal.test'))).toBe('STORE_ERR_NOT_FOUND');
      expect(await codeOf(t.store.subscribers.enable('nobody', 'portal.test'))).toBe('STORE_ERR_NOT_FOUND');
    });
  });

  describe('update', () => {
    it('changes display name and plan, leaving what is not given', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'pw', displayName: 'A' });
      const updated = await t.store.subscribers.update('alice', 'portal.test', { plan: 'gold' });
      expect(updated).toMatchObject({ displayName: 'A', plan: 'gold' });
      expect(await t.store.subscribers.update('alice', 'portal.test', { displayName: null })).toMatchObject({
        displayName: null,
        plan: 'gold',
      });
    });
  });

  describe('remove', () => {
    it('deletes the account', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'pw' });
      await t.store.subscribers.remove('alice', 'portal.test');
      expect(await t.store.subscribers.find('alice', 'portal.test')).toBeUndefined();
      expect(await t.store.subscribers.findHa1('alice', 'portal.test', 'MD5')).toBeUndefined();
    });

    it('fails with STORE_ERR_NOT_FOUND for an unknown user', async () => {
      expect(await codeOf(t.store.subscribers.remove('nobody', 'portal.test'))).toBe('STORE_ERR_NOT_FOUND');
    });
  });

  describe('list', () => {
    it('orders by domain then username and filters by domain', async () => {
      for (const [u, d] of [
        ['zoe', 'b.test'],
        ['bob', 'a.test'],
        ['alice', 'b.test'],
      ]) {
        await t.store.subscribers.add({ username: u, domain: d, password: 'pw' });
      }
      expect((await t.store.subscribers.list()).map((s) => `${s.username}@${s.domain}`)).toEqual([
        'bob@a.test',
        'alice@b.test',
        'zoe@b.test',
      ]);
      expect((await t.store.subscribers.list({ domain: 'B.test' })).map((s) => s.username)).toEqual(['alice', 'zoe']);
    });
  });

  describe('findHa1', () => {
    it('is undefined for an unknown user or another realm', async () => {
      await t.store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'pw' });
      expect(await t.store.subscribers.findHa1('mallory', 'portal.test', 'MD5')).toBeUndefined();
      expect(await t.store.subscribers.findHa1('alice', 'other.test', 'MD5')).toBeUndefined();
    });
  });
});
