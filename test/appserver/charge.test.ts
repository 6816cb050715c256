import { describe, expect, it } from 'vitest';
import { chargeTotal, normalizeCharge, parseChargeReceiptHeader } from '../../appserver/charge.js';

describe('normalizeCharge', () => {
  const id = () => 'k1';

  it('fills in quantity 1, the default currency and a new id', () => {
    expect(normalizeCharge([{ sku: 'IPA', description: 'IPA 33 cl', unitPrice: 450 }], 'EUR', id)).toEqual({
      id: 'k1',
      items: [{ sku: 'IPA', description: 'IPA 33 cl', unitPrice: 450, quantity: 1, currency: 'EUR' }],
    });
  });

  it('keeps an id, a refundOf and explicit fields', () => {
    const c = normalizeCharge({ id: 'r1', refundOf: 'o1', items: [{ sku: 'A', description: 'a', unitPrice: -100, quantity: 2, currency: 'USD' }] }, 'EUR', id);
    expect(c).toEqual({ id: 'r1', refundOf: 'o1', items: [{ sku: 'A', description: 'a', unitPrice: -100, quantity: 2, currency: 'USD' }] });
  });

  it('names the field at fault', () => {
    expect(() => normalizeCharge([{ sku: '', description: 'a', unitPrice: 1 }], 'EUR', id)).toThrow(/items\[0\]\.sku/);
    expect(() => normalizeCharge([{ sku: 'a', description: 'a', unitPrice: 1.5 }], 'EUR', id)).toThrow(/items\[0\]\.unitPrice/);
    expect(() => normalizeCharge([{ sku: 'a', description: 'a', unitPrice: 1, quantity: -1 }], 'EUR', id)).toThrow(/quantity/);
    expect(() => normalizeCharge([{ sku: 'a', description: 'a', unitPrice: 1 }], undefined, id)).toThrow(/currency.*defaultCurrency/);
    expect(() => normalizeCharge({ id: 'has space', items: [{ sku: 'a', description: 'a', unitPrice: 1 }] }, 'EUR', id)).toThrow(/charge\.id/);
    expect(() => normalizeCharge({ items: [] }, 'EUR', id)).toThrow(/items/);
  });

  it('totals in minor units', () => {
    const c = normalizeCharge([{ sku: 'a', description: 'a', unitPrice: 2450, quantity: 2 }, { sku: 'b', description: 'b', unitPrice: 5 }], 'EUR', id);
    expect(chargeTotal(c)).toEqual({ amount: 4905, currency: 'EUR' });
  });
});

describe('parseChargeReceiptHeader', () => {
  it('reads stored;id=…, quoted or not, and nothing else', () => {
    expect(parseChargeReceiptHeader('stored;id=order-7731')).toEqual({ id: 'order-7731' });
    expect(parseChargeReceiptHeader('Stored ; id="a;b"')).toEqual({ id: 'a;b' });
    expect(parseChargeReceiptHeader('stored;id="x\\"y"')).toEqual({ id: 'x"y' });
    expect(parseChargeReceiptHeader('refused;id=1')).toBeUndefined();
    expect(parseChargeReceiptHeader('stored')).toBeUndefined();
    expect(parseChargeReceiptHeader(undefined)).toBeUndefined();
  });
});
