import type { Kysely } from 'kysely';
import type { StoreDialect } from './database-url.js';

/**
 * One step of the schema's history. Migrations run in the order of their
 * names (`NNNN-what-it-does`), each exactly once per database, inside one
 * transaction with the others of the same run. A migration must never be
 * edited once released: a change is a new migration appended to the list.
 *
 * Write each migration once for both dialects with Kysely's schema builder
 * and the column conventions of `schema-conventions.ts`; branch on `dialect`
 * only where SQL itself differs (identity columns).
 */
export interface StoreMigration {
  /** `NNNN-kebab-name`, e.g. `0001-subscribers`; also the file name. */
  readonly name: string;
  /**
   * Applies the change. `db` is bound to the migration's transaction.
   * Typed `Kysely<any>` on purpose: a migration sees the schema as it was
   * when it was written, not the newest `Database` interface.
   */
  up(db: Kysely<any>, dialect: StoreDialect): Promise<void>;
}
