import { describe, expect, it } from 'vitest';
import { billToCsv } from '../../../server/billing/bill.js';
import { backends } from '../store/store-backends.js';
import { establish, milestone, useAccounting } from './accounting-fixture.js';

describe.each(backends)('BillingReports on $name', ({ kind }) => {
  const t = useAccounting(kind);

  async function month() {
    const lesson = milestone();
    await establish(t.accounting, lesson);
    t.clock.advance(61_000);
    await t.accounting.recorder.ended(lesson, 'caller');
    const shop = milestone({ service: 'wine', appServer: 'wine-shop' });
    await establish(t.accounting, shop);
    const body = { id: 'order-7731', items: [{ sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice: 2450, quantity: 1, currency: 'EUR' }] };
    await t.accounting.charges.charge({ sessionId: shop.sessionId, appServer: 'wine-shop', body, route: 'info' });
    await t.accounting.charges.charge({
      sessionId: shop.sessionId,
      appServer: 'wine-shop',
      body: { id: 'order-7731-r1', refundOf: 'order-7731', items: [{ ...body.items[0], unitPrice: -1000 }] },
      route: 'api',
    });
    await t.accounting.recorder.ended(shop, 'callee');
    return { lesson, shop };
  }

  it('bills a user one line per session and per charge, with totals that equal the ledger', async () => {
    const { lesson } = await month();
    const bill = await t.accounting.reports.bill('alice@portal.test', '2026-01');
    expect(bill.lines.map((l) => [l.kind, l.amount.amount])).toEqual([
      ['session', 170],
      ['charge', 2450],
      ['charge', -1000],
    ]);
    expect(bill.lines[0]).toMatchObject({ sessionId: lesson.sessionId, service: 'lesson', billableSeconds: 60, tariffId: 'lesson' });
    expect(bill.totals).toEqual([{ amount: 1620, currency: 'EUR' }]);
    expect(await t.accounting.reports.billMatchesLedger('alice@portal.test', '2026-01')).toBe(true);
    expect((await t.accounting.reports.bill('alice@portal.test', '2026-02')).lines).toEqual([]);
    expect(billToCsv(bill).split('\r\n')[0]).toBe('period,user,kind,instant,session_id,charge_id,refund_of,service,description,duration_ms,billable_seconds,currency,amount,amount_minor');
  });

  it('settles each operator: gross, the relay fee, net', async () => {
    await month();
    const acme = await t.accounting.reports.settlement('acme', '2026-01');
    expect(acme.totals).toEqual([
      { currency: 'EUR', gross: { amount: 170, currency: 'EUR' }, fee: { amount: 22, currency: 'EUR' }, net: { amount: 148, currency: 'EUR' }, sessions: 1, charges: 0 },
    ]);
    const vino = await t.accounting.reports.settlement('vino', '2026-01');
    // 2.5 % of 24.50 = 0.6125 → 0.61; of -10.00 → -0.25.
    expect(vino.totals[0]).toMatchObject({ gross: { amount: 1450 }, fee: { amount: 36 }, net: { amount: 1414 }, charges: 2 });
    expect(await t.accounting.reports.operators('2026-01')).toEqual(['acme', 'vino']);
  });
});
