import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/config/load-config.js';
import { syncConfigServices } from '../../../server/cli/sync-config-services.js';
import { openStore, type OpenedStore } from '../../../server/store/open-store.js';
import { ManualClock } from '../../../sip/util/clock.js';

describe('syncConfigServices', () => {
  let store: OpenedStore;
  const clock = new ManualClock();
  beforeEach(async () => {
    store = await openStore('sqlite::memory:', { clock });
  });
  afterEach(() => store.close());

  it('writes the configured services into the store', async () => {
    const config = loadConfig({ flags: { demo: true } });
    expect(await syncConfigServices(config, store)).toEqual({ written: ['wine', 'beer', 'bookstore', 'lesson'], notConfigured: [] });
    expect(await store.services.find('bookstore')).toMatchObject({ forkMode: 'race', allowNoCancel: true, maxDurationSeconds: 14_400 });
    expect((await store.services.find('lesson'))?.tariff).toEqual(config.services[3].tariff);
  });

  it('writes only what changed, and reports stored services the configuration dropped', async () => {
    const config = loadConfig({ flags: { demo: true } });
    await syncConfigServices(config, store);
    clock.advance(1000);
    expect((await syncConfigServices(config, store)).written).toEqual([]);
    const changed = { services: [{ ...config.services[0], fork: 'all' as const }] };
    expect(await syncConfigServices(changed, store)).toEqual({ written: ['wine'], notConfigured: ['beer', 'bookstore', 'lesson'] });
    expect((await store.services.find('wine'))?.forkMode).toBe('all');
    expect(await store.services.find('beer')).toBeDefined();
  });
});
