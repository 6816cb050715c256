import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { benchUserId, makeRatingInputs, produceBills, rateAll, seedBills, verifyBills } from '../../bench/billing-bench.js';
import { BillingReports } from '../../server/accounting/billing-reports.js';
import { isBalanced } from '../../server/billing/ledger.js';
import { openStore, type OpenedStore } from '../../server/store/open-store.js';

/**
 * The billing benchmark's seeding at a tiny size: what it writes must be
 * bills that the real reports read in full and that equal the ledger, or
 * the benchmark would time empty or broken bills. No timing is checked.
 */
describe('billing benchmark', () => {
  let store: OpenedStore | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await store?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('seeds bills that list every session and charge and match the ledger (SQLite, 3 users × 2 sessions)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'siprelay-billing-bench-test-'));
    store = await openStore(`sqlite:${join(dir, 'bench.sqlite')}`);
    const seeded = await seedBills(store, { users: 3, sessionsPerUser: 2, chargesPerUser: 2, usersPerTransaction: 2 });
    expect(seeded).toMatchObject({ sessions: 6, charges: 6 });
    const reports = new BillingReports(store);
    expect(await store.sessions.usersWithSessions(seeded.period)).toEqual([0, 1, 2].map(benchUserId));
    await verifyBills(reports, seeded, { sessionsPerUser: 2, chargesPerUser: 2 });

    const bill = await reports.bill(benchUserId(1), seeded.period);
    expect(bill.lines.map((l) => l.kind).sort()).toEqual(['charge', 'charge', 'session', 'session']);
    // The second charge is a partial refund of the first.
    expect(bill.lines.filter((l) => l.kind === 'charge').map((l) => Math.sign(l.amount.amount)).sort()).toEqual([-1, 1]);
    expect(await reports.billMatchesLedger(benchUserId(1), seeded.period)).toBe(true);
    expect(isBalanced(await store.ledger.inPeriod(seeded.period))).toBe(true);
    const user = await store.accounts.findUser(benchUserId(1));
    expect(user?.balance).toBe(-bill.totals[0].amount);

    const run = await produceBills(reports, seeded.userIds, seeded.period, 2);
    expect(run).toMatchObject({ bills: 3, sessionLines: 6, chargeLines: 6 });
    expect(run.billMs).toHaveLength(3);
  });

  it('generates the same rating inputs for a seed, and rates them', () => {
    const a = makeRatingInputs(1000, 7);
    const b = makeRatingInputs(1000, 7);
    expect(rateAll(a)).toBe(rateAll(b));
    expect(a.some((i) => i.segments.length === 3)).toBe(true);
    expect(rateAll(a)).toBeGreaterThan(0);
  });
});
