import { sql } from 'kysely';
import type { StoreMigration } from '../store-migration.js';
import { columnTypes, identityPrimaryKey } from '../schema-conventions.js';

/** HTTP API keys of application servers and admins, stored as SHA-256 hashes. */
export const migration: StoreMigration = {
  name: '0003-api-keys',
  async up(db, dialect) {
    await db.schema
      .createTable('api_keys')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      .addColumn('prefix', 'text', (c) => c.notNull())
      .addColumn('key_hash', 'text', (c) => c.notNull().unique())
      .addColumn('owner_kind', 'text', (c) => c.notNull().check(sql`owner_kind in ('app-server', 'admin')`))
      .addColumn('app_server_id', 'integer', (c) => c.references('app_servers.id').onDelete('cascade'))
      .addColumn('label', 'text')
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .addColumn('revoked_at', columnTypes.instant)
      .addCheckConstraint(
        'api_keys_owner_check',
        sql`(owner_kind = 'app-server' and app_server_id is not null) or (owner_kind = 'admin' and app_server_id is null)`,
      )
      .execute();

    await db.schema.createIndex('api_keys_prefix_idx').on('api_keys').column('prefix').execute();
    await db.schema.createIndex('api_keys_app_server_id_idx').on('api_keys').column('app_server_id').execute();
  },
};
