import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../server/store/open-store.js';
import { storeMigrations } from '../../../server/store/migration-list.js';
import type { MigrationReport } from '../../../server/store/run-migrations.js';
import type { StoreMigration } from '../../../server/store/store-migration.js';
import { backends, dropSchema, POSTGRES_URL, scratchDatabase, type ScratchDatabase } from './store-backends.js';
import { storeErrorCode } from './store-error-code.js';

const ALL = storeMigrations.map((m) => m.name);
const execFileAsync = promisify(execFile);

/** Opens the store in a child process and returns its migration report. */
async function openInChild(db: ScratchDatabase): Promise<MigrationReport> {
  const script = fileURLToPath(new URL('./open-store-child.ts', import.meta.url));
  const args = ['--import', 'tsx', script, db.url, db.schema ?? ''];
  const { stdout } = await execFileAsync(process.execPath, args, { encoding: 'utf8' });
  return JSON.parse(stdout) as MigrationReport;
}

describe.each(backends)('openStore on $name', ({ kind }) => {
  const scratches: ScratchDatabase[] = [];
  const fresh = () => {
    const s = scratchDatabase(kind);
    scratches.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of scratches.splice(0)) await s.dispose();
  });

  it('applies every migration at first open and records it', async () => {
    const db = fresh();
    const store = await db.open();
    try {
      expect(store.migrationReport).toEqual({ applied: ALL, alreadyApplied: [] });
      expect(await store.appliedMigrations()).toEqual(ALL);
    } finally {
      await store.close();
    }
  });

  it('applies nothing on the next open and keeps the data', async () => {
    const db = fresh();
    const first = await db.open();
    await first.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'alice-secret' });
    await first.close();
    const second = await db.open();
    try {
      expect(second.migrationReport).toEqual({ applied: [], alreadyApplied: ALL });
      expect(await second.subscribers.find('alice', 'portal.test')).toBeDefined();
    } finally {
      await second.close();
    }
  });

  it('applies a migration appended later, and only that one', async () => {
    const db = fresh();
    await (await db.open()).close();
    const later: StoreMigration = {
      name: '9001-notes',
      async up(k) {
        await k.schema.createTable('notes').addColumn('text', 'text').execute();
      },
    };
    const store = await db.open({ migrations: [...storeMigrations, later] });
    try {
      expect(store.migrationReport.applied).toEqual(['9001-notes']);
      await sql`insert into notes (text) values ('hello')`.execute(store.db);
    } finally {
      await store.close();
    }
  });

  it('rolls the whole batch back when a migration fails', async () => {
    const db = fresh();
    const broken: StoreMigration = {
      name: '9001-broken',
      async up(k) {
        await k.schema.createTable('half_done').addColumn('x', 'text').execute();
        await sql`select * from table_that_does_not_exist`.execute(k);
      },
    };
    const code = await storeErrorCode(db.open({ migrations: [...storeMigrations, broken] }));
    expect(code).toBe('STORE_ERR_MIGRATION');
    const store = await db.open({ migrate: false });
    try {
      const tables = (await store.db.introspection.getTables({ withInternalKyselyTables: true }))
        .filter((t) => db.schema === undefined || t.schema === db.schema)
        .map((t) => t.name);
      expect(tables).not.toContain('half_done');
      expect(tables).not.toContain('subscribers');
    } finally {
      await store.close();
    }
  });

  it('refuses a database migrated by a newer version', async () => {
    const db = fresh();
    const later: StoreMigration = { name: '9001-future', up: async () => undefined };
    await (await db.open({ migrations: [...storeMigrations, later] })).close();
    expect(await storeErrorCode(db.open())).toBe('STORE_ERR_SCHEMA_NEWER');
  });

  it('two processes opening a fresh database at once apply each migration once', async () => {
    const db = fresh();
    // Separate processes, as a relay and the CLI (or two relays) would be:
    // better-sqlite3 waits for a lock synchronously, so two stores on one
    // file inside one process would only block each other.
    const [a, b] = await Promise.all([openInChild(db), openInChild(db)]);
    expect([...a.applied, ...b.applied].sort()).toEqual(ALL);
    const store = await db.open();
    try {
      expect(await store.appliedMigrations()).toEqual(ALL);
    } finally {
      await store.close();
    }
  });

  it('close is idempotent', async () => {
    const store = await fresh().open();
    await store.close();
    await store.close();
  });

  it('refuses bad options with TypeError', async () => {
    const db = fresh();
    await expect(db.open({ poolSize: 0 })).rejects.toThrow(TypeError);
    await expect(db.open({ busyTimeoutMs: -1 })).rejects.toThrow(TypeError);
  });
});

