import { sql } from 'kysely';
import type { StoreMigration } from '../store-migration.js';
import { columnTypes, flagCheck, identityPrimaryKey } from '../schema-conventions.js';

/** Application-server accounts, the services they provide, and the services table. */
export const migration: StoreMigration = {
  name: '0002-app-servers-and-services',
  async up(db, dialect) {
    await db.schema
      .createTable('app_servers')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('domain', 'text', (c) => c.notNull())
      .addColumn('display_name', 'text')
      .addColumn('operator', 'text', (c) => c.notNull())
      .addColumn('ha1_md5', 'text', (c) => c.notNull())
      .addColumn('ha1_sha256', 'text', (c) => c.notNull())
      .addColumn('disabled', columnTypes.flag, (c) => c.notNull().defaultTo(0).check(flagCheck('disabled')))
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .addColumn('updated_at', columnTypes.instant, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('services')
      .addColumn('id', 'integer', identityPrimaryKey(dialect))
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('fork_mode', 'text', (c) =>
        c.notNull().defaultTo('race').check(sql`fork_mode in ('balance', 'race', 'all')`),
      )
      .addColumn('allow_no_cancel', columnTypes.flag, (c) =>
        c.notNull().defaultTo(0).check(flagCheck('allow_no_cancel')),
      )
      .addColumn('max_duration_seconds', 'integer', (c) => c.check(sql`max_duration_seconds > 0`))
      .addColumn('max_sessions', 'integer', (c) => c.check(sql`max_sessions > 0`))
      .addColumn('session_timer_seconds', 'integer', (c) => c.check(sql`session_timer_seconds > 0`))
      .addColumn('tariff', columnTypes.json)
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .addColumn('updated_at', columnTypes.instant, (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('app_server_services')
      .addColumn('app_server_id', 'integer', (c) => c.notNull().references('app_servers.id').onDelete('cascade'))
      // RESTRICT: a service still provided by someone cannot vanish silently.
      .addColumn('service_id', 'integer', (c) => c.notNull().references('services.id').onDelete('restrict'))
      .addColumn('weight', 'integer', (c) => c.notNull().defaultTo(1).check(sql`weight >= 1`))
      .addColumn('target_uri', 'text')
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .addPrimaryKeyConstraint('app_server_services_pkey', ['app_server_id', 'service_id'])
      .execute();

    await db.schema
      .createIndex('app_server_services_service_id_idx')
      .on('app_server_services')
      .column('service_id')
      .execute();
  },
};
