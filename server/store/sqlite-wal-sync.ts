import { close, fsync, open } from 'node:fs';

/**
 * The fsync that `synchronous=FULL` does after every commit in WAL mode,
 * done off the event loop (libuv's thread pool) so that a commit does not
 * block every other message while the disk syncs.
 *
 * SQLite in WAL mode with `synchronous=NORMAL` commits without syncing;
 * with `FULL` it adds exactly one sync of the WAL file after each commit
 * (https://www.sqlite.org/pragma.html#pragma_synchronous). A writer that
 * commits at `NORMAL` and then awaits {@link sync} before it acknowledges
 * anything has the durability of `FULL`: once `sync()` resolves, the
 * commit's WAL frames are on disk. Checkpoints sync as they do at `FULL`.
 *
 * Concurrent callers share fsyncs: a `sync()` started while one is in
 * flight (which may have begun before the caller's commit) waits for the
 * next one, which then covers every commit made meanwhile — group commit
 * for the fsync itself.
 */
export class SqliteWalSync {
  private fd: Promise<number> | undefined;
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private closed = false;

  /** `databasePath`: the SQLite file; its WAL is `<databasePath>-wal`. */
  constructor(readonly databasePath: string) {
    if (typeof databasePath !== 'string' || databasePath === '' || databasePath === ':memory:') {
      throw new TypeError('SqliteWalSync needs the path of a SQLite database file');
    }
  }

  /** Resolves once every commit made before this call is on disk. */
  sync(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('SqliteWalSync is closed'));
    if (this.running === undefined) {
      this.running = this.fsyncOnce().finally(() => {
        this.running = undefined;
      });
      return this.running;
    }
    // The fsync in flight may have started before the caller's commit.
    this.next ??= this.running.then(
      () => this.startNext(),
      () => this.startNext(),
    );
    return this.next;
  }

  /** Closes the WAL file descriptor (the database itself is closed by its owner). */
  async close(): Promise<void> {
    this.closed = true;
    await this.running?.catch(() => undefined);
    await this.next?.catch(() => undefined);
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) {
      const n = await fd.catch(() => undefined);
      if (n !== undefined) await new Promise<void>((resolve) => close(n, () => resolve()));
    }
  }

  private startNext(): Promise<void> {
    this.next = undefined;
    return this.sync();
  }

  private fsyncOnce(): Promise<void> {
    // The WAL file exists once the first transaction committed, and stays while the database is open.
    this.fd ??= new Promise<number>((resolve, reject) => open(this.databasePath + '-wal', 'r+', (e, fd) => (e ? reject(e) : resolve(fd))));
    const fd = this.fd;
    return fd.then(
      (n) => new Promise<void>((resolve, reject) => fsync(n, (e) => (e ? reject(e) : resolve()))),
      (e: unknown) => {
        if (this.fd === fd) this.fd = undefined;
        throw e;
      },
    );
  }
}
