import { sql, type Kysely } from 'kysely';
import { systemClock, type Clock, type TimerHandle } from '../../sip/util/clock.js';
import type { Database } from '../store/database.js';
import type { StoreDialect } from '../store/database-url.js';
import { writeTransaction } from '../store/write-transaction.js';
import { accountingError } from './accounting-error.js';

/**
 * One write of a batch: runs inside the batch's transaction and must use only
 * the executor it is given. It must be idempotent in the database — a batch
 * that fails is retried write by write — and keep its in-memory effects
 * until after the promise of {@link GroupCommitter.run} resolves.
 */
export type TransactionWork<T> = (trx: Kysely<Database>) => Promise<T>;

/** Options of {@link GroupCommitter}. Every one has a default. */
export interface GroupCommitOptions {
  /** Most writes in one transaction. Default 256. */
  readonly maxBatch?: number;
  /**
   * How long the first write of an idle committer waits for company before
   * its transaction starts, in ms. Default 2, and 0 with `walSync` on
   * SQLite: there a commit costs no fsync, and writes that arrive while one
   * syncs share the next, so a window would only add its length to every
   * answer (measured in docs/performance.md). While a transaction commits,
   * later writes gather for the next one anyway, so under load batches
   * grow with the commit latency whatever this says. 0 starts on the next
   * turn of the event loop.
   */
  readonly maxDelayMs?: number;
  /**
   * Transactions in flight at once on PostgreSQL, each on its own pooled
   * connection, so that one batch's round trips overlap another's commit.
   * Default 4 (keep it below the pool size). SQLite has one connection and
   * one writer: always 1 there. Writes of different transactions may then
   * commit in any order; every accounting write is idempotent and tolerates
   * it (see docs/billing.md, "Durability").
   */
  readonly maxConcurrentTransactions?: number;
  /**
   * Timers of the batching window. Default: the host's timers, kept
   * referenced so that queued writes keep the process alive until they
   * are committed (the system clock's timers are unref'd).
   */
  readonly clock?: Pick<Clock, 'setTimeout' | 'clearTimeout' | 'now'>;
  /** Told about every transaction (for metrics and tests). */
  readonly onTransaction?: (info: GroupCommitTransaction) => void;
  /**
   * Told, for each write that became durable, how long it waited from
   * {@link GroupCommitter.run} until then (monotonic ms): the time a message
   * that acknowledges it is held back (metrics: `siprelay_accounting_write_seconds`).
   * A {@link GroupCommitter.runCommitted} write is reported when it resolves, at its commit.
   */
  readonly onDurable?: (waitedMs: number) => void;
  /** Errors of writes nobody waits for ({@link GroupCommitter.post}). Default: ignored. */
  readonly onError?: (error: unknown) => void;
  /**
   * SQLite file stores: commit at `synchronous=NORMAL` and make each commit
   * durable with this off-thread sync of the WAL before its writes resolve
   * (`store.walSync`; {@link SqliteWalSync}). Same durability as `FULL`, but
   * the event loop does not wait for the disk, and the next batch runs while
   * the previous one syncs. Default: commits sync at `FULL`, blocking.
   */
  readonly walSync?: { sync(): Promise<void> };
}

/** What one transaction of the committer did. */
export interface GroupCommitTransaction {
  /** Writes in the transaction. */
  readonly size: number;
  /** Whether it committed. */
  readonly committed: boolean;
  /** True for the one-write transactions that retry a failed batch. */
  readonly retry: boolean;
  /** From BEGIN to COMMIT (or ROLLBACK), monotonic ms. */
  readonly durationMs: number;
}

/** Counters since the committer was made. */
export interface GroupCommitStats {
  readonly transactions: number;
  readonly writes: number;
  readonly failedBatches: number;
  /** Writes waiting for a transaction. */
  readonly queued: number;
}

/** Like the system clock, but a pending timer keeps the process alive: queued writes must not be dropped. */
const refTimers: Pick<Clock, 'setTimeout' | 'clearTimeout' | 'now'> = {
  now: () => systemClock.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  clearTimeout: (h) => clearTimeout(h as unknown as ReturnType<typeof setTimeout>),
};

