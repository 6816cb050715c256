import { describe, expect, it } from 'vitest';
import { CURRENCY_CODES, currencyExponent, isCurrencyCode } from '../../../server/billing/currency.js';

describe('ISO 4217 currencies', () => {
  it.each([
    ['JPY', 0],
    ['KRW', 0],
    ['CLP', 0],
    ['EUR', 2],
    ['USD', 2],
    ['GBP', 2],
    ['CHF', 2],
    ['KWD', 3],
    ['BHD', 3],
    ['OMR', 3],
    ['TND', 3],
    ['CLF', 4],
  ] as const)('%s has %d decimal places', (code, exp) => {
    expect(isCurrencyCode(code)).toBe(true);
    expect(currencyExponent(code)).toBe(exp);
  });

  it('knows only upper-case codes', () => {
    expect(isCurrencyCode('eur')).toBe(false);
    expect(isCurrencyCode('Eur')).toBe(false);
  });

  it('leaves out codes without a minor unit (metals, SDR, testing, no currency)', () => {
    for (const code of ['XAU', 'XAG', 'XPT', 'XPD', 'XDR', 'XTS', 'XXX', 'XBA', 'XSU', 'XUA']) expect(isCurrencyCode(code)).toBe(false);
  });

  it('leaves out withdrawn codes', () => {
    for (const code of ['DEM', 'FRF', 'HRK', 'BGN', 'ANG', 'SLL', 'ZWL', 'CUC']) expect(isCurrencyCode(code)).toBe(false);
  });

  it('is not fooled by inherited properties', () => {
    expect(isCurrencyCode('constructor')).toBe(false);
    expect(isCurrencyCode('__proto__')).toBe(false);
    expect(isCurrencyCode(undefined)).toBe(false);
  });

  it('lists every code once, sorted, three upper-case letters each', () => {
    expect(CURRENCY_CODES.length).toBeGreaterThan(150);
    expect([...CURRENCY_CODES].sort()).toEqual(CURRENCY_CODES);
    expect(new Set(CURRENCY_CODES).size).toBe(CURRENCY_CODES.length);
    for (const c of CURRENCY_CODES) expect(c).toMatch(/^[A-Z]{3}$/);
  });

  it('has no code that is unknown to the platform (CLDR) except fund codes and recent codes', () => {
    // A guard against a typo in the table: a misspelt code is in neither list.
    const intl = new Set(Intl.supportedValuesOf('currency'));
    const fundsAndRecent = ['BOV', 'CHE', 'CHW', 'CLF', 'COU', 'MXV', 'USN', 'UYI', 'UYW', 'VED', 'XAD', 'XCG', 'ZWG', 'SLE'];
    expect(CURRENCY_CODES.filter((c) => !intl.has(c) && !fundsAndRecent.includes(c))).toEqual([]);
  });
});
