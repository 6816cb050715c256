import { sql } from 'kysely';
import type { StoreMigration } from '../store-migration.js';
import { columnTypes } from '../schema-conventions.js';

/** The relay's JWT signing keys, kept so that every node signs with the same key. */
export const migration: StoreMigration = {
  name: '0004-signing-keys',
  async up(db) {
    await db.schema
      .createTable('signing_keys')
      .addColumn('kid', 'text', (c) => c.primaryKey())
      .addColumn('algorithm', 'text', (c) => c.notNull().check(sql`algorithm in ('EdDSA', 'ES256')`))
      .addColumn('private_jwk', columnTypes.json, (c) => c.notNull())
      .addColumn('public_jwk', columnTypes.json, (c) => c.notNull())
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .addColumn('activated_at', columnTypes.instant)
      .addColumn('retired_at', columnTypes.instant)
      .execute();
  },
};
