import type { StoreMigration } from '../store-migration.js';
import { columnTypes } from '../schema-conventions.js';

/**
 * What a relay needs to carry its sessions over a restart (issue 4 item 3,
 * docs/sessions.md): `relay_settings`, values made once and kept (the
 * Record-Route and nonce secrets when the configuration gives none), and
 * `session_dialogs`, a snapshot of each live session's dialog (Call-ID,
 * tags, both sides' addresses, Contacts, route set, flows, session-timer
 * terms) written with its answer and removed when it ends.
 */
export const migration: StoreMigration = {
  name: '0006-session-dialogs',
  async up(db) {
    await db.schema
      .createTable('relay_settings')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'text', (c) => c.notNull())
      .addColumn('created_at', columnTypes.instant, (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('session_dialogs')
      .addColumn('session_id', 'text', (c) => c.primaryKey())
      .addColumn('node_id', 'text', (c) => c.notNull())
      .addColumn('dialog', columnTypes.json, (c) => c.notNull())
      .addColumn('updated_at', columnTypes.instant, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('session_dialogs_node').on('session_dialogs').column('node_id').execute();
  },
};
