import { describe, expect, it } from 'vitest';
import { BillingError } from '../../../server/billing/billing-error.js';
import { parseTariff, resolveTariff, serviceTariffsSchema, tariffSchema, type ServiceTariffs } from '../../../server/billing/tariff.js';

function tariffError(input: unknown): BillingError {
  try {
    parseTariff(input);
  } catch (e) {
    if (e instanceof BillingError) return e;
    throw e;
  }
  throw new Error('parseTariff accepted the input');
}

describe('tariffs', () => {
  describe('parseTariff', () => {
    it('fills in the defaults: no setup fee, per-second increments, no minimum, no free time', () => {
      expect(parseTariff({ id: 'lesson', currency: 'EUR', pricePerMinute: 120 })).toEqual({
        id: 'lesson',
        currency: 'EUR',
        pricePerMinute: 120,
        setupFee: 0,
        increments: { first: 1, next: 1 },
        minimumBillableSeconds: 0,
        freeSeconds: 0,
      });
    });

    it('keeps every field that is given', () => {
      const t = {
        id: 'lesson-student',
        currency: 'GBP',
        setupFee: 50,
        pricePerMinute: 60,
        increments: { first: 30, next: 6 },
        minimumBillableSeconds: 60,
        freeSeconds: 10,
        description: 'Student rate',
      };
      expect(parseTariff(t)).toEqual(t);
    });

    it.each([
      [{ currency: 'EUR', pricePerMinute: 1 }, 'id', 'is required'],
      [{ id: 'x', pricePerMinute: 1 }, 'currency', 'is required'],
      [{ id: 'x', currency: 'EUR' }, 'pricePerMinute', 'is required'],
      [{ id: 'x', currency: 'eur', pricePerMinute: 1 }, 'currency', 'ISO 4217'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1.2 }, 'pricePerMinute', 'integer'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: -1 }, 'pricePerMinute', 'negative'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1, setupFee: '10' }, 'setupFee', 'integer'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1, increments: { first: 0, next: 1 } }, 'increments.first', 'at least 1'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1, increments: { first: 60 } }, 'increments.next', 'is required'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1, increments: { first: 1, next: 1, third: 1 } }, 'increments.third', 'not a known field'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1, freeSeconds: 32 * 86_400 }, 'freeSeconds', 'at most'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1, minimumBillableSeconds: 0.5 }, 'minimumBillableSeconds', 'whole number'],
      [{ id: 'x', currency: 'EUR', pricePerMinute: 1, price_per_minute: 1 }, 'price_per_minute', 'not a known field'],
      [{ id: 'has space', currency: 'EUR', pricePerMinute: 1 }, 'id', 'letters'],
    ])('refuses %j naming %s', (input, field, words) => {
      const e = tariffError(input);
      expect(e.code).toBe('BILLING_ERR_TARIFF');
      expect(e.field).toBe(field);
      expect(e.message).toContain(field + ': ');
      expect(e.message).toContain(words);
    });

    it('refuses what is not an object', () => {
      expect(tariffError(null).message).toBe('must be an object');
      expect(tariffError([]).code).toBe('BILLING_ERR_TARIFF');
    });
  });

  it('tariffSchema embeds in a larger config schema and reports the full path', () => {
    const r = serviceTariffsSchema.safeParse({ tariff: { id: 'a', currency: 'EUR', pricePerMinute: 1 }, plans: { gold: { id: 'g', currency: 'EUR' } } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].path).toEqual(['plans', 'gold', 'pricePerMinute']);
    expect(tariffSchema.safeParse({ id: 'a', currency: 'EUR', pricePerMinute: 1 }).success).toBe(true);
  });

  describe('resolveTariff(service, plan)', () => {
    const service: ServiceTariffs = serviceTariffsSchema.parse({
      tariff: { id: 'lesson', currency: 'EUR', pricePerMinute: 120, freeSeconds: 30 },
      plans: { student: { id: 'lesson-student', currency: 'EUR', pricePerMinute: 60 } },
    });

    it("uses the plan's own tariff when the service has one for the plan", () => {
      expect(resolveTariff(service, 'student')?.id).toBe('lesson-student');
    });

    it('replaces the default as a whole: nothing is inherited from it', () => {
      expect(resolveTariff(service, 'student')?.freeSeconds).toBe(0);
    });

    it('falls back to the service default for another plan or no plan', () => {
      expect(resolveTariff(service, 'gold')?.id).toBe('lesson');
      expect(resolveTariff(service)?.id).toBe('lesson');
      expect(resolveTariff(service, null)?.id).toBe('lesson');
    });

    it('is null for a service whose time is not charged, unless the plan has a tariff', () => {
      const shop = serviceTariffsSchema.parse({ plans: { vip: { id: 'vip', currency: 'EUR', pricePerMinute: 1 } } });
      expect(shop.tariff).toBeNull();
      expect(resolveTariff(shop, 'basic')).toBeNull();
      expect(resolveTariff(shop, 'vip')?.id).toBe('vip');
    });

    it('does not take inherited object properties for plans', () => {
      expect(resolveTariff(service, 'toString')?.id).toBe('lesson');
      expect(resolveTariff(service, '__proto__')?.id).toBe('lesson');
    });
  });
});