describe('openStore on SQLite', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const d = mkdtempSync(join(tmpdir(), 'siprelay-open-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('creates missing directories, uses WAL, synchronous=FULL and enforces foreign keys', async () => {
    const path = join(tempDir(), 'a', 'b', 'relay.sqlite');
    const store = await openStore(`sqlite:${path}`);
    try {
      expect(existsSync(path)).toBe(true);
      const pragma = async (name: string) =>
        Object.values((await sql.raw<Record<string, unknown>>(`pragma ${name}`).execute(store.db)).rows[0])[0];
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('synchronous')).toBe(2); // 2 = FULL
      expect(await pragma('foreign_keys')).toBe(1);
    } finally {
      await store.close();
    }
  });

  it('accepts sqlite:// with an absolute path', async () => {
    const path = join(tempDir(), 'relay.sqlite');
    const store = await openStore(`sqlite://${path}`);
    await store.close();
    expect(existsSync(path)).toBe(true);
  });

  it('opens an in-memory database with sqlite::memory:', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      await store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'x' });
      expect(await store.subscribers.list()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('fails with STORE_ERR_CONNECT when the path cannot be a database', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), 'not a directory');
    expect(await storeErrorCode(openStore(`sqlite:${join(dir, 'file', 'relay.sqlite')}`))).toBe('STORE_ERR_CONNECT');
  });
});

describe('openStore on PostgreSQL', () => {
  const schemas: string[] = [];
  const schemaName = () => {
    const s = `test_${Math.random().toString(36).slice(2, 10)}`;
    schemas.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of schemas.splice(0)) await dropSchema(s);
  });

  it('keeps its tables in the given schema', async () => {
    const schema = schemaName();
    const store = await openStore(POSTGRES_URL, { schema });
    try {
      const { rows } = await sql<{ table_schema: string }>`
        select table_schema from information_schema.tables where table_name = 'subscribers' and table_schema = ${schema}`.execute(
        store.db,
      );
      expect(rows).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('takes the schema from ?schema= in the URL', async () => {
    const schema = schemaName();
    const store = await openStore(`${POSTGRES_URL}?schema=${schema}`);
    try {
      const { rows } = await sql<{ s: string }>`select current_schema() as s`.execute(store.db);
      expect(rows[0].s).toBe(schema);
    } finally {
      await store.close();
    }
  });

  it('reads 64-bit integers as numbers and refuses to lose precision', async () => {
    const store = await openStore(POSTGRES_URL, { schema: schemaName() });
    try {
      const ok = await sql<{ n: number }>`select 9007199254740991::bigint as n`.execute(store.db);
      expect(ok.rows[0].n).toBe(Number.MAX_SAFE_INTEGER);
      await expect(sql`select 9007199254740993::bigint as n`.execute(store.db)).rejects.toThrow(RangeError);
    } finally {
      await store.close();
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(openStore(POSTGRES_URL, { schema: 'x; drop table y' })).rejects.toThrow(TypeError);
  });

  it('fails with STORE_ERR_CONNECT, without the password, when the server cannot be reached', async () => {
    const err = await openStore('postgres://postgres:hunter2@127.0.0.1:1/test').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_ERR_CONNECT' });
    expect((err as Error).message).not.toContain('hunter2');
  });
});
