// Opens a store in its own process and prints the migration report as JSON:
// `node --import tsx open-store-child.ts <url> [schema]`. Used by
// open-store.test.ts to open one database from two processes at once.
import { openStore } from '../../../server/store/open-store.js';

const [url, schema] = process.argv.slice(2);
openStore(url, schema ? { schema } : {}).then(
  async (store) => {
    process.stdout.write(JSON.stringify(store.migrationReport));
    await store.close();
  },
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`);
    process.exitCode = 1;
  },
);
