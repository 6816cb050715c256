import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import pg from 'pg';
import { ManualClock } from '../../../sip/util/clock.js';
import { openStore, type OpenedStore, type OpenStoreOptions } from '../../../server/store/open-store.js';

/**
 * The two backends every storage test runs against (design brief: "every
 * storage test runs against both"). PostgreSQL is the development and CI
 * server on 127.0.0.1:5432; set SIPRELAY_TEST_POSTGRES_URL to use another.
 */
export const POSTGRES_URL = process.env.SIPRELAY_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type BackendKind = 'sqlite' | 'postgres';
export const backends: { name: string; kind: BackendKind }[] = [
  { name: 'SQLite', kind: 'sqlite' },
  { name: 'PostgreSQL', kind: 'postgres' },
];

/** A throwaway place for one store: a temp SQLite file or a random PostgreSQL schema. */
export interface ScratchDatabase {
  readonly url: string;
  /** Set for PostgreSQL. */
  readonly schema: string | undefined;
  open(options?: OpenStoreOptions): Promise<OpenedStore>;
  /** Deletes the file or drops the schema. */
  dispose(): Promise<void>;
}

export function scratchDatabase(kind: BackendKind): ScratchDatabase {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'siprelay-store-'));
    const url = `sqlite:${join(dir, 'nested', 'relay.sqlite')}`;
    return {
      url,
      schema: undefined,
      open: (options) => openStore(url, options),
      dispose: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const schema = `test_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  return {
    url: POSTGRES_URL,
    schema,
    open: (options) => openStore(POSTGRES_URL, { schema, ...options }),
    dispose: () => dropSchema(schema),
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

/** Tables in an order that deleting rows respects foreign keys. */
const TABLES = [
  'ledger_entries',
  'charges',
  'session_segments',
  'sessions',
  'account_adjustments',
  'accounts',
  'api_keys',
  'app_server_services',
  'app_servers',
  'services',
  'subscribers',
  'signing_keys',
] as const;

/**
 * One store per test file and backend (a temp file, or a schema of its own
 * dropped afterwards), emptied before each test, with a manual clock that
 * the test may advance.
 */
export function useTestStore(kind: BackendKind): { readonly store: OpenedStore; readonly clock: ManualClock } {
  const scratch = scratchDatabase(kind);
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let store: OpenedStore | undefined;
  beforeAll(async () => {
    store = await scratch.open({ clock });
  });
  beforeEach(async () => {
    for (const t of TABLES) await store!.db.deleteFrom(t).execute();
  });
  afterEach(() => clock.advance(1000));
  afterAll(async () => {
    await store?.close();
    await scratch.dispose();
  });
  return {
    get store() {
      if (!store) throw new Error('store not open yet');
      return store;
    },
    clock,
  };
}
