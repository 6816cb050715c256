import { describe, expect, it } from 'vitest';
import type { NewCharge } from '../../../server/store/charge-repository.js';
import { backends, useTestStore } from './store-backends.js';

const T0 = Date.UTC(2026, 10, 5, 10, 0, 0);

function newCharge(key: string, over: Partial<NewCharge> = {}): NewCharge {
  return {
    sessionId: 's1',
    appServer: 'wine-shop',
    operator: 'acme',
    userId: 'alice@portal.test',
    service: 'wine',
    idempotencyKey: key,
    refundOf: null,
    route: 'info',
    charge: { id: key, items: [{ sku: 'BDX', description: 'Bordeaux', unitPrice: 2450, quantity: 2, currency: 'EUR' }] },
    total: { amount: 4900, currency: 'EUR' },
    acceptedAt: T0,
    ...over,
  };
}

describe.each(backends)('ChargeRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);
  const session = () =>
    t.store.sessions.insertAttempt(
      { id: 's1', forkGroup: 'g', linkedFrom: null, userId: 'alice@portal.test', plan: null, service: 'wine', appServer: 'wine-shop', callId: 'c', callerTag: 'a', calleeTag: 'b', nodeId: 'n', requestedAt: T0, relayFee: { basisPoints: 0 } },
      T0,
    );

  it('stores a charge once per application server and key', async () => {
    await session();
    const first = await t.store.charges.insert(newCharge('o-1'));
    expect(first).toMatchObject({ idempotencyKey: 'o-1', total: { amount: 4900, currency: 'EUR' }, route: 'info' });
    expect(first?.ref).toMatch(/^\d+$/);
    expect(await t.store.charges.insert(newCharge('o-1', { route: 'api' }))).toBeUndefined();
    expect(await t.store.charges.findByKey('wine-shop', 'o-1')).toEqual(first);
    expect(await t.store.charges.get(first!.ref)).toEqual(first);
    // Another application server may use the same key.
    expect(await t.store.charges.insert(newCharge('o-1', { appServer: 'beer-shop' }))).toBeDefined();
    expect(await t.store.charges.countForSession('s1')).toBe(2);
  });

  it('refuses a charge of a session that does not exist (foreign key)', async () => {
    await expect(t.store.charges.insert(newCharge('o-1'))).rejects.toThrow();
    expect(await t.store.charges.findByKey('wine-shop', 'o-1')).toBeUndefined();
  });

  it('gives a charge and its refunds as refund context, and bills the period', async () => {
    await session();
    await t.store.charges.insert(newCharge('o-1'));
    await t.store.charges.insert(
      newCharge('o-1-r', {
        refundOf: 'o-1',
        charge: { id: 'o-1-r', refundOf: 'o-1', items: [{ sku: 'BDX', description: 'Bordeaux', unitPrice: -2450, quantity: 1, currency: 'EUR' }] },
        total: { amount: -2450, currency: 'EUR' },
        acceptedAt: T0 + 1,
      }),
    );
    await t.store.charges.insert(newCharge('o-2', { acceptedAt: Date.UTC(2026, 11, 1) }));
    const context = await t.store.charges.refundContext('o-1');
    expect(context.map((c) => c.charge.id)).toEqual(['o-1', 'o-1-r']);
    expect(context[0].applicationServer).toBe('wine-shop');
    const billable = await t.store.charges.billable('alice@portal.test', { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) });
    expect(billable.map((b) => b.charge.id)).toEqual(['o-1', 'o-1-r']);
    expect((await t.store.charges.list({ sessionId: 's1' })).length).toBe(3);
  });
});
