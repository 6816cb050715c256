import { describe, expect, it } from 'vitest';
import type { LedgerEntry } from '../../../server/billing/ledger.js';
import { backends, useTestStore } from './store-backends.js';

const T0 = Date.UTC(2026, 10, 5);

function entries(ref: string, amount: number, at: number, currency: 'EUR' | 'USD' = 'EUR'): LedgerEntry[] {
  const reference = { type: 'charge' as const, id: ref };
  return [
    { account: 'user:alice@portal.test', side: 'debit', amount, currency, kind: 'gross', reference, at },
    { account: 'operator:acme', side: 'credit', amount, currency, kind: 'gross', reference, at },
    { account: 'operator:acme', side: 'debit', amount: 10, currency, kind: 'fee', reference, at },
    { account: 'relay:revenue', side: 'credit', amount: 10, currency, kind: 'fee', reference, at },
  ];
}

describe.each(backends)('LedgerRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);

  it('stores entries as the billing core made them and reads them back by account, period and reference', async () => {
    const a = entries('1', 100, T0);
    const b = entries('2', 200, Date.UTC(2026, 11, 2));
    await t.store.ledger.insert([...a, ...b]);
    await t.store.ledger.insert([]);
    const november = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) };
    expect(await t.store.ledger.forAccount('operator:acme', november)).toEqual(a.filter((e) => e.account === 'operator:acme'));
    expect(await t.store.ledger.forReference({ type: 'charge', id: '2' })).toEqual(b);
    expect((await t.store.ledger.inPeriod(november)).length).toBe(4);
    expect(await t.store.ledger.operatorsInPeriod(november)).toEqual(['acme']);
  });

  it('sums an account per currency exactly', async () => {
    await t.store.ledger.insert([...entries('1', 100, T0), ...entries('2', 2 ** 40, T0), ...entries('3', 7, T0, 'USD')]);
    expect(await t.store.ledger.balance('user:alice@portal.test')).toEqual([
      { amount: 100 + 2 ** 40, currency: 'EUR' },
      { amount: 7, currency: 'USD' },
    ]);
    expect(await t.store.ledger.balance('relay:revenue')).toEqual([
      { amount: -20, currency: 'EUR' },
      { amount: -10, currency: 'USD' },
    ]);
  });

  it('refuses an entry that is not positive', async () => {
    const [bad] = entries('1', 100, T0);
    await expect(t.store.ledger.insert([{ ...bad, amount: 0 }])).rejects.toThrow();
  });
});
