import { sql, type Kysely } from 'kysely';
import type { StoreDialect } from './database-url.js';
import type { StoreMigration } from './store-migration.js';
import { isStoreError, storeError } from './store-error.js';

/** What a migration run did. */
export interface MigrationReport {
  /** Names applied by this run, in order. */
  readonly applied: readonly string[];
  /** Names that were already applied before this run. */
  readonly alreadyApplied: readonly string[];
}

/** The table that records applied migrations. */
export const MIGRATIONS_TABLE = 'siprelay_migrations';

const NAME = /^\d{4}-[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Brings the schema up to the end of `migrations`.
 *
 * All pending migrations run in one transaction that first takes a lock, so
 * that several relays (or a relay and the CLI) starting together apply each
 * migration once and a failure leaves the schema as it was: on PostgreSQL a
 * transaction-scoped advisory lock keyed by the schema name, on SQLite
 * `BEGIN IMMEDIATE` (the database's single write lock, waited for up to the
 * busy timeout). Both dialects run DDL inside transactions.
 *
 * The database's history must be a prefix of `migrations`; anything else
 * means a newer or different siprelay migrated it, and the run refuses.
 *
 * @param wallNow Clock for the `applied_at` instants (epoch ms).
 * @throws TypeError when `migrations` is not a well-formed ordered list.
 * @throws StoreError `STORE_ERR_SCHEMA_NEWER` or `STORE_ERR_MIGRATION`.
 */
export async function runMigrations(
  // any: the migrations table and every migration work below the typed schema.
  db: Kysely<any>,
  dialect: StoreDialect,
  migrations: readonly StoreMigration[],
  wallNow: () => number,
): Promise<MigrationReport> {
  checkMigrationList(migrations);
  return db.connection().execute(async (conn) => {
    await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    let current = '(bookkeeping)';
    try {
      if (dialect === 'postgres') {
        await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.' || ${MIGRATIONS_TABLE}))`.execute(conn);
      }
      await conn.schema
        .createTable(MIGRATIONS_TABLE)
        .ifNotExists()
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('applied_at', 'bigint', (c) => c.notNull())
        .execute();
      const rows = await conn.selectFrom(MIGRATIONS_TABLE).select('name').orderBy('name').execute();
      const done = rows.map((r) => String(r.name));
      const known = new Set(migrations.map((m) => m.name));
      const unknown = done.filter((n) => !known.has(n));
      if (unknown.length > 0) {
        throw storeError(
          'STORE_ERR_SCHEMA_NEWER',
          `the database was migrated by another version of siprelay: migration ${unknown.join(', ')} is unknown to this version (it knows up to ${migrations.at(-1)?.name ?? 'none'})`,
        );
      }
      for (let i = 0; i < done.length; i++) {
        if (done[i] !== migrations[i].name) {
          throw storeError(
            'STORE_ERR_SCHEMA_NEWER',
            `the database's migration history (${done.join(', ')}) does not match this version's (${migrations.map((m) => m.name).join(', ')})`,
          );
        }
      }
      const applied: string[] = [];
      for (const m of migrations.slice(done.length)) {
        current = m.name;
        await m.up(conn, dialect);
        await conn.insertInto(MIGRATIONS_TABLE).values({ name: m.name, applied_at: wallNow() }).execute();
        applied.push(m.name);
      }
      await sql.raw('commit').execute(conn);
      return { applied, alreadyApplied: done };
    } catch (e) {
      await sql.raw('rollback').execute(conn).catch(() => undefined);
      if (isStoreError(e)) throw e;
      const detail = e instanceof Error ? e.message : String(e);
      throw storeError('STORE_ERR_MIGRATION', `migration ${current} failed, nothing was applied: ${detail}`, e);
    }
  });
}

function checkMigrationList(migrations: readonly StoreMigration[]): void {
  let previous = '';
  for (const m of migrations) {
    if (!NAME.test(m.name)) throw new TypeError(`migration name "${m.name}" is not NNNN-kebab-name`);
    if (m.name <= previous) throw new TypeError(`migration "${m.name}" is out of order after "${previous}"`);
    previous = m.name;
  }
}
