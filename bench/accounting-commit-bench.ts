/**
 * Durable accounting writes per second, with group commit and with one
 * transaction per write, on SQLite (WAL, synchronous=FULL, a temp file) and
 * on PostgreSQL (a scratch schema, synchronous_commit on):
 *
 * - session records: each session is an attempt, an answer, a start and an
 *   end (rated and posted to the ledger) — three durable writes the relay
 *   waits for, plus the attempt insert;
 * - charges: INFO charges on live sessions, each validated, credit-checked,
 *   stored once with its ledger postings.
 *
 *   npx tsx bench/accounting-commit-bench.ts [sessions=2000] [charges=4000] [concurrency=200]
 *
 * PostgreSQL: SIPRELAY_BENCH_POSTGRES_URL (default
 * postgres://postgres@127.0.0.1:5432/test); set it to `off` to skip.
 * Rates are wall-clock (the point is fsyncs, which CPU time does not see);
 * each figure is the best of 3 rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Accounting } from '../server/accounting/accounting.js';
import type { GroupCommitOptions } from '../server/accounting/group-committer.js';
import type { DialogMilestone } from '../server/relay-ports.js';
import { openStore, type OpenedStore } from '../server/store/open-store.js';
import { parseSipUriStrict } from '../sip/grammar/uri.js';

const [sessionsArg, chargesArg, concurrencyArg] = process.argv.slice(2);
const SESSIONS = Number(sessionsArg ?? 2000);
const CHARGES = Number(chargesArg ?? 4000);
const CONCURRENCY = Number(concurrencyArg ?? 200);
const POSTGRES = process.env.SIPRELAY_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const SERVICES = [
  { name: 'lesson', tariff: { id: 'lesson', currency: 'EUR', pricePerMinute: 120, increments: { first: 60, next: 60 }, relayFee: { basisPoints: 1000 } } },
  { name: 'wine', tariff: { relayFee: { basisPoints: 250 } } },
];

const MODES: { name: string; groupCommit: Omit<GroupCommitOptions, 'onError'> }[] = [
  { name: 'group commit (2 ms, ≤256)', groupCommit: { maxDelayMs: 2, maxBatch: 256 } },
  // What the relay runs on a SQLite file: the off-thread WAL sync groups the fsyncs, so no window.
  { name: 'group commit (no window, ≤256)', groupCommit: { maxDelayMs: 0, maxBatch: 256 } },
  { name: 'one transaction per write', groupCommit: { maxDelayMs: 0, maxBatch: 1 } },
];

let seq = 0;
function milestone(service: string, appServer: string): DialogMilestone {
  const sessionId = (++seq).toString(16).padStart(32, '0');
  return {
    sessionId,
    forkGroup: sessionId,
    callId: `bench-${sessionId}`,
    callerTag: 'a',
    calleeTag: 'b',
    party: { kind: 'subscriber', id: 1, username: 'alice', domain: 'portal.test' },
    service,
    target: { appServer, uri: parseSipUriStrict(`sip:${appServer}@127.0.0.1`), flowId: undefined, weight: 1, source: 'static', load: 0 },
  };
}

/** Runs `task(i)` for i < n with at most `concurrency` in flight. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

async function prepare(store: OpenedStore): Promise<void> {
  await store.appServers.add({ name: 'lesson-server', domain: 'portal.test', password: 'x', operator: 'acme' });
  await store.appServers.add({ name: 'wine-shop', domain: 'portal.test', password: 'x', operator: 'vino' });
  await store.subscribers.add({ username: 'alice', domain: 'portal.test', password: 'x' });
  await store.accounts.setUser('alice@portal.test', { mode: 'postpaid', currency: 'EUR', creditLimit: Number.MAX_SAFE_INTEGER });
}

interface Figures {
  sessionsPerSecond: number;
  writesPerSecond: number;
  chargesPerSecond: number;
  transactions: number;
  writes: number;
}

async function round(store: OpenedStore, groupCommit: (typeof MODES)[number]['groupCommit']): Promise<Figures> {
  let transactions = 0;
  let writes = 0;
  const accounting = new Accounting(store, {
    nodeId: 'bench',
    services: SERVICES,
    groupCommit: { ...groupCommit, onTransaction: (t) => ((transactions += 1), (writes += t.size)) },
  });
  const r = accounting.recorder;
  const t0 = performance.now();
  await pool(SESSIONS, CONCURRENCY, async () => {
    const m = milestone('lesson', 'lesson-server');
    r.attemptStarted({ ...m, requestedAt: Date.now() });
    await r.answered(m);
    await r.started(m);
    await r.ended(m, 'caller');
  });
  const sessionMs = performance.now() - t0;
  const sessionWrites = writes;

  const live = Array.from({ length: 50 }, () => milestone('wine', 'wine-shop'));
  for (const m of live) {
    r.attemptStarted({ ...m, requestedAt: Date.now() });
    await r.started(m);
  }
  const t1 = performance.now();
  await pool(CHARGES, CONCURRENCY, async (i) => {
    const m = live[i % live.length];
    const result = await accounting.charges.charge({
      sessionId: m.sessionId,
      appServer: 'wine-shop',
      body: { id: `b-${seq}-${i}`, items: [{ sku: 'W', description: 'Wine', unitPrice: 100, quantity: 1, currency: 'EUR' }] },
      route: 'info',
    });
    if (result.status !== 'accepted') throw new Error(`charge ${i}: ${JSON.stringify(result)}`);
  });
  const chargeMs = performance.now() - t1;
  await accounting.close();
  return {
    sessionsPerSecond: (SESSIONS / sessionMs) * 1000,
    writesPerSecond: (sessionWrites / sessionMs) * 1000,
    chargesPerSecond: (CHARGES / chargeMs) * 1000,
    transactions,
    writes,
  };
}

async function bench(name: string, open: () => Promise<OpenedStore>, dispose: () => Promise<void>): Promise<void> {
  const store = await open();
  try {
    await prepare(store);
    for (const mode of MODES) {
      let best: Figures | undefined;
      for (let i = 0; i < 3; i++) {
        const f = await round(store, mode.groupCommit);
        if (!best || f.sessionsPerSecond + f.chargesPerSecond > best.sessionsPerSecond + best.chargesPerSecond) best = f;
      }
      const b = best!;
      console.log(
        `${name.padEnd(10)} ${mode.name.padEnd(30)} ${b.sessionsPerSecond.toFixed(0).padStart(6)} sessions/s ` +
          `(${b.writesPerSecond.toFixed(0).padStart(6)} writes/s)  ${b.chargesPerSecond.toFixed(0).padStart(6)} charges/s  ` +
          `${(b.writes / b.transactions).toFixed(1).padStart(6)} writes per transaction`,
      );
    }
  } finally {
    await store.close();
    await dispose();
  }
}

console.log(`${SESSIONS} sessions (4 writes each, 3 awaited), ${CHARGES} charges, ${CONCURRENCY} in flight; best of 3`);
const dir = mkdtempSync(join(tmpdir(), 'siprelay-bench-'));
await bench(
  'SQLite',
  () => openStore(`sqlite:${join(dir, 'bench.sqlite')}`),
  async () => rmSync(dir, { recursive: true, force: true }),
);
if (POSTGRES !== 'off') {
  const schema = `bench_${Date.now().toString(36)}`;
  await bench(
    'PostgreSQL',
    () => openStore(POSTGRES, { schema }),
    async () => {
      const c = new pg.Client({ connectionString: POSTGRES });
      await c.connect();
      await c.query(`drop schema if exists "${schema}" cascade`);
      await c.end();
    },
  );
}
