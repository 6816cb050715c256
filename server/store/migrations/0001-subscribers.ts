import type { StoreMigration } from '../store-migration.js';
import { columnTypes, flagCheck, identityPrimaryKey } from '../schema-conventions.js';

/** User accounts of the relay's SIP domains, with HA1 digests (never passwords). */
export const migration: StoreMigration = {
  name: '0001-subscribers',
  async up(db, dialect) {
    await db.schema
      .createTable('subscribers')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('domain', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('ha1_md5', 'text', (c) => c.notNull())
      .addColumn('ha1_sha256', 'text', (c) => c.notNull())
      .addColumn('plan', 'text')
      .addColumn('disabled', columnTypes.flag, (c) => c.notNull().defaultTo(0).check(flagCheck('disabled')))
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .addColumn('updated_at', columnTypes.instant, (c) => c.notNull())
      .addUniqueConstraint('subscribers_username_domain_key', ['username', 'domain'])
      .execute();
  },
};