interface QueuedWrite {
  readonly work: TransactionWork<unknown>;
  /** Resolve once on disk (true), or once committed, before the WAL sync (false; see {@link GroupCommitter.runCommitted}). */
  readonly durable: boolean;
  /** When it was queued (monotonic ms), for `onDurable`. */
  readonly queuedAt: number;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: "store first, then answer" without one fsync per answer.
 *
 * Writes from concurrent calls are queued; a transaction runs a batch of
 * them in order and commits, and only then does each write's promise
 * resolve (one transaction at a time on SQLite, a few on PostgreSQL). With SQLite in WAL mode and `synchronous=FULL`, or a
 * PostgreSQL commit, a resolved write is on disk; with `walSync` the
 * commit's fsync runs off the event loop and the writes resolve after it. Thousands of writes per
 * second then cost tens or hundreds of commits per second: while one
 * transaction commits, the next batch gathers.
 *
 * A batch that fails is rolled back and each of its writes is retried in a
 * transaction of its own, so one bad write (or a deadlock between relay
 * nodes) fails only itself.
 *
 * @example
 * ```ts
 * const committer = new GroupCommitter(store.db, store.dialect, { maxDelayMs: 2 });
 * await committer.run((trx) => trx.insertInto('charges').values(row).execute());
 * // the row is durable now: relay the INFO
 * ```
 */
export class GroupCommitter {
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly maxConcurrent: number;
  private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout' | 'now'>;
  private queue: QueuedWrite[] = [];
  private active = 0;
  private timer: TimerHandle | undefined;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  /** Committed batches whose WAL sync is still running. */
  private syncing = 0;
  private counters = { transactions: 0, writes: 0, failedBatches: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: StoreDialect,
    private readonly options: GroupCommitOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? 256;
    this.maxDelayMs = options.maxDelayMs ?? (options.walSync !== undefined && dialect === 'sqlite' ? 0 : 2);
    if (!Number.isSafeInteger(this.maxBatch) || this.maxBatch < 1) throw new TypeError('maxBatch must be an integer >= 1');
    if (!Number.isFinite(this.maxDelayMs) || this.maxDelayMs < 0) throw new TypeError('maxDelayMs must be a number >= 0');
    this.maxConcurrent = dialect === 'sqlite' ? 1 : (options.maxConcurrentTransactions ?? 4);
    if (!Number.isSafeInteger(this.maxConcurrent) || this.maxConcurrent < 1) {
      throw new TypeError('maxConcurrentTransactions must be an integer >= 1');
    }
    this.clock = options.clock ?? refTimers;
  }

  /**
   * Runs `work` in the next transaction; resolves with its result once that
   * transaction has committed, rejects with its error (or the commit's).
   * After {@link close}, rejects with `ACCT_ERR_CLOSED`.
   */
  run<T>(work: TransactionWork<T>): Promise<T> {
    return this.enqueue(work, true);
  }

  /**
   * Like {@link run}, but resolves as soon as the transaction has committed,
   * without waiting for the off-thread WAL sync (`walSync`): the write then
   * survives a crash of the relay process (kill -9: the commit is in the
   * operating system's page cache) but not yet a power loss. Without
   * `walSync` (PostgreSQL, or SQLite at `FULL`) a commit is durable and this
   * is {@link run}. Writes stay in order: any later {@link run} resolves only
   * once this one is on disk too.
   *
   * For writes whose loss in a power cut costs no money — the answer of a
   * session that has not started (docs/billing.md, "Durability").
   */
  runCommitted<T>(work: TransactionWork<T>): Promise<T> {
    return this.enqueue(work, false);
  }

