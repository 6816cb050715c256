import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBillingError } from '../../../server/billing/billing-error.js';
import {
  addMoney,
  compareMoney,
  formatMoney,
  isMoney,
  money,
  moneySchema,
  moneyToDecimalString,
  multiplyMoney,
  negateMoney,
  parseMoney,
  subtractMoney,
  sumByCurrency,
  zeroMoney,
} from '../../../server/billing/money.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    if (isBillingError(e)) return e.code;
    throw e;
  }
  return undefined;
}

describe('Money', () => {
  describe('money(amount, currency)', () => {
    it('makes an amount of integer minor units in a known currency', () => {
      expect(money(1999, 'USD')).toEqual({ amount: 1999, currency: 'USD' });
      expect(money(-5, 'EUR')).toEqual({ amount: -5, currency: 'EUR' });
    });

    it.each([1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 53)])('refuses %s with BILLING_ERR_AMOUNT', (a) => {
      expect(codeOf(() => money(a, 'EUR'))).toBe('BILLING_ERR_AMOUNT');
    });

    it.each(['eur', 'EURO', 'XAU', 'XXX', 'BGN', ''])('refuses currency %j with BILLING_ERR_CURRENCY', (c) => {
      expect(codeOf(() => money(1, c))).toBe('BILLING_ERR_CURRENCY');
    });

    it('gives the error status 400 for the API to answer with', () => {
      try {
        money(0.1, 'EUR');
      } catch (e) {
        expect(isBillingError(e) && e.status).toBe(400);
      }
    });

    it('normalises −0 to 0', () => {
      expect(Object.is(money(-0, 'EUR').amount, 0)).toBe(true);
    });
  });

  it('isMoney accepts well-formed money and nothing else', () => {
    expect(isMoney({ amount: 1, currency: 'EUR' })).toBe(true);
    expect(isMoney({ amount: 1.1, currency: 'EUR' })).toBe(false);
    expect(isMoney({ amount: 1, currency: 'eur' })).toBe(false);
    expect(isMoney(null)).toBe(false);
    expect(isMoney('1 EUR')).toBe(false);
  });

  describe('arithmetic', () => {
    it('adds and subtracts in one currency', () => {
      expect(addMoney(money(120, 'EUR'), money(5, 'EUR'))).toEqual(money(125, 'EUR'));
      expect(subtractMoney(money(120, 'EUR'), money(125, 'EUR'))).toEqual(money(-5, 'EUR'));
    });

    it('never adds, subtracts or compares different currencies', () => {
      expect(codeOf(() => addMoney(money(1, 'EUR'), money(1, 'USD')))).toBe('BILLING_ERR_CURRENCY_MISMATCH');
      expect(codeOf(() => subtractMoney(money(1, 'EUR'), money(1, 'USD')))).toBe('BILLING_ERR_CURRENCY_MISMATCH');
      expect(codeOf(() => compareMoney(money(1, 'EUR'), money(1, 'USD')))).toBe('BILLING_ERR_CURRENCY_MISMATCH');
    });

    it('multiplies by an integer quantity only', () => {
      expect(multiplyMoney(money(1250, 'EUR'), 3)).toEqual(money(3750, 'EUR'));
      expect(codeOf(() => multiplyMoney(money(1250, 'EUR'), 1.5))).toBe('BILLING_ERR_AMOUNT');
    });

    it('refuses results beyond the safe integer range instead of rounding them', () => {
      const big = money(Number.MAX_SAFE_INTEGER, 'EUR');
      expect(codeOf(() => addMoney(big, money(1, 'EUR')))).toBe('BILLING_ERR_OVERFLOW');
      expect(codeOf(() => subtractMoney(negateMoney(big), money(1, 'EUR')))).toBe('BILLING_ERR_OVERFLOW');
      expect(codeOf(() => multiplyMoney(money(2 ** 30, 'EUR'), 2 ** 30))).toBe('BILLING_ERR_OVERFLOW');
    });

    it('compares within a currency', () => {
      expect(compareMoney(money(1, 'EUR'), money(2, 'EUR'))).toBe(-1);
      expect(compareMoney(money(2, 'EUR'), money(2, 'EUR'))).toBe(0);
      expect(compareMoney(money(3, 'EUR'), money(2, 'EUR'))).toBe(1);
    });

    it('addition is exact for any two safe amounts whose sum is safe', () => {
      fc.assert(
        fc.property(fc.maxSafeInteger(), fc.maxSafeInteger(), (a, b) => {
          const exact = BigInt(a) + BigInt(b);
          if (exact > BigInt(Number.MAX_SAFE_INTEGER) || exact < BigInt(Number.MIN_SAFE_INTEGER)) {
            expect(codeOf(() => addMoney(money(a, 'EUR'), money(b, 'EUR')))).toBe('BILLING_ERR_OVERFLOW');
          } else {
            expect(BigInt(addMoney(money(a, 'EUR'), money(b, 'EUR')).amount)).toBe(exact);
          }
        }),
      );
    });
  });

  describe('sumByCurrency', () => {
    it('sums each currency on its own, sorted by code', () => {
      expect(sumByCurrency([money(1, 'USD'), money(2, 'EUR'), money(3, 'USD'), money(-2, 'EUR')])).toEqual([
        zeroMoney('EUR'),
        money(4, 'USD'),
      ]);
    });

    it('is empty for no amounts', () => {
      expect(sumByCurrency([])).toEqual([]);
    });
  });

  describe('moneyToDecimalString', () => {
    it.each([
      [240, 'EUR', '2.40'],
      [-5, 'EUR', '-0.05'],
      [0, 'EUR', '0.00'],
      [1500, 'JPY', '1500'],
      [1234, 'KWD', '1.234'],
      [7, 'CLF', '0.0007'],
      [Number.MAX_SAFE_INTEGER, 'USD', '90071992547409.91'],
    ] as const)('%d %s is "%s"', (amount, currency, text) => {
      expect(moneyToDecimalString(money(amount, currency))).toBe(text);
    });
  });

  describe('parseMoney', () => {
    it('reads decimal major units exactly', () => {
      expect(parseMoney('12.3', 'EUR')).toEqual(money(1230, 'EUR'));
      expect(parseMoney('-0.05', 'EUR')).toEqual(money(-5, 'EUR'));
      expect(parseMoney('1500', 'JPY')).toEqual(money(1500, 'JPY'));
      expect(parseMoney('90071992547409.91', 'USD')).toEqual(money(Number.MAX_SAFE_INTEGER, 'USD'));
    });

    it('refuses more decimals than the currency has, rather than rounding', () => {
      expect(codeOf(() => parseMoney('0.001', 'EUR'))).toBe('BILLING_ERR_AMOUNT');
      expect(codeOf(() => parseMoney('1.5', 'JPY'))).toBe('BILLING_ERR_AMOUNT');
    });

    it('refuses what is not a plain decimal', () => {
      for (const s of ['', '1e3', '1,50', '.5', '5.', '+1', '0x10', 'abc']) expect(codeOf(() => parseMoney(s, 'EUR'))).toBe('BILLING_ERR_AMOUNT');
    });

    it('refuses amounts beyond the safe range', () => {
      expect(codeOf(() => parseMoney('90071992547409.92', 'USD'))).toBe('BILLING_ERR_OVERFLOW');
    });

    it('round-trips with moneyToDecimalString', () => {
      fc.assert(
        fc.property(fc.maxSafeInteger(), fc.constantFrom('EUR', 'JPY', 'KWD', 'CLF'), (a, c) => {
          const m = money(a, c);
          expect(parseMoney(moneyToDecimalString(m), c)).toEqual(m);
        }),
      );
    });
  });

  describe('formatMoney', () => {
    it('formats for people in English by default', () => {
      expect(formatMoney(money(240, 'EUR'))).toBe('€2.40');
      expect(formatMoney(money(-5, 'USD'))).toBe('-$0.05');
    });

    it('follows the locale', () => {
      expect(formatMoney(money(123456, 'EUR'), 'de-DE')).toBe('1.234,56\u00a0€');
    });

    it('always shows the ISO 4217 number of decimals', () => {
      expect(formatMoney(money(500, 'JPY'), 'en')).toBe('¥500');
      expect(formatMoney(money(1234, 'KWD'), 'en')).toMatch(/1\.234$/);
      // CLDR shows Iranian rials without decimals; ISO 4217 gives them two.
      expect(formatMoney(money(12345, 'IRR'), 'en')).toMatch(/123\.45$/);
    });

    it('is exact for the largest amounts', () => {
      expect(formatMoney(money(Number.MAX_SAFE_INTEGER, 'USD'))).toBe('$90,071,992,547,409.91');
    });

    it('falls back to English for a malformed locale tag', () => {
      expect(formatMoney(money(240, 'EUR'), 'not a locale!')).toBe('€2.40');
    });
  });

  describe('moneySchema', () => {
    it('accepts { amount, currency } and nothing looser', () => {
      expect(moneySchema.safeParse({ amount: 1, currency: 'EUR' }).success).toBe(true);
      expect(moneySchema.safeParse({ amount: 1.5, currency: 'EUR' }).success).toBe(false);
      expect(moneySchema.safeParse({ amount: 1, currency: 'eur' }).success).toBe(false);
      expect(moneySchema.safeParse({ amount: 1, currency: 'EUR', extra: 1 }).success).toBe(false);
      expect(moneySchema.safeParse({ amount: 2 ** 53, currency: 'EUR' }).success).toBe(false);
    });
  });
});
