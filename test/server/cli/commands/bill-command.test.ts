import { describe, expect, it } from 'vitest';
import { backends } from '../../store/store-backends.js';
import { november, useCliDatabase } from './accounting-cli-fixture.js';

describe.each(backends)('siprelay bill show on $name', ({ kind }) => {
  const db = useCliDatabase(kind);

  it('prints a user’s bill with a line per session and per charge and the totals', async () => {
    const { lesson } = await db.withStore(november);
    const r = await db.run(['bill', 'show', '--user', 'alice', '--period', '2026-11']);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe('bill 2026-11 of alice@portal.test');
    expect(lines[1]).toMatch(/^INSTANT\s+KIND\s+SERVICE\s+REFERENCE\s+DESCRIPTION\s+AMOUNT$/);
    expect(lines[2]).toMatch(new RegExp(`^2026-11-05T10:01:01Z\\s+session\\s+lesson\\s+${lesson}\\s+.*60 s billed\\s+1\\.70 EUR$`));
    expect(lines[3]).toMatch(/charge\s+wine\s+order-7731\s+1 × Bordeaux 2015, 75 cl\s+24\.50 EUR$/);
    expect(lines[4]).toMatch(/charge\s+wine\s+order-7731-r1\s+Refund of order-7731: 1 × Bordeaux 2015, 75 cl\s+-10\.00 EUR$/);
    expect(lines[5]).toBe('total: 16.20 EUR');
  });

  it('exports CSV and JSON', async () => {
    await db.withStore(november);
    const csv = await db.run(['bill', 'show', '--user', 'alice@portal.test', '--period', '2026-11', '--csv']);
    const rows = csv.stdout.split('\r\n');
    expect(rows[0]).toBe('period,user,kind,instant,session_id,charge_id,refund_of,service,description,duration_ms,billable_seconds,currency,amount,amount_minor');
    expect(rows.at(-2)).toBe('2026-11,alice@portal.test,total,,,,,,,,,EUR,16.20,1620');
    const json = JSON.parse((await db.run(['bill', 'show', '--user', 'alice', '--period', '2026-11', '--json'])).stdout) as { totals: unknown[] };
    expect(json.totals).toEqual([{ amount: 1620, currency: 'EUR', decimal: '16.20' }]);
  });

  it('refuses a bad period with status 2', async () => {
    const r = await db.run(['bill', 'show', '--user', 'alice', '--period', '2026-13']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--period 2026-13 is not a period/);
  });
});
