import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommitter, type GroupCommitTransaction, type TransactionWork } from '../../../server/accounting/group-committer.js';
import { isAccountingError } from '../../../server/accounting/accounting-error.js';
import type { LedgerEntry } from '../../../server/billing/ledger.js';
import { LedgerRepository } from '../../../server/store/ledger-repository.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { backends, scratchDatabase, type ScratchDatabase } from '../store/store-backends.js';
import { observe, sqliteCounter } from './accounting-fixture.js';

function entry(ref: string): LedgerEntry {
  return { account: 'user:alice@portal.test', side: 'debit', amount: 1, currency: 'EUR', kind: 'gross', reference: { type: 'charge', id: ref }, at: 0 };
}

describe.each(backends)('GroupCommitter on $name', ({ kind }) => {
  let scratch: ScratchDatabase;
  let store: OpenedStore;
  beforeEach(async () => {
    scratch = scratchDatabase(kind);
    store = await scratch.open();
  });
  afterEach(async () => {
    await store.close();
    await scratch.dispose();
  });

  const insert =
    (ref: string): TransactionWork<void> =>
    (trx) =>
      new LedgerRepository(trx).insert([entry(ref)]);

  it('runs many concurrent writes in few transactions', async () => {
    const transactions: GroupCommitTransaction[] = [];
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 2, onTransaction: (t) => transactions.push(t) });
    await Promise.all(Array.from({ length: 300 }, (_, i) => committer.run(insert(String(i)))));
    expect(await store.ledger.forAccount('user:alice@portal.test')).toHaveLength(300);
    expect(committer.stats).toMatchObject({ writes: 300, queued: 0 });
    expect(transactions.length).toBeLessThanOrEqual(10);
    expect(transactions.every((t) => t.committed && !t.retry)).toBe(true);
  });

  it('resolves a write only once its transaction has committed, as a second connection sees', async () => {
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 1, maxBatch: 16 });
    if (kind === 'sqlite') {
      // better-sqlite3 reads synchronously: at the instant the promise resolves the row must be there.
      const other = sqliteCounter(scratch);
      try {
        const seen = await Promise.all(
          Array.from({ length: 100 }, (_, i) => committer.run(insert(`r${i}`)).then(() => other.count('ledger_entries', `ref_id = 'r${i}'`))),
        );
        expect(seen).toEqual(Array(100).fill(1));
      } finally {
        other.close();
      }
    } else {
      const events: string[] = [];
      const logged = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 1, maxBatch: 16, onTransaction: (t) => events.push(`commit ${t.size}`) });
      const other = await observe(scratch);
      try {
        await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            logged.run(insert(`r${i}`)).then(async () => {
              events.push('resolve');
              expect(await other.count('ledger_entries', `ref_id = 'r${i}'`)).toBe(1);
            }),
          ),
        );
      } finally {
        await other.close();
      }
      // Every resolve follows the report of a committed transaction that held enough writes.
      let committed = 0;
      let resolved = 0;
      for (const e of events) {
        if (e === 'resolve') expect(++resolved).toBeLessThanOrEqual(committed);
        else committed += Number(e.split(' ')[1]);
      }
      expect(resolved).toBe(100);
    }
    await committer.close();
  });

  it('fails only the bad write of a batch: the others are retried alone and committed', async () => {
    const transactions: GroupCommitTransaction[] = [];
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 5, onTransaction: (t) => transactions.push(t) });
    const results = await Promise.allSettled([
      committer.run(insert('a')),
      committer.run(async (trx) => {
        await new LedgerRepository(trx).insert([{ ...entry('bad'), amount: -1 }]);
      }),
      committer.run(insert('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((await store.ledger.forAccount('user:alice@portal.test')).map((e) => e.reference.id)).toEqual(['a', 'b']);
    expect(transactions[0]).toMatchObject({ size: 3, committed: false, retry: false });
    expect(transactions.slice(1).map((t) => [t.committed, t.retry])).toEqual([[true, true], [false, true], [true, true]]);
    expect(committer.stats.failedBatches).toBe(1);
  });

  it('with maxBatch 1 commits every write in its own transaction', async () => {
    const committer = new GroupCommitter(store.db, store.dialect, { maxBatch: 1, maxDelayMs: 0 });
    await Promise.all(Array.from({ length: 20 }, (_, i) => committer.run(insert(String(i)))));
    expect(committer.stats.transactions).toBe(20);
  });

  it('commits what is queued on close, then refuses writes with ACCT_ERR_CLOSED', async () => {
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 50 });
    const pending = committer.run(insert('last'));
    await committer.close();
    await pending;
    expect(await store.ledger.forReference({ type: 'charge', id: 'last' })).toHaveLength(1);
    const refused = await committer.run(insert('late')).catch((e: unknown) => e);
    expect(isAccountingError(refused, 'ACCT_ERR_CLOSED')).toBe(true);
  });

  it(kind === 'postgres' ? 'runs up to maxConcurrentTransactions transactions at once' : 'runs one transaction at a time on SQLite', async () => {
    const committer = new GroupCommitter(store.db, store.dialect, { maxBatch: 2, maxDelayMs: 0, maxConcurrentTransactions: 3 });
    let inFlight = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        committer.run(async (trx) => {
          inFlight++;
          most = Math.max(most, inFlight);
          await new Promise((r) => setTimeout(r, 10));
          await new LedgerRepository(trx).insert([entry(String(i))]);
          inFlight--;
        }),
      ),
    );
    expect(most).toBe(kind === 'postgres' ? 3 : 1);
    expect(await store.ledger.forAccount('user:alice@portal.test')).toHaveLength(12);
  });

  it('reports a failed post to onError', async () => {
    const errors: unknown[] = [];
    const committer = new GroupCommitter(store.db, store.dialect, { onError: (e) => errors.push(e) });
    committer.post(async () => {
      throw new Error('boom');
    });
    await committer.flush();
    expect(errors).toHaveLength(1);
  });
});

