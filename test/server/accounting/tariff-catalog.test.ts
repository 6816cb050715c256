import { describe, expect, it } from 'vitest';
import { TariffCatalog } from '../../../server/accounting/tariff-catalog.js';
import { ConfigError } from '../../../server/config/config-error.js';
import { TEST_SERVICES } from './accounting-fixture.js';

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no ConfigError');
}

describe('TariffCatalog', () => {
  describe('fromConfig', () => {
    const catalog = TariffCatalog.fromConfig(TEST_SERVICES);

    it('reads a service tariff with the billing core defaults', () => {
      expect(catalog.tariff('beer')).toEqual({
        id: 'beer',
        currency: 'EUR',
        setupFee: 0,
        pricePerMinute: 60,
        increments: { first: 60, next: 60 },
        minimumBillableSeconds: 0,
        freeSeconds: 0,
      });
    });

    it('gives the plan tariff to a user on that plan and the default to others', () => {
      expect(catalog.tariff('lesson', 'student')?.id).toBe('lesson-student');
      expect(catalog.tariff('lesson', 'gold')?.id).toBe('lesson');
      expect(catalog.tariff('lesson')?.id).toBe('lesson');
    });

    it('treats a null tariff, and a mapping with only a relay fee, as free time', () => {
      const c = TariffCatalog.fromConfig([{ name: 'a', tariff: null }, { name: 'b' }, { name: 'wine', tariff: { relayFee: { basisPoints: 250 } } }]);
      expect([c.tariff('a'), c.tariff('b'), c.tariff('wine')]).toEqual([null, null, null]);
      expect(c.relayFee('wine')).toEqual({ basisPoints: 250 });
      expect(c.relayFee('a')).toEqual({ basisPoints: 0 });
    });

    it('knows no tariff for an unknown service and gives it the default fee', () => {
      const c = TariffCatalog.fromConfig([], { defaultRelayFee: { basisPoints: 100 } });
      expect(c.tariff('nope')).toBeNull();
      expect(c.relayFee('nope')).toEqual({ basisPoints: 100 });
      expect(c.has('nope')).toBe(false);
    });

    it('stops start-up naming the bad key of a tariff', () => {
      const e = configError(() => TariffCatalog.fromConfig([{ name: 'x', tariff: {} }, { name: 'lesson', tariff: { id: 'l', currency: 'EUR' } }]));
      expect(e.code).toBe('CONFIG_ERR_INVALID');
      expect(e.path).toBe('services[1].tariff.pricePerMinute');
      expect(e.message).toMatch(/^config error: services\[1\]\.tariff\.pricePerMinute: /);
    });

    it('names a misspelt tariff field, a bad plan tariff and a bad fee', () => {
      expect(configError(() => TariffCatalog.fromConfig([{ name: 'l', tariff: { id: 'l', currency: 'EUR', pricePerMinute: 1, setup_fee: 5 } }])).path).toMatch(
        /^services\[0\]\.tariff/,
      );
      expect(
        configError(() => TariffCatalog.fromConfig([{ name: 'l', tariff: { plans: { student: { id: 's', currency: 'EUR', pricePerMinute: -1 } } } }])).path,
      ).toBe('services[0].tariff.plans.student.pricePerMinute');
      expect(configError(() => TariffCatalog.fromConfig([{ name: 'l', tariff: { relayFee: { basisPoints: 20_000 } } }])).path).toBe(
        'services[0].tariff.relayFee.basisPoints',
      );
    });

    it('refuses a fixed fee in another currency than the tariff', () => {
      const e = configError(() =>
        TariffCatalog.fromConfig([{ name: 'l', tariff: { id: 'l', currency: 'EUR', pricePerMinute: 1, relayFee: { basisPoints: 0, fixedPerSession: { amount: 5, currency: 'USD' } } } }]),
      );
      expect(e.path).toBe('services[0].tariff.relayFee.fixedPerSession.currency');
    });
  });
});
