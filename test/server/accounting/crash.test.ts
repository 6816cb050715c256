import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounting } from '../../../server/accounting/accounting.js';
import { isBalanced } from '../../../server/billing/ledger.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { backends, scratchDatabase, type ScratchDatabase } from '../store/store-backends.js';
import { seed, TEST_SERVICES } from './accounting-fixture.js';

/** Runs crash-child.ts until it has acknowledged `acks` charges, then kills it with SIGKILL. */
async function runAndKill(db: ScratchDatabase, acks: number): Promise<{ acknowledged: string[]; ended: string[] }> {
  const script = fileURLToPath(new URL('./crash-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, db.url, db.schema ?? ''], { stdio: ['ignore', 'pipe', 'pipe'] });
  const acknowledged: string[] = [];
  const ended: string[] = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let buffer = '';
  await new Promise<void>((resolve, reject) => {
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${stderr}`))));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        if (line.startsWith('ack ')) acknowledged.push(line.slice(4));
        else if (line.startsWith('ended ')) ended.push(line.slice(6));
        if (acknowledged.length === acks) child.kill('SIGKILL');
      }
    });
  });
  return { acknowledged, ended };
}

describe.each(backends)('a relay killed with SIGKILL during live sessions and charges, on $name', ({ kind }) => {
  let scratch: ScratchDatabase;
  let store: OpenedStore;
  beforeEach(async () => {
    scratch = scratchDatabase(kind);
    const seeding = await scratch.open();
    await seed(seeding);
    await seeding.accounts.setUser('bob@portal.test', { mode: 'postpaid', currency: 'EUR', creditLimit: 1_000_000_000 });
    await seeding.close();
  });
  afterEach(async () => {
    await store?.close();
    await scratch.dispose();
  });

  it('keeps every acknowledged charge exactly once, ends every session with a reason, and bills what the ledger says', async () => {
    const { acknowledged, ended } = await runAndKill(scratch, 400);
    store = await scratch.open();
    const stored = await store.charges.list({ limit: 10_000 });
    const keys = stored.map((c) => c.idempotencyKey);
    expect(new Set(keys).size).toBe(keys.length);
    for (const id of acknowledged) expect(keys).toContain(id);
    for (const s of ended) expect((await store.sessions.get(s))?.state).toBe('ended');

    const accounting = new Accounting(store, { nodeId: 'node-restarted', services: TEST_SERVICES });
    await accounting.recovery.interruptAllExcept('node-crash');
    const sessions = await store.sessions.list({ limit: 1000 });
    expect(sessions).toHaveLength(50);
    expect(sessions.every((s) => s.state === 'ended' && s.endedBy !== null)).toBe(true);
    const period = { start: 0, end: Number.MAX_SAFE_INTEGER };
    expect(isBalanced(await store.ledger.inPeriod(period))).toBe(true);
    const now = new Date();
    const label = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    expect(await accounting.reports.billMatchesLedger('bob@portal.test', label)).toBe(true);
    // The user's balance moved by exactly what the ledger holds against them.
    const spent = (await store.ledger.balance('user:bob@portal.test'))[0]?.amount ?? 0;
    expect((await store.accounts.findUser('bob@portal.test'))?.balance).toBe(-spent);
    await accounting.close();
  }, 60_000);
});