describe('GroupCommitter with an off-thread WAL sync (SQLite)', () => {
  let scratch: ScratchDatabase;
  let store: OpenedStore;
  beforeEach(async () => {
    scratch = scratchDatabase('sqlite');
    store = await scratch.open();
  });
  afterEach(async () => {
    await store.close();
    await scratch.dispose();
  });

  /** A WAL sync the test completes by hand. */
  function manualSync() {
    const pending: Array<{ resolve: () => void; reject: (e: unknown) => void }> = [];
    return {
      pending,
      sync: () => new Promise<void>((resolve, reject) => pending.push({ resolve, reject })),
    };
  }
  const insert =
    (ref: string): TransactionWork<void> =>
    (trx) =>
      new LedgerRepository(trx).insert([entry(ref)]);

  it('resolves writes only after the sync that follows their commit, and runs the next batch meanwhile', async () => {
    const walSync = manualSync();
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 0, maxBatch: 2, walSync });
    const resolved: string[] = [];
    const writes = ['a', 'b', 'c'].map((r) => committer.run(insert(r)).then(() => resolved.push(r)));
    await until(() => walSync.pending.length === 2);
    // Both batches are committed (a second connection sees them) while neither is acknowledged.
    const other = sqliteCounter(scratch);
    try {
      expect(other.count('ledger_entries', '1 = 1')).toBe(3);
    } finally {
      other.close();
    }
    expect(resolved).toEqual([]);
    walSync.pending[0].resolve();
    await until(() => resolved.length === 2);
    expect(resolved).toEqual(['a', 'b']);
    walSync.pending[1].resolve();
    await Promise.all(writes);
    expect(resolved).toEqual(['a', 'b', 'c']);
  });

  it('reports how long each write waited until it was durable, the sync included (onDurable)', async () => {
    const walSync = manualSync();
    const waited: number[] = [];
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 0, walSync, onDurable: (ms) => waited.push(ms) });
    const write = committer.run(insert('w'));
    await until(() => walSync.pending.length === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(waited).toEqual([]); // committed, not yet durable
    walSync.pending[0].resolve();
    await write;
    expect(waited).toHaveLength(1);
    expect(waited[0]).toBeGreaterThanOrEqual(25);
  });

  it('resolves a runCommitted write at its commit, before the sync, and a run write of the same batch only after it', async () => {
    const walSync = manualSync();
    const waited: number[] = [];
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 0, walSync, onDurable: (ms) => waited.push(ms) });
    const resolved: string[] = [];
    const answer = committer.runCommitted(insert('answer')).then(() => resolved.push('answer'));
    const start = committer.run(insert('start')).then(() => resolved.push('start'));
    await until(() => walSync.pending.length === 1);
    await answer;
    expect(resolved).toEqual(['answer']);
    expect(waited).toHaveLength(1); // the committed write is reported when it resolves
    const other = sqliteCounter(scratch);
    try {
      expect(other.count('ledger_entries', '1 = 1')).toBe(2);
    } finally {
      other.close();
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toEqual(['answer']); // the durable one still waits for the disk
    walSync.pending[0].resolve();
    await start;
    expect(resolved).toEqual(['answer', 'start']);
    expect(waited).toHaveLength(2);
  });

  it('a failed sync fails only the writes that waited for it', async () => {
    const walSync = manualSync();
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 0, walSync });
    const answer = committer.runCommitted(insert('p'));
    const start = committer.run(insert('q'));
    await until(() => walSync.pending.length === 1);
    walSync.pending[0].reject(new Error('EIO'));
    await expect(answer).resolves.toBeUndefined();
    await expect(start).rejects.toThrow('EIO');
  });

  it('commits at synchronous=NORMAL and leaves the connection at FULL for every other writer', async () => {
    const walSync = manualSync();
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 0, walSync });
    const write = committer.run(insert('x'));
    await until(() => walSync.pending.length === 1);
    const { rows } = await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db);
    expect(rows[0].synchronous).toBe(2);
    walSync.pending[0].resolve();
    await write;
  });

  it('fails the writes of a batch whose sync fails, and flush waits for syncs', async () => {
    const walSync = manualSync();
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 0, walSync });
    const write = committer.run(insert('y'));
    await until(() => walSync.pending.length === 1);
    let flushed = false;
    const flush = committer.flush().then(() => (flushed = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(flushed).toBe(false);
    walSync.pending[0].reject(new Error('EIO'));
    await expect(write).rejects.toThrow('EIO');
    await flush;
  });

  it('is what the store gives accounting for a SQLite file: writes resolve after a real fsync', async () => {
    expect(store.walSync).toBeDefined();
    const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 0, walSync: store.walSync });
    await Promise.all(Array.from({ length: 50 }, (_, i) => committer.run(insert(`f${i}`))));
    expect(await store.ledger.forAccount('user:alice@portal.test')).toHaveLength(50);
  });
});

