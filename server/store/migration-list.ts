import type { StoreMigration } from './store-migration.js';
import { migration as m0001 } from './migrations/0001-subscribers.js';
import { migration as m0002 } from './migrations/0002-app-servers-and-services.js';
import { migration as m0003 } from './migrations/0003-api-keys.js';
import { migration as m0004 } from './migrations/0004-signing-keys.js';
import { migration as m0005 } from './migrations/0005-accounting.js';
import { migration as m0006 } from './migrations/0006-session-dialogs.js';
import { migration as m0007 } from './migrations/0007-sessions-billed-index.js';

/**
 * Every migration of the store, oldest first. To change the schema, add a
 * file `migrations/NNNN-name.ts` with the next number and append it here;
 * never edit or reorder a released entry (the runner refuses a database
 * whose history does not match the head of this list).
 */
export const storeMigrations: readonly StoreMigration[] = [m0001, m0002, m0003, m0004, m0005, m0006, m0007];
