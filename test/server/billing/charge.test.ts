import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHARGE_MEDIA_TYPE,
  chargeSchema,
  chargeTotal,
  chargeTotals,
  checkRefund,
  createChargeValidator,
  parseChargeBody,
  validateCharge,
  type Charge,
  type ChargeRecord,
} from '../../../server/billing/charge.js';

const wine = { sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice: 2450, quantity: 2, currency: 'EUR' as const };
const order: Charge = { id: 'order-7731', items: [wine] };

function refused(input: unknown, limits?: Parameters<typeof validateCharge>[1]) {
  const r = validateCharge(input, limits);
  if (r.ok) throw new Error('the charge was accepted');
  return r.error;
}

describe('application charges', () => {
  it('have the media type application/vnd.siprelay.charge+json', () => {
    expect(CHARGE_MEDIA_TYPE).toBe('application/vnd.siprelay.charge+json');
  });

  describe('a valid charge', () => {
    it('is accepted with its total', () => {
      const r = validateCharge(order);
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.charge).toEqual(order);
        expect(r.total).toEqual({ amount: 4900, currency: 'EUR' });
      }
    });

    it('may hold free items (unit price 0)', () => {
      expect(validateCharge({ id: 'o', items: [{ ...wine, unitPrice: 0 }] }).ok).toBe(true);
    });

    it('is parsed from JSON text or UTF-8 bytes', () => {
      const text = JSON.stringify({ id: 'o', items: [{ ...wine, description: 'Château Margaux' }] });
      expect(parseChargeBody(text).ok).toBe(true);
      expect(parseChargeBody(new TextEncoder().encode(text)).ok).toBe(true);
    });
  });

  describe('a refused charge names the first bad field', () => {
    it.each([
      [{ items: [wine] }, 'id', 'BILLING_ERR_CHARGE_INVALID', 'id: is required'],
      [{ id: '', items: [wine] }, 'id', 'BILLING_ERR_CHARGE_INVALID', 'id: must not be empty'],
      [{ id: 'has space', items: [wine] }, 'id', 'BILLING_ERR_CHARGE_INVALID', 'visible ASCII'],
      [{ id: 'o' }, 'items', 'BILLING_ERR_CHARGE_INVALID', 'items: is required'],
      [{ id: 'o', items: [] }, 'items', 'BILLING_ERR_CHARGE_INVALID', 'at least one item'],
      [{ id: 'o', items: {} }, 'items', 'BILLING_ERR_CHARGE_INVALID', 'must be an array'],
      [{ id: 'o', items: [wine, { ...wine, quantity: 0 }] }, 'items[1].quantity', 'BILLING_ERR_CHARGE_INVALID', 'positive integer'],
      [{ id: 'o', items: [{ ...wine, quantity: -1 }] }, 'items[0].quantity', 'BILLING_ERR_CHARGE_INVALID', 'positive integer'],
      [{ id: 'o', items: [{ ...wine, quantity: 1.5 }] }, 'items[0].quantity', 'BILLING_ERR_CHARGE_INVALID', 'positive integer'],
      [{ id: 'o', items: [{ ...wine, unitPrice: 24.5 }] }, 'items[0].unitPrice', 'BILLING_ERR_CHARGE_INVALID', 'integer count of minor units'],
      [{ id: 'o', items: [{ ...wine, unitPrice: '2450' }] }, 'items[0].unitPrice', 'BILLING_ERR_CHARGE_INVALID', 'integer'],
      [{ id: 'o', items: [{ ...wine, unitPrice: 2 ** 53 }] }, 'items[0].unitPrice', 'BILLING_ERR_CHARGE_INVALID', 'integer'],
      [{ id: 'o', items: [{ ...wine, unitPrice: -1 }] }, 'items[0].unitPrice', 'BILLING_ERR_CHARGE_INVALID', 'refundOf'],
      [{ id: 'o', items: [{ ...wine, currency: 'EURO' }] }, 'items[0].currency', 'BILLING_ERR_CURRENCY', 'ISO 4217'],
      [{ id: 'o', items: [{ ...wine, currency: undefined }] }, 'items[0].currency', 'BILLING_ERR_CHARGE_INVALID', 'is required'],
      [{ id: 'o', items: [wine, { ...wine, currency: 'USD' }] }, 'items[1].currency', 'BILLING_ERR_CURRENCY_MISMATCH', 'one currency'],
      [{ id: 'o', items: [{ ...wine, sku: '' }] }, 'items[0].sku', 'BILLING_ERR_CHARGE_INVALID', 'must not be empty'],
      [{ id: 'o', items: [{ ...wine, description: 'two\r\nlines' }] }, 'items[0].description', 'BILLING_ERR_CHARGE_INVALID', 'control characters'],
      [{ id: 'o', items: [{ ...wine, unit_price: 1 }] }, 'items[0].unit_price', 'BILLING_ERR_CHARGE_INVALID', 'not a known field'],
      [{ id: 'o', items: [wine], extra: true }, 'extra', 'BILLING_ERR_CHARGE_INVALID', 'not a known field'],
      [{ id: 'o', items: ['wine'] }, 'items[0]', 'BILLING_ERR_CHARGE_INVALID', 'must be an object'],
      [[order], '', 'BILLING_ERR_CHARGE_INVALID', 'must be a JSON object'],
    ])('%j → %s (%s)', (input, field, code, words) => {
      const e = refused(input);
      expect(e.field).toBe(field);
      expect(e.code).toBe(code);
      expect(e.message).toContain(words);
      if (field) expect(e.message.startsWith(field + ': ')).toBe(true);
    });

    it('answers with status 400', () => {
      expect(refused({ id: 'o', items: [] }).status).toBe(400);
    });

    it('writes an unknown key from the sender so that it is safe in a SIP reason phrase', () => {
      const e = refused({ id: 'o', items: [wine], 'x\r\nVia: evil': 1 });
      expect(e.field).toBe('["x\\r\\nVia: evil"]');
      expect(e.message).not.toMatch(/[\r\n]/);
    });

    it('refuses a body that is not JSON', () => {
      const r = parseChargeBody('{"id": ');
      expect(!r.ok && r.error.code).toBe('BILLING_ERR_CHARGE_INVALID');
      expect(!r.ok && r.error.message).toBe('body is not valid JSON');
    });

    it('refuses bytes that are not UTF-8', () => {
      const r = parseChargeBody(new Uint8Array([0x7b, 0xff, 0x7d]));
      expect(!r.ok && r.error.message).toBe('body is not UTF-8');
    });
  });

  describe('limits (each an option with a default)', () => {
    it('at most 50 items by default', () => {
      const items = Array.from({ length: 51 }, () => ({ ...wine, quantity: 1 }));
      const e = refused({ id: 'o', items });
      expect(e.code).toBe('BILLING_ERR_CHARGE_LIMIT');
      expect(e.field).toBe('items');
      expect(validateCharge({ id: 'o', items: items.slice(1) }).ok).toBe(true);
    });

    it('descriptions of at most 200 characters, SKUs of 64, ids of 128, quantities of 10 000', () => {
      expect(refused({ id: 'o', items: [{ ...wine, description: 'd'.repeat(201) }] }).code).toBe('BILLING_ERR_CHARGE_LIMIT');
      expect(refused({ id: 'o', items: [{ ...wine, sku: 's'.repeat(65) }] }).code).toBe('BILLING_ERR_CHARGE_LIMIT');
      expect(refused({ id: 'i'.repeat(129), items: [wine] }).code).toBe('BILLING_ERR_CHARGE_LIMIT');
      expect(refused({ id: 'o', items: [{ ...wine, unitPrice: 1, quantity: 10_001 }] }).code).toBe('BILLING_ERR_CHARGE_LIMIT');
      expect(validateCharge({ id: 'i'.repeat(128), items: [{ ...wine, sku: 's'.repeat(64), description: 'd'.repeat(200), unitPrice: 1, quantity: 10_000 }] }).ok).toBe(true);
    });

    it('a total of at most 1 000 000.00 by default, and per currency when configured', () => {
      const e = refused({ id: 'o', items: [{ ...wine, unitPrice: 50_000_001, quantity: 2 }] });
      expect(e.code).toBe('BILLING_ERR_CHARGE_LIMIT');
      expect(e.field).toBe('items');
      const yen = { id: 'o', items: [{ ...wine, currency: 'JPY', unitPrice: 150_000_000, quantity: 1 }] };
      expect(validateCharge(yen).ok).toBe(false);
      expect(validateCharge(yen, { maxTotalByCurrency: { JPY: 200_000_000 } }).ok).toBe(true);
    });

    it('a total beyond the safe integer range is a limit, not a wrong number', () => {
      const e = refused({ id: 'o', items: [{ ...wine, unitPrice: 2 ** 52, quantity: 4 }] }, { maxQuantity: 10 });
      expect(e.code).toBe('BILLING_ERR_CHARGE_LIMIT');
    });

    it('bodies of at most 64 KiB by default; more is 413', () => {
      const big = JSON.stringify({ id: 'o', items: [{ ...wine, description: 'x'.repeat(70_000) }] });
      const r = parseChargeBody(big);
      expect(!r.ok && r.error.code).toBe('BILLING_ERR_CHARGE_TOO_LARGE');
      expect(!r.ok && r.error.status).toBe(413);
      const bytes = parseChargeBody(new TextEncoder().encode(big));
      expect(!bytes.ok && bytes.error.code).toBe('BILLING_ERR_CHARGE_TOO_LARGE');
    });

    it('counts the body in UTF-8 bytes, not characters', () => {
      const v = createChargeValidator({ maxBodyBytes: 200 });
      const body = JSON.stringify({ id: 'o', items: [{ ...wine, description: 'é'.repeat(60) }] });
      expect(body.length).toBeLessThan(200);
      expect(v.parse(body).ok).toBe(false);
    });

    it('are checked when the validator is built: bad limits throw TypeError', () => {
      expect(() => createChargeValidator({ maxItems: 0 })).toThrow(TypeError);
      expect(() => createChargeValidator({ maxQuantity: 1.5 })).toThrow(TypeError);
      expect(() => createChargeValidator({ maxTotalByCurrency: { EURO: 1 } as never })).toThrow(TypeError);
      expect(() => createChargeValidator({ maxItem: 3 } as never)).toThrow(TypeError);
    });

    it('an option given as undefined keeps its default', () => {
      expect(createChargeValidator({ maxItems: undefined }).limits.maxItems).toBe(50);
    });

    it('chargeSchema is usable on its own', () => {
      expect(chargeSchema({ maxItems: 1 }).safeParse({ id: 'o', items: [wine, wine] }).success).toBe(false);
    });
  });

  describe('refunds', () => {
    const refund: Charge = { id: 'order-7731-r1', refundOf: 'order-7731', items: [{ ...wine, unitPrice: -2450, quantity: 1 }] };
    const stored: ChargeRecord[] = [{ charge: order, applicationServer: 'wine-shop' }];

    it('are charges with refundOf and negative unit prices', () => {
      const r = validateCharge(refund);
      expect(r.ok && r.total).toEqual({ amount: -2450, currency: 'EUR' });
    });

    it('must have negative unit prices', () => {
      const e = refused({ ...refund, items: [wine] });
      expect(e.field).toBe('items[0].unitPrice');
      expect(e.message).toContain('negative in a refund');
    });

    it('cannot refund themselves', () => {
      expect(refused({ ...refund, refundOf: refund.id }).field).toBe('refundOf');
    });

    it('are accepted against an earlier charge of the same application server', () => {
      const r = checkRefund(refund, stored, 'wine-shop');
      expect(r.ok).toBe(true);
      if (r.ok) {
        expect(r.original.charge.id).toBe('order-7731');
        expect(r.remaining).toEqual({ amount: 2450, currency: 'EUR' });
      }
    });

    it('may refund the whole charge, in parts', () => {
      const first: ChargeRecord = { charge: refund, applicationServer: 'wine-shop' };
      const second = { ...refund, id: 'order-7731-r2' };
      const r = checkRefund(second, [...stored, first], 'wine-shop');
      expect(r.ok && r.remaining.amount).toBe(0);
    });

    it('cannot exceed what was charged, counting earlier refunds', () => {
      const first: ChargeRecord = { charge: refund, applicationServer: 'wine-shop' };
      const third = { ...refund, id: 'order-7731-r3', items: [{ ...wine, unitPrice: -1, quantity: 2451 }] };
      const r = checkRefund(third, [...stored, first], 'wine-shop');
      expect(!r.ok && r.error.code).toBe('BILLING_ERR_REFUND_EXCEEDS');
      expect(!r.ok && r.error.field).toBe('items');
    });

    it('a retransmitted refund is not counted against itself', () => {
      const itself: ChargeRecord = { charge: { ...refund, items: [{ ...wine, unitPrice: -4900, quantity: 1 }] }, applicationServer: 'wine-shop' };
      expect(checkRefund(itself.charge, [...stored, itself], 'wine-shop').ok).toBe(true);
    });

    it('of another application server’s charge are forbidden (403)', () => {
      const r = checkRefund(refund, stored, 'beer-shop');
      expect(!r.ok && r.error.code).toBe('BILLING_ERR_REFUND_FORBIDDEN');
      expect(!r.ok && r.error.status).toBe(403);
    });

    it('of an unknown charge are refused', () => {
      const r = checkRefund({ ...refund, refundOf: 'nope' }, stored, 'wine-shop');
      expect(!r.ok && r.error.code).toBe('BILLING_ERR_REFUND_UNKNOWN');
    });

    it('of a refund are refused', () => {
      const earlierRefund: ChargeRecord = { charge: refund, applicationServer: 'wine-shop' };
      const r = checkRefund({ ...refund, id: 'r-of-r', refundOf: refund.id }, [...stored, earlierRefund], 'wine-shop');
      expect(!r.ok && r.error.code).toBe('BILLING_ERR_REFUND_UNKNOWN');
    });

    it('must be in the currency of the charge', () => {
      const r = checkRefund({ ...refund, items: [{ ...wine, unitPrice: -1, quantity: 1, currency: 'USD' as const }] }, stored, 'wine-shop');
      expect(!r.ok && r.error.code).toBe('BILLING_ERR_CURRENCY_MISMATCH');
    });

    it('property: accepted refunds never add up to more than the charge', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 100_000 }), fc.array(fc.integer({ min: 1, max: 50_000 }), { maxLength: 12 }), (charged, asks) => {
          const original: Charge = { id: 'c', items: [{ ...wine, unitPrice: charged, quantity: 1 }] } as Charge;
          const records: ChargeRecord[] = [{ charge: original, applicationServer: 'as' }];
          let refunded = 0;
          asks.forEach((ask, i) => {
            const r: Charge = { id: 'r' + i, refundOf: 'c', items: [{ ...wine, unitPrice: -ask, quantity: 1 }] } as Charge;
            const check = checkRefund(r, records, 'as');
            if (check.ok) {
              records.push({ charge: r, applicationServer: 'as' });
              refunded += ask;
              expect(check.remaining.amount).toBe(charged - refunded);
            } else {
              expect(refunded + ask).toBeGreaterThan(charged);
            }
          });
          expect(refunded).toBeLessThanOrEqual(charged);
        }),
      );
    });
  });

  describe('never throws on bad input', () => {
    it('for any JSON value', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (v) => {
          const r = validateCharge(v);
          if (!r.ok) expect(r.error.code).toMatch(/^BILLING_ERR_/);
        }),
        { numRuns: 500 },
      );
    });

    it('for charges with any field changed to any JSON value', () => {
      const keys = ['id', 'items', 'refundOf', 'sku', 'description', 'unitPrice', 'quantity', 'currency'];
      fc.assert(
        fc.property(fc.constantFrom(...keys), fc.jsonValue(), fc.boolean(), (key, value, inItem) => {
          const input = inItem ? { ...order, items: [{ ...wine, [key]: value }] } : { ...order, [key]: value };
          const r = validateCharge(input);
          if (!r.ok) expect(r.error.message).not.toMatch(/[\r\n]/);
        }),
        { numRuns: 500 },
      );
    });

    it('for any text body', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (text) => {
          expect(parseChargeBody(text).ok).toBe(false);
        }),
        { numRuns: 300 },
      );
    });
  });

  describe('totals', () => {
    it('chargeTotal is Σ unit price × quantity', () => {
      expect(chargeTotal({ id: 'o', items: [wine, { ...wine, unitPrice: 100, quantity: 3 }] } as Charge)).toEqual({ amount: 5200, currency: 'EUR' });
    });

    it('chargeTotals sums charges and refunds per currency', () => {
      const usd = { id: 'u', items: [{ ...wine, currency: 'USD', unitPrice: 999, quantity: 1 }] } as Charge;
      const refund = { id: 'r', refundOf: 'order-7731', items: [{ ...wine, unitPrice: -2450, quantity: 1 }] } as Charge;
      expect(chargeTotals([order as Charge, usd, refund])).toEqual([
        { amount: 2450, currency: 'EUR' },
        { amount: 999, currency: 'USD' },
      ]);
    });
  });
});
