import { afterEach, beforeEach } from 'vitest';
import { Accounting } from '../../../../server/accounting/accounting.js';
import type { OpenedStore } from '../../../../server/store/open-store.js';
import { ManualClock } from '../../../../sip/util/clock.js';
import { establish, milestone, seed, TEST_SERVICES } from '../../accounting/accounting-fixture.js';
import { POSTGRES_URL, scratchDatabase, type BackendKind, type ScratchDatabase } from '../../store/store-backends.js';
import { cli, type CliRun } from '../cli-harness.js';

/** A scratch database per test on `kind`, seeded, and the CLI pointed at it. */
export function useCliDatabase(kind: BackendKind): {
  run(args: string[]): Promise<CliRun>;
  withStore<T>(fn: (store: OpenedStore) => Promise<T>): Promise<T>;
} {
  let scratch: ScratchDatabase;
  let url: string;
  beforeEach(async () => {
    scratch = scratchDatabase(kind);
    url = scratch.schema === undefined ? scratch.url : `${POSTGRES_URL}?schema=${scratch.schema}`;
    const store = await scratch.open();
    await seed(store);
    await store.close();
  });
  afterEach(async () => {
    await scratch.dispose();
  });
  return {
    run: (args) => cli([...args, '--database', url]),
    async withStore(fn) {
      const store = await scratch.open({ clock: new ManualClock(Date.UTC(2026, 10, 5, 10)) });
      try {
        return await fn(store);
      } finally {
        await store.close();
      }
    },
  };
}

/**
 * A month of activity on 2026-11-05: alice's lesson of 61 s (1.70 EUR) and
 * a wine order of 24.50 EUR, refunded 10.00. Returns the session ids.
 */
export async function november(store: OpenedStore): Promise<{ lesson: string; shop: string }> {
  const clock = new ManualClock(Date.UTC(2026, 10, 5, 10));
  const accounting = new Accounting(store, { nodeId: 'node-a', services: TEST_SERVICES, clock });
  const lesson = milestone();
  await establish(accounting, lesson);
  clock.advance(61_000);
  await accounting.recorder.ended(lesson, 'caller');
  const shop = milestone({ service: 'wine', appServer: 'wine-shop' });
  await establish(accounting, shop);
  const item = { sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice: 2450, quantity: 1, currency: 'EUR' };
  await accounting.charges.charge({ sessionId: shop.sessionId, appServer: 'wine-shop', body: { id: 'order-7731', items: [item] }, route: 'info' });
  await accounting.charges.charge({
    sessionId: shop.sessionId,
    appServer: 'wine-shop',
    body: { id: 'order-7731-r1', refundOf: 'order-7731', items: [{ ...item, unitPrice: -1000 }] },
    route: 'api',
  });
  await accounting.close();
  return { lesson: lesson.sessionId, shop: shop.sessionId };
}
