import { describe, expect, it } from 'vitest';
import { formatMoney, formatTotals, sumByCurrency, toDecimalString } from '../../../../web-client/src/billing/format-money.js';

describe('money for people', () => {
  it('writes the exact decimal of minor units with the currency’s decimals', () => {
    expect(toDecimalString(240, 'EUR')).toBe('2.40');
    expect(toDecimalString(-5, 'EUR')).toBe('-0.05');
    expect(toDecimalString(500, 'JPY')).toBe('500');
    expect(toDecimalString(1234, 'KWD')).toBe('1.234');
    expect(toDecimalString(Number.MAX_SAFE_INTEGER, 'EUR')).toBe('90071992547409.91');
  });
  it('refuses a float', () => {
    expect(() => toDecimalString(2.4, 'EUR')).toThrow(TypeError);
  });
  it('formats with the symbol and exact digits, also for the largest amounts', () => {
    expect(formatMoney(1799, 'EUR')).toBe('€17.99');
    expect(formatMoney(500, 'JPY')).toBe('¥500');
    expect(formatMoney(Number.MAX_SAFE_INTEGER, 'USD')).toBe('$90,071,992,547,409.91');
  });
  it('falls back to the code for a currency Intl does not know', () => {
    expect(formatMoney(240, 'XQQ')).toMatch(/2\.40/);
  });
  it('sums per currency and never across currencies', () => {
    const totals = sumByCurrency([
      { amount: 100, currency: 'USD' },
      { amount: 240, currency: 'EUR' },
      { amount: 5, currency: 'EUR' },
    ]);
    expect(totals).toEqual([
      { amount: 245, currency: 'EUR' },
      { amount: 100, currency: 'USD' },
    ]);
    expect(formatTotals(totals)).toBe('€2.45 + $1.00');
    expect(formatTotals([], 'none')).toBe('none');
  });
});
