import { describe, expect, it } from 'vitest';
import { chargeFromBody } from '../../../../web-client/src/model/received-charge.js';

describe('a charge received by INFO', () => {
  it('keeps id, items and totals per currency', () => {
    const c = chargeFromBody(
      JSON.stringify({ id: 'order-7731', items: [{ sku: 'W-BDX-15', description: 'Bordeaux', unitPrice: 2450, quantity: 2, currency: 'EUR' }] }),
      'info',
      1000,
    );
    expect(c).toMatchObject({ id: 'order-7731', route: 'info', receivedAt: 1000, totals: [{ amount: 4900, currency: 'EUR' }] });
  });
  it('shows a refund as a negative total naming the charge it refunds', () => {
    const c = chargeFromBody(JSON.stringify({ id: 'r1', refundOf: 'order-7731', items: [{ sku: 'x', description: 'x', unitPrice: -2450, quantity: 1, currency: 'EUR' }] }), 'info', 0);
    expect(c?.refundOf).toBe('order-7731');
    expect(c?.totals).toEqual([{ amount: -2450, currency: 'EUR' }]);
  });
  it('is undefined for what it cannot show', () => {
    expect(chargeFromBody('nope', 'info', 0)).toBeUndefined();
    expect(chargeFromBody('{"id":"x","items":[]}', 'info', 0)).toBeUndefined();
    expect(chargeFromBody('{"id":"x","items":[{"unitPrice":1.5,"quantity":1,"currency":"EUR"}]}', 'info', 0)).toBeUndefined();
  });
});
