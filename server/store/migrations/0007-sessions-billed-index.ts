import { sql } from 'kysely';
import type { StoreMigration } from '../store-migration.js';

/**
 * The users to bill for a period (`SessionRepository.usersWithSessions`)
 * read every session ever kept: no index started with `ended_at`. A
 * partial index of rated sessions by end instant makes that a range scan
 * of the period (bench/billing-bench.ts, docs/performance.md). Partial,
 * so attempts and live sessions — most of the relay's writes — do not
 * touch it; a session enters it once, when it is closed and rated.
 */
export const migration: StoreMigration = {
  name: '0007-sessions-billed-index',
  async up(db) {
    await db.schema
      .createIndex('sessions_billed_idx')
      .on('sessions')
      .columns(['ended_at', 'user_id'])
      .where(sql.ref('rating'), 'is not', null)
      .execute();
  },
};
