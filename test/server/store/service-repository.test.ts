import { describe, expect, it } from 'vitest';
import { backends, useTestStore } from './store-backends.js';
import { storeErrorCode as codeOf } from './store-error-code.js';

describe.each(backends)('ServiceRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);

  it('upsert creates a service with defaults: race, no no-cancel, no limits, no tariff', async () => {
    const s = await t.store.services.upsert({ name: 'wine' });
    expect(s).toMatchObject({
      name: 'wine',
      description: '',
      forkMode: 'race',
      allowNoCancel: false,
      maxDurationSeconds: null,
      maxSessions: null,
      sessionTimerSeconds: null,
      tariff: null,
    });
    expect(await t.store.services.find('wine')).toEqual(s);
  });

  it('upsert replaces the definition of an existing service, keeping its id and createdAt', async () => {
    const first = await t.store.services.upsert({ name: 'lesson', description: 'Video lesson' });
    t.clock.advance(60_000);
    const tariff = { currency: 'EUR', pricePerMinute: 20, increments: [60, 60] };
    const second = await t.store.services.upsert({
      name: 'lesson',
      description: 'Video lesson, billed by time',
      forkMode: 'balance',
      allowNoCancel: true,
      maxDurationSeconds: 3600,
      maxSessions: 10,
      sessionTimerSeconds: 900,
      tariff,
    });
    expect(second).toMatchObject({
      id: first.id,
      description: 'Video lesson, billed by time',
      forkMode: 'balance',
      allowNoCancel: true,
      maxDurationSeconds: 3600,
      maxSessions: 10,
      sessionTimerSeconds: 900,
      tariff,
      createdAt: first.createdAt,
      updatedAt: first.createdAt + 60_000,
    });
    expect(await t.store.services.list()).toHaveLength(1);
  });

  it('refuses a bad name, fork mode or limit as STORE_ERR_INVALID', async () => {
    expect(await codeOf(t.store.services.upsert({ name: 'Wine Shop' }))).toBe('STORE_ERR_INVALID');
    // @ts-expect-error: a fork mode the type does not allow, as from untyped input
    expect(await codeOf(t.store.services.upsert({ name: 'wine', forkMode: 'serial' }))).toBe('STORE_ERR_INVALID');
    expect(await codeOf(t.store.services.upsert({ name: 'wine', maxDurationSeconds: 0 }))).toBe('STORE_ERR_INVALID');
  });

  it('lists by name', async () => {
    for (const n of ['wine', 'beer', 'lesson']) await t.store.services.upsert({ name: n });
    expect((await t.store.services.list()).map((s) => s.name)).toEqual(['beer', 'lesson', 'wine']);
  });

  it('remove deletes an unused service, refuses one still provided, and reports an unknown one', async () => {
    await t.store.services.upsert({ name: 'wine' });
    await t.store.services.upsert({ name: 'beer' });
    await t.store.appServers.add({ name: 'pub', domain: 'portal.test', password: 'x' });
    await t.store.appServers.attachService('pub', 'beer');
    await t.store.services.remove('wine');
    expect(await t.store.services.find('wine')).toBeUndefined();
    expect(await codeOf(t.store.services.remove('beer'))).toBe('STORE_ERR_IN_USE');
    expect(await codeOf(t.store.services.remove('wine'))).toBe('STORE_ERR_NOT_FOUND');
  });
});
