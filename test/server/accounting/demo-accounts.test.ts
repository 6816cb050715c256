import { describe, expect, it } from 'vitest';
import { seedDemoAccounts } from '../../../server/accounting/demo-accounts.js';
import { backends, useTestStore } from '../store/store-backends.js';

describe.each(backends)('seedDemoAccounts on $name', ({ kind }) => {
  const t = useTestStore(kind);

  it('opens alice prepaid 50.00 EUR, bob postpaid with 100.00 EUR, the operators and the relay revenue', async () => {
    await t.store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x', operator: 'Vino' });
    await t.store.appServers.add({ name: 'beer-shop', domain: 'portal.test', password: 'x' });
    const accounts = await seedDemoAccounts(t.store);
    expect(accounts.map((a) => [a.account, a.creditMode, a.balance, a.creditLimit, a.currency])).toEqual([
      ['user:alice@portal.test', 'prepaid', 5000, null, 'EUR'],
      ['user:bob@portal.test', 'postpaid', 0, 10_000, 'EUR'],
      ['operator:Vino', null, 0, null, 'EUR'],
      ['operator:beer-shop', null, 0, null, 'EUR'],
      ['relay:revenue', null, 0, null, 'EUR'],
    ]);
  });

  it('leaves existing accounts as they are on the next start', async () => {
    await seedDemoAccounts(t.store, { operators: [] });
    await t.store.accounts.topUp('alice@portal.test', { amount: 100, currency: 'EUR' });
    const again = await seedDemoAccounts(t.store, { operators: [] });
    expect(again[0].balance).toBe(5100);
  });
});
