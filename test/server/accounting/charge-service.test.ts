import { describe, expect, it } from 'vitest';
import { ChargeService, type ChargeResult } from '../../../server/accounting/charge-service.js';
import { isBalanced } from '../../../server/billing/ledger.js';
import { backends } from '../store/store-backends.js';
import { establish, milestone, useAccounting } from './accounting-fixture.js';

const wine = (id: string, unitPrice = 2450, quantity = 1, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, ...extra, items: [{ sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice, quantity, currency: 'EUR' }] });

function refused(r: ChargeResult) {
  if (r.status !== 'refused') throw new Error(`expected a refusal, got ${r.status}`);
  return r;
}

describe.each(backends)('ChargeService on $name', ({ kind }) => {
  const t = useAccounting(kind);
  const shopSession = async () => {
    const m = milestone({ service: 'wine', appServer: 'wine-shop' });
    await establish(t.accounting, m);
    return m.sessionId;
  };
  const charge = (sessionId: string, body: string | object, over: { appServer?: string; route?: 'info' | 'bye' | 'api'; key?: string } = {}) =>
    t.accounting.charges.charge({
      sessionId,
      appServer: over.appServer ?? 'wine-shop',
      body,
      route: over.route ?? 'info',
      ...(over.key !== undefined ? { idempotencyKey: over.key } : {}),
    });

  describe('an accepted charge', () => {
    it('is stored with its route, posted in balanced entries (with the relay fee) and lowers the balance', async () => {
      const s = await shopSession();
      const r = await charge(s, wine('order-1', 2450, 2));
      expect(r.status).toBe('accepted');
      if (r.status === 'refused') return;
      expect(r.charge).toMatchObject({ sessionId: s, appServer: 'wine-shop', operator: 'vino', idempotencyKey: 'order-1', route: 'info', total: { amount: 4900, currency: 'EUR' } });
      const entries = await t.store.ledger.forReference({ type: 'charge', id: r.charge.ref });
      expect(isBalanced(entries)).toBe(true);
      expect(entries.map((e) => [e.account, e.side, e.amount])).toEqual([
        ['user:alice@portal.test', 'debit', 4900],
        ['operator:vino', 'credit', 4900],
        // 2.5 % of 49.00
        ['operator:vino', 'debit', 123],
        ['relay:revenue', 'credit', 123],
      ]);
      expect((await t.store.accounts.findUser('alice@portal.test'))?.balance).toBe(100);
    });

    it('tells listeners after it is stored', async () => {
      const s = await shopSession();
      const seen: string[] = [];
      t.accounting.charges.onAccepted((c) => seen.push(c.idempotencyKey));
      await charge(s, wine('o'));
      expect(seen).toEqual(['o']);
    });
  });

  describe('the idempotency key', () => {
    it('makes a retransmitted charge count once, returning the first result', async () => {
      const s = await shopSession();
      const first = await charge(s, wine('order-1'));
      const again = await charge(s, wine('order-1'), { route: 'api', key: 'order-1' });
      expect(again.status).toBe('duplicate');
      if (first.status === 'refused' || again.status === 'refused') return;
      expect(again.charge).toEqual(first.charge);
      expect(await t.store.charges.list({ sessionId: s })).toHaveLength(1);
      expect((await t.store.accounts.findUser('alice@portal.test'))?.balance).toBe(5000 - 2450);
    });

    it('stores concurrent duplicates once', async () => {
      const s = await shopSession();
      const results = await Promise.all(Array.from({ length: 20 }, () => charge(s, wine('order-1', 100))));
      expect(results.filter((r) => r.status === 'accepted')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'duplicate')).toHaveLength(19);
      expect(await t.store.charges.list({ sessionId: s })).toHaveLength(1);
      expect(await t.store.ledger.forAccount('user:alice@portal.test')).toHaveLength(1);
    });

    it('refuses a key reused for another charge with 409 naming id', async () => {
      const s = await shopSession();
      await charge(s, wine('order-1', 100));
      const r = refused(await charge(s, wine('order-1', 200)));
      expect(r).toMatchObject({ code: 'ACCT_ERR_IDEMPOTENCY_CONFLICT', httpStatus: 409, sipStatus: 400, field: 'id' });
    });

    it('fills a body without id from the Idempotency-Key, and refuses a body whose id differs from it', async () => {
      const s = await shopSession();
      const body = JSON.parse(wine('x')) as Record<string, unknown>;
      delete body.id;
      const r = await charge(s, JSON.stringify(body), { route: 'api', key: 'from-header' });
      expect(r.status === 'accepted' && r.charge.idempotencyKey).toBe('from-header');
      expect(refused(await charge(s, wine('body-id'), { route: 'api', key: 'header-id' }))).toMatchObject({ code: 'ACCT_ERR_IDEMPOTENCY_KEY', field: 'id', httpStatus: 400 });
    });
  });

  describe('validation', () => {
    it('refuses a bad body with the billing code and the first bad field', async () => {
      const s = await shopSession();
      expect(refused(await charge(s, wine('o', 100, 0)))).toMatchObject({
        code: 'BILLING_ERR_CHARGE_INVALID',
        httpStatus: 400,
        sipStatus: 400,
        field: 'items[0].quantity',
        reason: 'items[0].quantity: must be a positive integer',
      });
      expect(refused(await charge(s, '{not json'))).toMatchObject({ code: 'BILLING_ERR_CHARGE_INVALID', httpStatus: 400 });
      expect(refused(await charge(s, 'x'.repeat(70_000)))).toMatchObject({ code: 'BILLING_ERR_CHARGE_TOO_LARGE', httpStatus: 413, sipStatus: 413 });
      expect(await t.store.charges.list({ sessionId: s })).toEqual([]);
    });
  });

  describe('the session', () => {
    it('may be charged only by its own application server', async () => {
      const s = await shopSession();
      expect(refused(await charge(s, wine('o'), { appServer: 'beer-shop' }))).toMatchObject({ code: 'ACCT_ERR_FORBIDDEN', httpStatus: 403, sipStatus: 403 });
    });

    it('must exist and be established', async () => {
      expect(refused(await charge('no-such-session', wine('o')))).toMatchObject({ code: 'ACCT_ERR_SESSION_UNKNOWN', httpStatus: 404, sipStatus: 481 });
      const m = milestone({ service: 'wine', appServer: 'wine-shop' });
      t.accounting.recorder.attemptStarted({ ...m, requestedAt: t.clock.wallNow() });
      t.accounting.recorder.failed(m, 486);
      await t.accounting.recorder.flush();
      expect(refused(await charge(m.sessionId, wine('o')))).toMatchObject({ code: 'ACCT_ERR_SESSION_NOT_ESTABLISHED', httpStatus: 409 });
    });

    it('still takes charges for a short while after it ended, and BYE-route charges at any time', async () => {
      const m = milestone({ service: 'wine', appServer: 'wine-shop' });
      await establish(t.accounting, m);
      await t.accounting.recorder.ended(m, 'caller');
      expect((await charge(m.sessionId, wine('bye-1', 100), { route: 'bye' })).status).toBe('accepted');
      t.clock.advance(299_000);
      expect((await charge(m.sessionId, wine('late-api', 100), { route: 'api', key: 'late-api' })).status).toBe('accepted');
      t.clock.advance(2000);
      expect(refused(await charge(m.sessionId, wine('too-late', 100), { route: 'api', key: 'too-late' }))).toMatchObject({ code: 'ACCT_ERR_SESSION_CLOSED', httpStatus: 409 });
      expect((await charge(m.sessionId, wine('bye-2', 100), { route: 'bye' })).status).toBe('accepted');
      // A late retry of an accepted key still gets its first answer.
      expect((await charge(m.sessionId, wine('late-api', 100), { route: 'api', key: 'late-api' })).status).toBe('duplicate');
    });

    it('takes at most maxChargesPerSession charges', async () => {
      const s = await shopSession();
      const limited = new ChargeService({
        store: t.store,
        committer: t.accounting.committer,
        maxChargesPerSession: 2,
      });
      for (const id of ['a', 'b']) expect((await limited.charge({ sessionId: s, appServer: 'wine-shop', body: wine(id, 1), route: 'api' })).status).toBe('accepted');
      expect(refused(await limited.charge({ sessionId: s, appServer: 'wine-shop', body: wine('c', 1), route: 'api' }))).toMatchObject({ code: 'ACCT_ERR_TOO_MANY_CHARGES' });
    });
  });

  describe('refunds', () => {
    const refund = (id: string, of: string, unitPrice: number) => wine(id, unitPrice, 1, { refundOf: of });

    it('return money of an earlier charge of the same application server, reversing the fee', async () => {
      const s = await shopSession();
      await charge(s, wine('order-1', 2450, 2));
      const r = await charge(s, refund('order-1-r1', 'order-1', -2450));
      expect(r.status).toBe('accepted');
      if (r.status === 'refused') return;
      expect(r.charge.total).toEqual({ amount: -2450, currency: 'EUR' });
      expect((await t.store.ledger.forReference({ type: 'charge', id: r.charge.ref })).map((e) => [e.account, e.side, e.amount])).toEqual([
        ['operator:vino', 'debit', 2450],
        ['user:alice@portal.test', 'credit', 2450],
        ['relay:revenue', 'debit', 61],
        ['operator:vino', 'credit', 61],
      ]);
      expect((await t.store.accounts.findUser('alice@portal.test'))?.balance).toBe(5000 - 4900 + 2450);
    });

    it('may not exceed the charge, name an unknown charge, or another application server’s charge', async () => {
      const s = await shopSession();
      await charge(s, wine('order-1', 1000));
      expect(refused(await charge(s, refund('r1', 'order-1', -1001)))).toMatchObject({ code: 'BILLING_ERR_REFUND_EXCEEDS', httpStatus: 400, field: 'items' });
      expect(refused(await charge(s, refund('r2', 'nope', -1)))).toMatchObject({ code: 'BILLING_ERR_REFUND_UNKNOWN', field: 'refundOf' });
      const beer = milestone({ service: 'wine', appServer: 'beer-shop' });
      await establish(t.accounting, beer);
      expect(refused(await charge(beer.sessionId, refund('r3', 'order-1', -1), { appServer: 'beer-shop' }))).toMatchObject({ code: 'BILLING_ERR_REFUND_FORBIDDEN', httpStatus: 403 });
      expect((await charge(s, refund('r4', 'order-1', -600))).status).toBe('accepted');
      expect(refused(await charge(s, refund('r5', 'order-1', -401)))).toMatchObject({ code: 'BILLING_ERR_REFUND_EXCEEDS' });
    });
  });

  describe('credit', () => {
    it('refuses with 402 a charge beyond the balance, counting the running cost of live sessions', async () => {
      const lesson = milestone();
      await establish(t.accounting, lesson);
      t.clock.advance(61_000); // the lesson has cost 1.70 so far
      const s = await shopSession();
      expect(refused(await charge(s, wine('big', 4831)))).toMatchObject({ code: 'BILLING_ERR_INSUFFICIENT_CREDIT', httpStatus: 402, sipStatus: 402 });
      expect((await charge(s, wine('fits', 4830))).status).toBe('accepted');
      expect(await t.store.charges.list({ sessionId: s })).toHaveLength(1);
    });

    it('refuses a user without an account, and a charge in another currency than the account', async () => {
      const m = milestone({ service: 'wine', appServer: 'wine-shop', user: 'bob' });
      await establish(t.accounting, m);
      const r = refused(await charge(m.sessionId, wine('o', 1)));
      expect(r).toMatchObject({ code: 'BILLING_ERR_INSUFFICIENT_CREDIT', httpStatus: 402 });
      expect(r.reason).toMatch(/no account/);
      const s = await shopSession();
      const usd = JSON.stringify({ id: 'u', items: [{ sku: 'A', description: 'A', unitPrice: 1, quantity: 1, currency: 'USD' }] });
      expect(refused(await charge(s, usd))).toMatchObject({ code: 'BILLING_ERR_CURRENCY_MISMATCH', field: 'items[0].currency' });
    });

    it('lets a postpaid user spend up to the credit limit', async () => {
      await t.store.accounts.setUser('bob@portal.test', { mode: 'postpaid', currency: 'EUR', creditLimit: 1000 });
      const m = milestone({ service: 'wine', appServer: 'wine-shop', user: 'bob' });
      await establish(t.accounting, m);
      expect((await charge(m.sessionId, wine('a', 600))).status).toBe('accepted');
      expect(refused(await charge(m.sessionId, wine('b', 401))).code).toBe('BILLING_ERR_INSUFFICIENT_CREDIT');
      expect((await charge(m.sessionId, wine('c', 400))).status).toBe('accepted');
      expect((await t.store.accounts.findUser('bob@portal.test'))?.balance).toBe(-1000);
    });
  });
});