  private enqueue<T>(work: TransactionWork<T>, durable: boolean): Promise<T> {
    if (this.closed) return Promise.reject(accountingError('ACCT_ERR_CLOSED', 'accounting is shut down; nothing was stored'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, durable, queuedAt: this.clock.now(), resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  /** Queues `work` without waiting for it; its failure goes to `onError`. */
  post(work: TransactionWork<unknown>): void {
    this.run(work).catch((e: unknown) => this.options.onError?.(e));
  }

  /** Resolves when every write queued so far has been committed (or failed). */
  flush(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0 && this.syncing === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.startWorkers(true);
    return done;
  }

  /** Commits what is queued, then refuses new writes. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  get stats(): GroupCommitStats {
    return { ...this.counters, queued: this.queue.length };
  }

  private schedule(): void {
    if (this.queue.length >= this.maxBatch) {
      // A full batch need not wait for company.
      this.startWorkers(false);
      return;
    }
    if (this.timer === undefined && this.active < this.maxConcurrent) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.startWorkers(true);
      }, this.maxDelayMs);
    }
  }

  /**
   * Starts transactions while there is room: for full batches only, or for
   * whatever is queued when the window has passed (`partial`).
   */
  private startWorkers(partial: boolean): void {
    while (this.active < this.maxConcurrent && (this.queue.length >= this.maxBatch || (partial && this.queue.length > 0))) {
      this.active++;
      void this.worker();
    }
  }

  /** Runs batches while writes are queued; one transaction per worker at a time. */
  private async worker(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.commitBatch(batch);
      }
    } finally {
      this.active--;
      this.wakeIdleWaiters();
    }
  }

  private wakeIdleWaiters(): void {
    if (this.active === 0 && this.queue.length === 0 && this.syncing === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** One transaction; with `walSync`, committed at `synchronous=NORMAL` (made durable by {@link settle}). */
  private transaction<T>(fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
    if (this.options.walSync === undefined || this.dialect !== 'sqlite') return writeTransaction(this.db, this.dialect, fn);
    return this.db.connection().execute(async (conn) => {
      await sql.raw('pragma synchronous = normal').execute(conn);
      try {
        return await writeTransaction(conn, this.dialect, fn);
      } finally {
        // Every other writer on this connection keeps FULL.
        await sql.raw('pragma synchronous = full').execute(conn);
      }
    });
  }

  /**
   * Resolves a committed batch's writes once it is durable: at once when the
   * commit synced itself, else after the WAL sync, which runs while the
   * worker goes on with the next batch. A failed sync fails the writes.
   */
  private settle(writes: readonly QueuedWrite[], results: readonly unknown[]): void {
    const walSync = this.options.walSync;
    if (walSync === undefined || this.dialect !== 'sqlite') {
      this.resolveDurable(writes, results);
      return;
    }
    // Writes that asked only for the commit go now; the WAL sync makes the others durable.
    const now: QueuedWrite[] = [];
    const nowResults: unknown[] = [];
    const later: QueuedWrite[] = [];
    const laterResults: unknown[] = [];
    for (let i = 0; i < writes.length; i++) {
      if (writes[i].durable) {
        later.push(writes[i]);
        laterResults.push(results[i]);
      } else {
        now.push(writes[i]);
        nowResults.push(results[i]);
      }
    }
    if (now.length > 0) this.resolveDurable(now, nowResults);
    this.syncing++;
    walSync.sync().then(
      () => this.resolveDurable(later, laterResults),
      (e: unknown) => {
        for (const w of later) w.reject(e);
      },
    ).finally(() => {
      this.syncing--;
      this.wakeIdleWaiters();
    });
  }

  /** Reports the writes to `onDurable` and resolves each with its result. */
  private resolveDurable(writes: readonly QueuedWrite[], results: readonly unknown[]): void {
    this.reportDurable(writes);
    for (let i = 0; i < writes.length; i++) writes[i].resolve(results[i]);
  }

  private async commitBatch(batch: QueuedWrite[]): Promise<void> {
    const t0 = this.clock.now();
    let results: unknown[];
    try {
      results = await this.transaction(async (trx) => {
        const out: unknown[] = new Array(batch.length);
        for (let i = 0; i < batch.length; i++) out[i] = await batch[i].work(trx);
        return out;
      });
    } catch (e) {
      this.report(batch.length, false, false, t0);
      if (batch.length === 1) {
        batch[0].reject(e);
        return;
      }
      this.counters.failedBatches++;
      // Find the bad write(s): each write on its own.
      for (const w of batch) {
        const t1 = this.clock.now();
        try {
          const r = await this.transaction((trx) => w.work(trx));
          this.report(1, true, true, t1);
          this.settle([w], [r]);
        } catch (err) {
          this.report(1, false, true, t1);
          w.reject(err);
        }
      }
      return;
    }
    this.report(batch.length, true, false, t0);
    this.settle(batch, results);
  }

  private reportDurable(writes: readonly QueuedWrite[]): void {
    const onDurable = this.options.onDurable;
    if (onDurable === undefined) return;
    const now = this.clock.now();
    try {
      for (const w of writes) onDurable(now - w.queuedAt);
    } catch {
      // A metrics hook must not stop the writes it reports on from resolving.
    }
  }

  private report(size: number, committed: boolean, retry: boolean, t0: number): void {
    this.counters.transactions++;
    if (committed) this.counters.writes += size;
    this.options.onTransaction?.({ size, committed, retry, durationMs: this.clock.now() - t0 });
  }
}
