import { sql, type Kysely } from 'kysely';
import type { Database } from './database.js';
import type { StoreDialect } from './database-url.js';

/**
 * Runs `fn` in one read-write transaction on one connection and commits.
 *
 * SQLite gets `BEGIN IMMEDIATE`: the write lock is taken at the start, so a
 * transaction that reads before it writes cannot fail half-way with
 * `SQLITE_BUSY` because another process (the CLI) wrote in between; it
 * waits up to the busy timeout instead. PostgreSQL gets a plain `BEGIN`
 * (READ COMMITTED); code that must serialise on a row locks it with
 * `SELECT … FOR UPDATE`.
 *
 * `fn` must use only the executor it is given: on SQLite the store has one
 * connection, and a query on the store's own `db` inside `fn` would wait
 * for the very transaction that waits for it.
 */
export async function writeTransaction<T>(
  db: Kysely<Database>,
  dialect: StoreDialect,
  fn: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    await sql.raw(dialect === 'sqlite' ? 'begin immediate' : 'begin').execute(conn);
    let result: T;
    try {
      result = await fn(conn);
    } catch (e) {
      await sql.raw('rollback').execute(conn).catch(() => undefined);
      throw e;
    }
    await sql.raw('commit').execute(conn);
    return result;
  });
}
