import { describe, expect, it } from 'vitest';
import { backends } from '../../store/store-backends.js';
import { november, useCliDatabase } from './accounting-cli-fixture.js';

describe.each(backends)('siprelay sessions list on $name', ({ kind }) => {
  const db = useCliDatabase(kind);

  it('lists session records newest first, and only live ones with --live', async () => {
    const { lesson, shop } = await db.withStore(november);
    const all = await db.run(['sessions', 'list']);
    expect(all.status).toBe(0);
    const rows = all.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^ID\s+STATE\s+USER\s+SERVICE\s+APPSERVER\s+STARTED\s+DURATION\s+ENDED BY\s+AMOUNT$/);
    expect(rows[1]).toMatch(new RegExp(`^${shop}\\s+established\\s+alice@portal.test\\s+wine`));
    expect(rows[2]).toMatch(new RegExp(`^${lesson}\\s+ended\\s+alice@portal.test\\s+lesson\\s+lesson-server\\s+\\S+\\s+61\\.0 s\\s+caller\\s+1\\.70 EUR$`));
    const live = JSON.parse((await db.run(['sessions', 'list', '--live', '--json'])).stdout) as { id: string }[];
    expect(live.map((s) => s.id)).toEqual([shop]);
    const bob = JSON.parse((await db.run(['sessions', 'list', '--user', 'bob', '--json'])).stdout) as unknown[];
    expect(bob).toEqual([]);
  });

  it('refuses an unknown state', async () => {
    expect((await db.run(['sessions', 'list', '--state', 'running'])).status).toBe(2);
  });
});
