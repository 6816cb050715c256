import { describe, expect, it } from 'vitest';
import { billingUserId } from '../../../server/store/account-repository.js';
import { backends, useTestStore } from './store-backends.js';
import { storeErrorCode as codeOf } from './store-error-code.js';

describe('billingUserId', () => {
  it('keeps the case of the username and lower-cases the domain', () => {
    expect(billingUserId('Alice', 'Portal.Test')).toBe('Alice@portal.test');
  });
});

describe.each(backends)('AccountRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);

  describe('setUser', () => {
    it('opens a prepaid account with a balance and records the opening', async () => {
      const a = await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 5000 }, 'welcome');
      expect(a).toMatchObject({ account: 'user:alice@portal.test', kind: 'user', owner: 'alice@portal.test', creditMode: 'prepaid', currency: 'EUR', balance: 5000, creditLimit: null });
      expect(await t.store.accounts.adjustments(a.account)).toMatchObject([{ kind: 'open', amount: 5000, balanceAfter: 5000, note: 'welcome' }]);
    });

    it('opens a postpaid account with a credit limit and no balance', async () => {
      const a = await t.store.accounts.setUser('bob@portal.test', { mode: 'postpaid', currency: 'EUR', creditLimit: 10_000 });
      expect(a).toMatchObject({ creditMode: 'postpaid', balance: 0, creditLimit: 10_000 });
    });

    it('changes the terms of an existing account, keeping the balance in the same currency', async () => {
      await t.store.accounts.setUser('bob@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 300 });
      const a = await t.store.accounts.setUser('bob@portal.test', { mode: 'postpaid', currency: 'EUR', creditLimit: 500 });
      expect(a).toMatchObject({ creditMode: 'postpaid', balance: 300, creditLimit: 500 });
      const kinds = (await t.store.accounts.adjustments(a.account)).map((j) => j.kind);
      expect(kinds).toEqual(['open', 'set-mode', 'set-credit-limit']);
    });

    it('refuses an unknown currency, a fractional amount, a negative limit and a user without domain', async () => {
      expect(await codeOf(t.store.accounts.setUser('a@b.c', { mode: 'prepaid', currency: 'eur' }))).toBe('STORE_ERR_INVALID');
      expect(await codeOf(t.store.accounts.setUser('a@b.c', { mode: 'prepaid', currency: 'EUR', balance: 1.5 }))).toBe('STORE_ERR_INVALID');
      expect(await codeOf(t.store.accounts.setUser('a@b.c', { mode: 'postpaid', currency: 'EUR', creditLimit: -1 }))).toBe('STORE_ERR_INVALID');
      expect(await codeOf(t.store.accounts.setUser('alice', { mode: 'prepaid', currency: 'EUR' }))).toBe('STORE_ERR_INVALID');
    });
  });

  describe('topUp', () => {
    it('adds to the balance and records the top-up', async () => {
      await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 100 });
      const a = await t.store.accounts.topUp('alice@portal.test', { amount: 2000, currency: 'EUR' }, 'card');
      expect(a.balance).toBe(2100);
      expect((await t.store.accounts.adjustments(a.account)).at(-1)).toMatchObject({ kind: 'topup', amount: 2000, balanceAfter: 2100, note: 'card' });
    });

    it('refuses an account that does not exist, another currency and a non-positive amount', async () => {
      expect(await codeOf(t.store.accounts.topUp('x@portal.test', { amount: 1, currency: 'EUR' }))).toBe('STORE_ERR_NOT_FOUND');
      await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR' });
      expect(await codeOf(t.store.accounts.topUp('alice@portal.test', { amount: 1, currency: 'USD' }))).toBe('STORE_ERR_INVALID');
      expect(await codeOf(t.store.accounts.topUp('alice@portal.test', { amount: 0, currency: 'EUR' }))).toBe('STORE_ERR_INVALID');
    });
  });

  describe('applyPostings', () => {
    it('lowers a user balance by debits and raises it by credits in the account currency only', async () => {
      await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 1000 });
      const ref = { type: 'charge' as const, id: '1' };
      await t.store.accounts.applyPostings([
        { account: 'user:alice@portal.test', side: 'debit', amount: 300, currency: 'EUR', kind: 'gross', reference: ref, at: 0 },
        { account: 'operator:acme', side: 'credit', amount: 300, currency: 'EUR', kind: 'gross', reference: ref, at: 0 },
        { account: 'user:alice@portal.test', side: 'credit', amount: 50, currency: 'EUR', kind: 'gross', reference: ref, at: 0 },
        { account: 'user:alice@portal.test', side: 'debit', amount: 999, currency: 'USD', kind: 'gross', reference: ref, at: 0 },
      ]);
      expect((await t.store.accounts.findUser('alice@portal.test'))?.balance).toBe(750);
    });
  });

  describe('ensure', () => {
    it('opens operator and relay accounts once', async () => {
      const a = await t.store.accounts.ensure('operator', 'acme', 'EUR');
      const b = await t.store.accounts.ensure('operator', 'acme', 'USD');
      expect(b).toEqual(a);
      expect((await t.store.accounts.ensure('relay', 'revenue', 'EUR')).account).toBe('relay:revenue');
      expect((await t.store.accounts.list()).map((x) => x.account)).toEqual(['operator:acme', 'relay:revenue']);
      expect((await t.store.accounts.list({ kind: 'relay' })).length).toBe(1);
    });
  });
});
