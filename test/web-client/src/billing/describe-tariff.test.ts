import { describe, expect, it } from 'vitest';
import { describeTariff } from '../../../../web-client/src/billing/describe-tariff.js';
import { timeTariffOf } from '../../../../web-client/src/billing/time-tariff.js';

describe('tariffs in words', () => {
  it('reads the demo lesson tariff from the catalogue and says it as the lesson page does', () => {
    const t = timeTariffOf({ id: 'lesson-standard', currency: 'EUR', setupFee: 50, pricePerMinute: 120, increments: { first: 60, next: 60 }, freeSeconds: 30 });
    expect(describeTariff(t)).toBe('€1.20 per minute · billed in 60 s steps · first 30 s free · €0.50 per session');
  });
  it('fills in the tariff defaults: per second, no fee, no free time', () => {
    const t = timeTariffOf({ id: 'x', currency: 'EUR', pricePerMinute: 60 });
    expect(t).toMatchObject({ setupFee: 0, increments: { first: 1, next: 1 }, freeSeconds: 0, minimumBillableSeconds: 0 });
    expect(describeTariff(t)).toBe('€0.60 per minute · billed by the second');
  });
  it('treats no tariff, a fee-only mapping, and a broken tariff as free time', () => {
    expect(timeTariffOf(null)).toBeUndefined();
    expect(timeTariffOf({ relayFee: { basisPoints: 250 } })).toBeUndefined();
    expect(timeTariffOf({ currency: 'EUR', pricePerMinute: 1.5 })).toBeUndefined();
    expect(timeTariffOf({ currency: 'EUR', pricePerMinute: 10, increments: { first: 0, next: 1 } })).toBeUndefined();
    expect(describeTariff(undefined)).toBe('Time is free');
  });
});
