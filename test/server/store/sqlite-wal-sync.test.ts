import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const fsyncCalls = vi.hoisted(() => ({ n: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fsync: (fd: number, cb: (e: NodeJS.ErrnoException | null) => void) => {
      fsyncCalls.n++;
      // Slow enough that the callers below pile up behind one fsync.
      setTimeout(() => fs.fsync(fd, cb), 20);
    },
  };
});
const { SqliteWalSync } = await import('../../../server/store/sqlite-wal-sync.js');

describe('SqliteWalSync', () => {
  let dir: string;
  let db: BetterSqlite3.Database;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'siprelay-walsync-'));
    db = new BetterSqlite3(join(dir, 'x.sqlite'));
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.exec('create table t (n integer)');
    fsyncCalls.n = 0;
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses an in-memory database', () => {
    expect(() => new SqliteWalSync(':memory:')).toThrow(TypeError);
  });

  it('syncs the WAL after a commit, and callers that come while one fsync runs share the next', async () => {
    const wal = new SqliteWalSync(join(dir, 'x.sqlite'));
    db.exec('insert into t values (1)');
    const first = wal.sync();
    db.exec('insert into t values (2)');
    const later = Array.from({ length: 10 }, () => wal.sync());
    await Promise.all([first, ...later]);
    // One for the first commit, one for every commit made while it ran.
    expect(fsyncCalls.n).toBe(2);
    await wal.close();
    await expect(wal.sync()).rejects.toThrow('closed');
  });

  it('reports a WAL it cannot open', async () => {
    const wal = new SqliteWalSync(join(dir, 'missing.sqlite'));
    await expect(wal.sync()).rejects.toThrow(/ENOENT/);
    await wal.close();
  });
});
