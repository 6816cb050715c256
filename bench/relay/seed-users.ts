/**
 * Creates the benchmark's subscribers in a relay store, like the Kamailio
 * harness's `setup-db.sh` does for Kamailio: `user0000`… with one password
 * in one domain, and writes the matching SIPp injection file.
 *
 *   node dist/bench/relay/seed-users.js <database-url> <users.csv> [users=1000] [password=secret] [domain=portal.test]
 *
 * Idempotent: users that exist are left as they are.
 */
import { writeFileSync } from 'node:fs';
import { openStore } from '../../server/store/open-store.js';

async function main(): Promise<void> {
  const [url, csv, count = '1000', password = 'secret', domain = 'portal.test'] = process.argv.slice(2);
  if (!url || !csv) throw new Error('usage: seed-users <database-url> <users.csv> [users] [password] [domain]');
  const users = Number(count);
  const store = await openStore(url);
  try {
    const existing = new Set((await store.subscribers.list({ domain })).map((s) => s.username));
    const rows = ['SEQUENTIAL'];
    for (let i = 0; i < users; i++) {
      const username = `user${String(i).padStart(4, '0')}`;
      if (!existing.has(username)) await store.subscribers.add({ username, domain, password });
      rows.push(`${username};${domain};${password}`);
    }
    writeFileSync(csv, rows.join('\n') + '\n');
    console.log(`${users} users in ${domain} (${users - existing.size > 0 ? users - existing.size : 0} created), ${csv} written`);
  } finally {
    await store.close();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
