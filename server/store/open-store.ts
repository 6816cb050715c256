import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type SqliteDatabase, type SqliteStatement } from 'kysely';
import pg from 'pg';
import { systemClock, type Clock } from '../../sip/util/clock.js';
import type { Database } from './database.js';
import { parseDatabaseUrl, redactDatabaseUrl } from './database-url.js';
import { storeMigrations } from './migration-list.js';
import type { MigrationReport } from './run-migrations.js';
import { SqliteWalSync } from './sqlite-wal-sync.js';
import { Store } from './store.js';
import { isStoreError, storeError } from './store-error.js';
import type { StoreMigration } from './store-migration.js';

/** Options of {@link openStore}. Every one has a default. */
export interface OpenStoreOptions {
  /**
   * PostgreSQL schema that holds the tables; created when missing. Default
   * the URL's `?schema=` or `public`. Ignored for SQLite.
   */
  schema?: string;
  /** Stamps stored instants. Default the system clock. */
  clock?: Pick<Clock, 'wallNow'>;
  /** Apply pending migrations at open. Default true. */
  migrate?: boolean;
  /** The migration list; tests extend it. Default every migration of this version. */
  migrations?: readonly StoreMigration[];
  /** Most PostgreSQL connections held at once. Default 10. */
  poolSize?: number;
  /** How long SQLite waits for another process's write lock, in ms. Default 5000. */
  busyTimeoutMs?: number;
  /**
   * Told about errors of idle PostgreSQL connections (server restart,
   * network loss), which would otherwise crash the process. The pool
   * replaces the connection. Default: ignore.
   */
  onBackgroundError?: (error: Error) => void;
}

/** A store that has been opened, with what its migration run did. */
export interface OpenedStore extends Store {
  /** Empty when `migrate: false`. */
  readonly migrationReport: MigrationReport;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const PG_INT8_OID = 20;

/**
 * Opens the store at `url` (see {@link parseDatabaseUrl}) and, unless told
 * not to, brings its schema up to date.
 *
 * SQLite runs in WAL mode with `synchronous=FULL`: a transaction is on disk
 * when its commit returns, so whatever the relay acknowledges after a write
 * survives a crash or power loss ("store first, then answer"). The file's
 * directory is created when missing. Foreign keys are enforced.
 *
 * PostgreSQL 64-bit integers are read as JS numbers, and reading one outside
 * ±(2^53−1) throws rather than silently losing precision.
 *
 * @throws TypeError for bad options.
 * @throws StoreError `STORE_ERR_URL`, `STORE_ERR_CONNECT`, `STORE_ERR_MIGRATION`,
 * `STORE_ERR_SCHEMA_NEWER`.
 */
export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<OpenedStore> {
  const poolSize = options.poolSize ?? 10;
  if (!Number.isInteger(poolSize) || poolSize < 1) throw new TypeError('poolSize must be an integer >= 1');
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) throw new TypeError('busyTimeoutMs must be an integer >= 0');
  const clock = options.clock ?? systemClock;
  const migrations = options.migrations ?? storeMigrations;

  const location = parseDatabaseUrl(url);
  let store: Store;
  if (location.dialect === 'sqlite') {
    let database: BetterSqlite3.Database;
    try {
      if (location.path !== ':memory:') mkdirSync(dirname(location.path), { recursive: true });
      database = new BetterSqlite3(location.path);
      database.pragma(`busy_timeout = ${busyTimeoutMs}`);
      database.pragma('journal_mode = WAL');
      database.pragma('synchronous = FULL');
      database.pragma('foreign_keys = ON');
    } catch (e) {
      throw storeError('STORE_ERR_CONNECT', `cannot open SQLite database ${location.path}: ${messageOf(e)}`, e);
    }
    const walSync = location.path === ':memory:' ? undefined : new SqliteWalSync(location.path);
    store = new Store(
      new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(database, STATEMENT_CACHE_SIZE) }) }),
      'sqlite',
      clock,
      migrations,
      walSync,
    );
  } else {
    const schema = options.schema ?? location.schema ?? 'public';
    if (!SCHEMA_NAME.test(schema)) {
      throw new TypeError(`schema "${schema}" must be a lower-case SQL identifier ([a-z_][a-z0-9_]*)`);
    }
    const pool = new pg.Pool({
      connectionString: location.connectionString,
      max: poolSize,
      // Every connection resolves unqualified names in the store's schema.
      options: `-c search_path=${schema}`,
      types: { getTypeParser: typeParser },
    });
    pool.on('error', (e) => options.onBackgroundError?.(e));
    store = new Store(new Kysely<Database>({ dialect: new PostgresDialect({ pool }) }), 'postgres', clock, migrations);
    try {
      await sql`select 1`.execute(store.db);
    } catch (e) {
      await store.close().catch(() => undefined);
      throw storeError('STORE_ERR_CONNECT', `cannot connect to ${redactDatabaseUrl(url)}: ${messageOf(e)}`, e);
    }
    try {
      await ensureSchema(store, schema);
    } catch (e) {
      await store.close().catch(() => undefined);
      throw storeError('STORE_ERR_CONNECT', `cannot create schema ${schema}: ${messageOf(e)}`, e);
    }
  }

  let migrationReport: MigrationReport = { applied: [], alreadyApplied: [] };
  if (options.migrate !== false) {
    try {
      migrationReport = await store.migrate();
    } catch (e) {
      await store.close().catch(() => undefined);
      if (isStoreError(e)) throw e;
      throw storeError('STORE_ERR_MIGRATION', `cannot migrate ${redactDatabaseUrl(url)}: ${messageOf(e)}`, e);
    }
  }
  return Object.assign(store, { migrationReport });
}

/** Prepared statements kept per SQLite connection (distinct query shapes; the relay has a few dozen). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The SQLite connection as Kysely sees it, with prepared statements reused
 * by SQL text: Kysely prepares every query anew, and preparing (parsing and
 * planning the SQL) cost more than running the statement in the relay's
 * profile. Least recently used shapes give way beyond `max`. A statement
 * still being iterated (a streamed select) is not handed out twice.
 */
function withStatementCache(database: BetterSqlite3.Database, max: number): SqliteDatabase {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => {
      cache.clear();
      database.close();
    },
    prepare(sqlText: string): SqliteStatement {
      const cached = cache.get(sqlText);
      if (cached !== undefined && !cached.busy) {
        cache.delete(sqlText);
        cache.set(sqlText, cached);
        return cached as unknown as SqliteStatement;
      }
      const statement = database.prepare(sqlText);
      cache.set(sqlText, statement);
      if (cache.size > max) cache.delete(cache.keys().next().value as string);
      return statement as unknown as SqliteStatement;
    },
  };
}

async function ensureSchema(store: Store, schema: string): Promise<void> {
  const exists = async () =>
    (await sql<{ n: number }>`select 1 as n from information_schema.schemata where schema_name = ${schema}`.execute(store.db))
      .rows.length > 0;
  if (await exists()) return;
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(store.db);
  } catch (e) {
    // Two nodes creating it at once: IF NOT EXISTS can still fail on PostgreSQL.
    if (!(await exists())) throw e;
  }
}

function typeParser(oid: number, format?: string): (value: string) => unknown {
  if (oid === PG_INT8_OID && format !== 'binary') return parseInt8;
  // any: pg's overloads return different parser types per format.
  return pg.types.getTypeParser(oid, format as any) as (value: string) => unknown;
}

function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`64-bit integer ${value} is outside the safe range of a JS number`);
  return n;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
