import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { afterEach, beforeEach } from 'vitest';
import { parseSipUriStrict } from '../../../sip/grammar/uri.js';
import type { ManualClock } from '../../../sip/util/clock.js';
import { Accounting, type AccountingOptions } from '../../../server/accounting/accounting.js';
import type { ServiceTariffConfig } from '../../../server/accounting/tariff-catalog.js';
import type { DialogMilestone } from '../../../server/relay-ports.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { POSTGRES_URL, useTestStore, type BackendKind, type ScratchDatabase } from '../store/store-backends.js';

/**
 * Services of the accounting tests: `lesson` (time-billed, 30 s free, setup
 * 0.50, 10 % + 0.05 fee), `beer` 0.60/min and `stout` 1.20/min in whole
 * minutes, `wine` (time free, 2.5 % fee on charges), `usd-show` in USD.
 */
export const TEST_SERVICES: ServiceTariffConfig[] = [
  {
    name: 'lesson',
    tariff: {
      id: 'lesson',
      currency: 'EUR',
      setupFee: 50,
      pricePerMinute: 120,
      increments: { first: 60, next: 60 },
      freeSeconds: 30,
      relayFee: { basisPoints: 1000, fixedPerSession: { amount: 5, currency: 'EUR' } },
      plans: { student: { id: 'lesson-student', currency: 'EUR', pricePerMinute: 60, increments: { first: 60, next: 60 } } },
    },
  },
  { name: 'beer', tariff: { id: 'beer', currency: 'EUR', pricePerMinute: 60, increments: { first: 60, next: 60 } } },
  { name: 'stout', tariff: { id: 'stout', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 } } },
  { name: 'wine', tariff: { relayFee: { basisPoints: 250 } } },
  { name: 'usd-show', tariff: { id: 'usd-show', currency: 'USD', pricePerMinute: 100 } },
];

/** Application servers of the tests and their operators. */
export const APP_SERVERS = [
  { name: 'lesson-server', operator: 'acme' },
  { name: 'wine-shop', operator: 'vino' },
  { name: 'beer-shop', operator: 'hops' },
];

/** Adds the test users, application servers and alice's prepaid account (50.00 EUR). */
export async function seed(store: OpenedStore): Promise<void> {
  for (const a of APP_SERVERS) await store.appServers.add({ name: a.name, domain: 'portal.test', password: 'x', operator: a.operator });
  await store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
  await store.subscribers.add({ username: 'bob', domain: 'portal.test', password: 'bob-secret' });
  await store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 5000 });
}

let counter = 0;

/** A dialog milestone as the relay core reports it. */
export function milestone(
  over: { sessionId?: string; service?: string; appServer?: string; user?: string; plan?: string; forkGroup?: string } = {},
): DialogMilestone {
  const sessionId = over.sessionId ?? `s${(++counter).toString(16).padStart(31, '0')}`;
  const appServer = over.appServer ?? 'lesson-server';
  return {
    sessionId,
    forkGroup: over.forkGroup ?? `g-${sessionId}`,
    callId: `call-${sessionId}`,
    callerTag: 'caller-tag',
    calleeTag: 'callee-tag',
    party: { kind: 'subscriber', id: 1, username: over.user ?? 'alice', domain: 'portal.test', ...(over.plan ? { plan: over.plan } : {}) },
    service: over.service ?? 'lesson',
    target: { appServer, uri: parseSipUriStrict(`sip:${appServer}@127.0.0.1:5070`), flowId: undefined, weight: 1, source: 'static', load: 0 },
  };
}

/** Runs a session through attempt, answer and start. */
export async function establish(accounting: Accounting, m: DialogMilestone, requestedAt = 0): Promise<void> {
  accounting.recorder.attemptStarted({ ...m, requestedAt: requestedAt || Date.UTC(2026, 0, 1) });
  await accounting.recorder.answered(m);
  await accounting.recorder.started(m);
}

/**
 * A test store per backend (from `useTestStore`), seeded before each test,
 * with an {@link Accounting} on the store's manual clock, closed after.
 */
export function useAccounting(
  kind: BackendKind,
  options: Partial<AccountingOptions> = {},
): { readonly store: OpenedStore; readonly clock: ManualClock; readonly accounting: Accounting } {
  const t = useTestStore(kind);
  let accounting: Accounting | undefined;
  beforeEach(async () => {
    await seed(t.store);
    accounting = new Accounting(t.store, { nodeId: 'node-a', services: TEST_SERVICES, clock: t.clock, ...options });
  });
  afterEach(async () => {
    await accounting?.close();
    accounting = undefined;
  });
  return {
    get store() {
      return t.store;
    },
    clock: t.clock,
    get accounting() {
      if (!accounting) throw new Error('accounting not made yet');
      return accounting;
    },
  };
}

/**
 * A second, independent connection to a scratch database, to see what is
 * committed (not what the store's own connection sees).
 */
export interface Observer {
  count(table: string, where?: string): Promise<number>;
  close(): Promise<void>;
}

export async function observe(scratch: ScratchDatabase): Promise<Observer> {
  if (scratch.schema === undefined) {
    const db = new BetterSqlite3(scratch.url.slice('sqlite:'.length), { readonly: true });
    return {
      count: async (table, where) =>
        Number((db.prepare(`select count(*) as n from ${table}${where ? ` where ${where}` : ''}`).get() as { n: number }).n),
      close: async () => {
        db.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query(`set search_path to "${scratch.schema}"`);
  return {
    count: async (table, where) => Number((await client.query(`select count(*) as n from ${table}${where ? ` where ${where}` : ''}`)).rows[0].n),
    close: () => client.end(),
  };
}

/** Synchronous count through a second SQLite connection (to check at the instant a promise resolves). */
export function sqliteCounter(scratch: ScratchDatabase): { count(table: string, where?: string): number; close(): void } {
  const db = new BetterSqlite3(scratch.url.slice('sqlite:'.length), { readonly: true });
  return {
    count: (table, where) => Number((db.prepare(`select count(*) as n from ${table}${where ? ` where ${where}` : ''}`).get() as { n: number }).n),
    close: () => db.close(),
  };
}
