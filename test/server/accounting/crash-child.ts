// A relay's accounting in its own process, to be killed with SIGKILL:
// `node --import tsx crash-child.ts <url> [schema]`. It establishes 50
// sessions for bob, then charges them in a stream, printing `ack <id>` for
// each charge once the charge service has answered (= acknowledged), and
// `ended <session>` for each session it ends. Used by crash.test.ts.
import { Accounting } from '../../../server/accounting/accounting.js';
import { openStore } from '../../../server/store/open-store.js';
import { establish, milestone, TEST_SERVICES } from './accounting-fixture.js';

const [url, schema] = process.argv.slice(2);
const store = await openStore(url, schema ? { schema } : {});
const accounting = new Accounting(store, { nodeId: 'node-crash', services: TEST_SERVICES, aliveFlushMs: 50 });
const out = (line: string) => process.stdout.write(line + '\n');

const sessions = Array.from({ length: 50 }, (_, i) =>
  milestone({ sessionId: `crash-${String(i).padStart(26, '0')}`, user: 'bob', service: i % 2 ? 'lesson' : 'wine', appServer: i % 2 ? 'lesson-server' : 'wine-shop' }),
);
await Promise.all(sessions.map((m) => establish(accounting, m)));
out('established');

let n = 0;
async function stream(): Promise<void> {
  for (;;) {
    const i = n++;
    const m = sessions[i % sessions.length];
    if (i % 97 === 96) {
      await accounting.recorder.ended(m, 'caller');
      out(`ended ${m.sessionId}`);
      continue;
    }
    accounting.recorder.alive(m.sessionId);
    const r = await accounting.charges.charge({
      sessionId: m.sessionId,
      appServer: m.target.appServer,
      body: { id: `c-${i}`, items: [{ sku: 'X', description: 'Item', unitPrice: 1 + (i % 7), quantity: 1, currency: 'EUR' }] },
      route: 'info',
    });
    if (r.status !== 'refused') out(`ack c-${i}`);
  }
}
await Promise.all(Array.from({ length: 16 }, stream));
