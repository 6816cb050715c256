import { describe, expect, it } from 'vitest';
import { Accounting } from '../../../server/accounting/accounting.js';
import type { LiveSession } from '../../../server/accounting/session-recorder.js';
import { backends } from '../store/store-backends.js';
import { establish, milestone, TEST_SERVICES, useAccounting } from './accounting-fixture.js';

const alice = { username: 'alice', domain: 'portal.test' };
const bob = { username: 'bob', domain: 'portal.test' };

describe.each(backends)('CreditControl on $name', ({ kind }) => {
  const t = useAccounting(kind);

  describe('checkInvite', () => {
    it('lets a user start a session whose least cost the account covers', async () => {
      expect(await t.accounting.credit.checkInvite(alice, 'lesson')).toEqual({ ok: true });
    });

    it('answers 402 when the balance does not cover the setup fee and minimum', async () => {
      await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 49 });
      expect(await t.accounting.credit.checkInvite(alice, 'lesson')).toMatchObject({ ok: false, sipStatus: 402, code: 'BILLING_ERR_INSUFFICIENT_CREDIT' });
    });

    it('counts the running cost of the user’s other live sessions', async () => {
      await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 169 });
      const m = milestone({ service: 'stout', appServer: 'beer-shop' });
      await establish(t.accounting, m);
      expect((await t.accounting.credit.checkInvite(alice, 'lesson')).ok).toBe(true);
      t.clock.advance(1000); // the stout has started its first minute: 1.20 spent, 0.49 left, the lesson's setup fee is 0.50
      expect((await t.accounting.credit.checkInvite(alice, 'lesson')).ok).toBe(false);
    });

    it('always lets a session of a free service through, even without an account', async () => {
      expect(await t.accounting.credit.checkInvite(bob, 'wine')).toEqual({ ok: true });
      expect(await t.accounting.credit.checkInvite(bob, 'lesson')).toMatchObject({ ok: false, sipStatus: 402, reason: 'insufficient credit: no account' });
    });

    it('refuses a tariff in another currency than the account', async () => {
      expect(await t.accounting.credit.checkInvite(alice, 'usd-show')).toMatchObject({ ok: false, code: 'BILLING_ERR_CURRENCY_MISMATCH' });
    });
  });

  describe('checkChange', () => {
    it('answers 488 for a change to a service priced in another currency', async () => {
      const m = milestone({ service: 'beer', appServer: 'beer-shop' });
      await establish(t.accounting, m);
      expect(t.accounting.credit.checkChange(m.sessionId, 'stout')).toEqual({ ok: true });
      expect(t.accounting.credit.checkChange(m.sessionId, 'usd-show')).toMatchObject({ ok: false, sipStatus: 488 });
    });
  });

  describe('timeUntilExhausted', () => {
    it('is the time until the increment the credit cannot pay starts', async () => {
      // 5.00 EUR at 1.20 EUR/min in whole minutes (stout): four minutes are paid, the fifth is not.
      await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 500 });
      const m = milestone({ service: 'stout', appServer: 'beer-shop' });
      await establish(t.accounting, m);
      t.clock.advance(90_000);
      expect(await t.accounting.credit.timeUntilExhausted(m.sessionId)).toBe(150_000);
    });

    it('is Infinity for a free session and for one that is not live', async () => {
      const m = milestone({ service: 'wine', appServer: 'wine-shop' });
      await establish(t.accounting, m);
      expect(await t.accounting.credit.timeUntilExhausted(m.sessionId)).toBe(Infinity);
      expect(await t.accounting.credit.timeUntilExhausted('nope')).toBe(Infinity);
    });
  });
});

describe.each(backends)('CreditWatch on $name', ({ kind }) => {
  const t = useAccounting(kind);

  it('calls onExhausted a margin (250 ms) before the credit of a live session runs out, and not before', async () => {
    await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 500 });
    const exhausted: LiveSession[] = [];
    const accounting = new Accounting(t.store, { nodeId: 'node-w', services: TEST_SERVICES, clock: t.clock, onCreditExhausted: (s) => exhausted.push(s) });
    const m = milestone({ service: 'stout', appServer: 'beer-shop' });
    await establish(accounting, m);
    await accounting.watch!.recheck(m.sessionId);
    expect(accounting.watch!.armed).toBe(1);
    // 5.00 EUR at 1.20 EUR per started minute: the fifth minute (from 240 s) cannot be paid.
    t.clock.advance(239_749);
    await accounting.committer.flush();
    await new Promise((r) => setTimeout(r, 50));
    expect(exhausted).toEqual([]);
    t.clock.advance(1);
    // The timer's recheck reads the account from the store.
    await new Promise((r) => setTimeout(r, 50));
    expect(exhausted.map((s) => s.id)).toEqual([m.sessionId]);
    await accounting.recorder.end(m.sessionId, 'credit-exhausted');
    // Ended inside the fourth minute: 4.80 EUR, never the unpaid fifth.
    expect(await t.store.sessions.get(m.sessionId)).toMatchObject({ endedBy: 'credit-exhausted', amount: { amount: 480, currency: 'EUR' } });
    expect(accounting.watch!.armed).toBe(0);
    await accounting.close();
  });

  it('moves the cut-off earlier when a charge is accepted', async () => {
    await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 500 });
    const exhausted: string[] = [];
    const accounting = new Accounting(t.store, { nodeId: 'node-w', services: TEST_SERVICES, clock: t.clock, onCreditExhausted: (s) => exhausted.push(s.id) });
    const m = milestone({ service: 'stout', appServer: 'beer-shop' });
    await establish(accounting, m);
    const r = await accounting.charges.charge({
      sessionId: m.sessionId,
      appServer: 'beer-shop',
      body: { id: 'pint', items: [{ sku: 'P', description: 'Pint', unitPrice: 260, quantity: 1, currency: 'EUR' }] },
      route: 'info',
    });
    expect(r.status).toBe('accepted');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // 2.40 left: two minutes.
    t.clock.advance(120_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(exhausted).toEqual([m.sessionId]);
    await accounting.close();
  });
});
