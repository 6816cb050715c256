import { describe, expect, it } from 'vitest';
import { CurrencyTotals } from '../../../server/billing/currency-totals.js';
import { money } from '../../../server/billing/money.js';

describe('CurrencyTotals', () => {
  it('keeps one sum per currency and lists them sorted by code', () => {
    const t = new CurrencyTotals().add(money(240, 'EUR')).add(money(100, 'USD')).add(money(60, 'EUR'));
    expect(t.toArray()).toEqual([money(300, 'EUR'), money(100, 'USD')]);
    expect(t.currencies()).toEqual(['EUR', 'USD']);
  });

  it('reports zero for a currency it has not seen, and keeps totals that sum to zero', () => {
    const t = new CurrencyTotals().addAll([money(5, 'JPY'), money(-5, 'JPY')]);
    expect(t.get('GBP')).toEqual(money(0, 'GBP'));
    expect(t.has('GBP')).toBe(false);
    expect(t.has('JPY')).toBe(true);
    expect(t.toArray()).toEqual([money(0, 'JPY')]);
  });
});