async function until(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe('GroupCommitter options', () => {
  it('refuses a batch size below 1 and a negative window', () => {
    // The database is never touched when construction fails.
    const db = {} as never;
    expect(() => new GroupCommitter(db, 'sqlite', { maxBatch: 0 })).toThrow(TypeError);
    expect(() => new GroupCommitter(db, 'sqlite', { maxDelayMs: -1 })).toThrow(TypeError);
  });

  it('waits 2 ms for company by default, but not when an off-thread WAL sync groups the fsyncs (SQLite)', () => {
    const db = {} as never;
    const walSync = { sync: () => Promise.resolve() };
    const windowOf = (dialect: 'sqlite' | 'postgres', options: { walSync?: typeof walSync; maxDelayMs?: number }): number | undefined => {
      let asked: number | undefined;
      const clock = { now: () => 0, setTimeout: (_fn: () => void, ms: number) => ((asked = ms), 1 as never), clearTimeout: () => undefined };
      void new GroupCommitter(db, dialect, { ...options, clock }).run(() => Promise.resolve());
      return asked;
    };
    expect(windowOf('sqlite', {})).toBe(2);
    expect(windowOf('sqlite', { walSync })).toBe(0);
    expect(windowOf('postgres', { walSync })).toBe(2);
    expect(windowOf('sqlite', { walSync, maxDelayMs: 5 })).toBe(5);
  });
});
