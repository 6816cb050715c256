import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounting } from '../../../server/accounting/accounting.js';
import { isBalanced } from '../../../server/billing/ledger.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { ManualClock, type Clock } from '../../../sip/util/clock.js';
import { backends, scratchDatabase, type ScratchDatabase } from '../store/store-backends.js';
import { establish, milestone, seed, sqliteCounter, observe, TEST_SERVICES, useAccounting } from './accounting-fixture.js';

const T0 = Date.UTC(2026, 0, 1);

describe.each(backends)('SessionRecorder on $name', ({ kind }) => {
  const t = useAccounting(kind);
  const rec = () => t.accounting.recorder;

  describe('an attempt that gets no session', () => {
    it('is recorded as failed with the SIP status of the final response', async () => {
      const m = milestone({ service: 'wine', appServer: 'wine-shop' });
      rec().attemptStarted({ ...m, requestedAt: t.clock.wallNow() });
      rec().failed(m, 486);
      await rec().flush();
      expect(await t.store.sessions.get(m.sessionId)).toMatchObject({
        state: 'failed',
        sipStatus: 486,
        service: 'wine',
        appServer: 'wine-shop',
        operator: 'vino',
        userId: 'alice@portal.test',
        nodeId: 'node-a',
        rating: null,
        startedAt: null,
      });
      expect(rec().get(m.sessionId)).toBeUndefined();
    });

    it('is recorded as cancelled after a CANCEL (487), each branch of a fork on its own record', async () => {
      const a = milestone({ forkGroup: 'fork-1', appServer: 'wine-shop', service: 'wine' });
      const b = milestone({ forkGroup: 'fork-1', appServer: 'beer-shop', service: 'wine' });
      rec().attemptStarted({ ...a, requestedAt: T0 });
      rec().attemptStarted({ ...b, requestedAt: T0 });
      await establish(t.accounting, a);
      rec().failed(b, 487);
      await rec().flush();
      const group = await t.store.sessions.list({});
      expect(group.map((s) => [s.appServer, s.state, s.sipStatus, s.forkGroup]).sort()).toEqual([
        ['beer-shop', 'cancelled', 487, 'fork-1'],
        ['wine-shop', 'established', null, 'fork-1'],
      ]);
    });

    it('records a failure even when no attempt was reported first', async () => {
      const m = milestone();
      rec().failed(m, 503);
      await rec().flush();
      expect(await t.store.sessions.get(m.sessionId)).toMatchObject({ state: 'failed', sipStatus: 503 });
    });
  });

  describe('an established session', () => {
    it('stores the instants of request, answer and start, with the tariff that applies', async () => {
      const m = milestone();
      rec().attemptStarted({ ...m, requestedAt: t.clock.wallNow() });
      const requestedAt = t.clock.wallNow();
      t.clock.advance(2000);
      await rec().answered(m);
      t.clock.advance(100);
      await rec().started(m);
      const s = await t.store.sessions.get(m.sessionId);
      expect(s).toMatchObject({
        state: 'established',
        requestedAt,
        answeredAt: requestedAt + 2000,
        startedAt: requestedAt + 2100,
        calleeTag: 'callee-tag',
        lastAliveAt: requestedAt + 2100,
        tariff: { id: 'lesson', pricePerMinute: 120 },
        relayFee: { basisPoints: 1000, fixedPerSession: { amount: 5, currency: 'EUR' } },
      });
      expect(await t.store.sessions.segments(m.sessionId)).toMatchObject([{ seq: 0, service: 'lesson', offsetMs: 0 }]);
      expect(rec().get(m.sessionId)?.state).toBe('established');
    });

    it('when it ends, is rated from its measured time, posted in balanced entries and moves the balance', async () => {
      const m = milestone();
      await establish(t.accounting, m);
      const startedAt = t.clock.wallNow();
      t.clock.advance(61_000);
      await rec().ended(m, 'caller');
      const s = await t.store.sessions.get(m.sessionId);
      // 61 s, 30 s free: one started minute (1.20) + setup 0.50.
      expect(s).toMatchObject({
        state: 'ended',
        endedBy: 'caller',
        startedAt,
        endedAt: startedAt + 61_000,
        durationMs: 61_000,
        amount: { amount: 170, currency: 'EUR' },
        rating: { tariffId: 'lesson', billableSeconds: 60, freeMs: 30_000 },
      });
      const entries = await t.store.ledger.forReference({ type: 'session', id: m.sessionId });
      expect(isBalanced(entries)).toBe(true);
      expect(entries.map((e) => [e.account, e.side, e.amount, e.kind])).toEqual([
        ['user:alice@portal.test', 'debit', 170, 'gross'],
        ['operator:acme', 'credit', 170, 'gross'],
        // 0.05 fixed + 10 % of 1.70
        ['operator:acme', 'debit', 22, 'fee'],
        ['relay:revenue', 'credit', 22, 'fee'],
      ]);
      expect(entries.every((e) => e.at === startedAt + 61_000)).toBe(true);
      expect((await t.store.accounts.findUser('alice@portal.test'))?.balance).toBe(5000 - 170);
      expect(rec().get(m.sessionId)).toBeUndefined();
    });

    it('measures the duration on the monotonic clock, not the wall clock', async () => {
      const clock = new ManualClock(T0);
      // The wall clock jumps an hour (NTP, DST mistakes): durations must not.
      const wallJump: Clock = {
        now: () => clock.now(),
        wallNow: () => clock.wallNow() + (clock.now() > 1000 ? 3_600_000 : 0),
        setTimeout: (f, ms) => clock.setTimeout(f, ms),
        clearTimeout: (h) => clock.clearTimeout(h),
      };
      const accounting = new Accounting(t.store, { nodeId: 'node-a', services: TEST_SERVICES, clock: wallJump });
      const m = milestone({ service: 'beer', appServer: 'beer-shop' });
      await establish(accounting, m);
      clock.advance(30_000);
      await accounting.recorder.ended(m, 'callee');
      await accounting.close();
      expect((await t.store.sessions.get(m.sessionId))?.durationMs).toBe(30_000);
    });

    it('links a transferred session to the one it came from', async () => {
      const first = milestone({ service: 'wine', appServer: 'wine-shop' });
      await establish(t.accounting, first);
      const second = { ...milestone({ service: 'beer', appServer: 'beer-shop' }), linkedFrom: first.sessionId };
      await establish(t.accounting, second);
      expect((await t.store.sessions.get(second.sessionId))?.linkedFrom).toBe(first.sessionId);
    });

    it('takes the plan tariff of the user', async () => {
      const m = milestone({ plan: 'student' });
      await establish(t.accounting, m);
      t.clock.advance(61_000);
      await rec().ended(m, 'caller');
      // student: 0.60/min, no setup, no free time: 2 started minutes.
      expect((await t.store.sessions.get(m.sessionId))?.amount).toEqual({ amount: 120, currency: 'EUR' });
    });

    it('posts nothing for a session whose time is free', async () => {
      const m = milestone({ service: 'wine', appServer: 'wine-shop' });
      await establish(t.accounting, m);
      t.clock.advance(10_000);
      await rec().ended(m, 'callee');
      expect(await t.store.sessions.get(m.sessionId)).toMatchObject({ state: 'ended', durationMs: 10_000, rating: null, amount: null });
      expect(await t.store.ledger.forReference({ type: 'session', id: m.sessionId })).toEqual([]);
    });

    it('ends once: a second end (a retransmitted BYE, or the relay ending it too) posts nothing more', async () => {
      const m = milestone();
      await establish(t.accounting, m);
      t.clock.advance(5000);
      const [a, b] = await Promise.all([rec().end(m.sessionId, 'session-timer', 'no refresh'), rec().end(m.sessionId, 'caller')]);
      expect(a).toBe(b);
      expect(await rec().end(m.sessionId, 'caller')).toBeUndefined();
      expect(await t.store.sessions.get(m.sessionId)).toMatchObject({ endedBy: 'session-timer', endReason: 'no refresh' });
      expect(await t.store.ledger.forReference({ type: 'session', id: m.sessionId })).toHaveLength(4);
    });

    it('records why the relay ended it', async () => {
      for (const by of ['max-duration', 'credit-exhausted', 'operator'] as const) {
        const m = milestone({ service: 'beer', appServer: 'beer-shop' });
        await establish(t.accounting, m);
        await rec().ended(m, by, `ended: ${by}`);
        expect(await t.store.sessions.get(m.sessionId)).toMatchObject({ endedBy: by, endReason: `ended: ${by}` });
      }
    });
  });

  describe('a change of service details', () => {
    it('starts a new segment with its instant, service and details, priced by its own tariff', async () => {
      const m = milestone({ service: 'beer', appServer: 'beer-shop' });
      await establish(t.accounting, m);
      const start = t.clock.wallNow();
      t.clock.advance(90_000);
      await rec().changed({ ...m, service: 'stout' }, { style: 'imperial' });
      t.clock.advance(110_000);
      await rec().ended(m, 'caller');
      expect(await t.store.sessions.segments(m.sessionId)).toMatchObject([
        { seq: 0, service: 'beer', startedAt: start, offsetMs: 0, details: null, tariff: { id: 'beer' } },
        { seq: 1, service: 'stout', startedAt: start + 90_000, offsetMs: 90_000, details: { style: 'imperial' }, tariff: { id: 'stout' } },
      ]);
      // docs/billing.md: increments start at 0 and 60 s (beer, 0.60) and 120 and 180 s (stout, 1.20).
      const s = await t.store.sessions.get(m.sessionId);
      expect(s?.amount).toEqual({ amount: 360, currency: 'EUR' });
      expect(s?.rating?.segments.map((g) => [g.service, g.billableSeconds, g.amount.amount])).toEqual([
        ['beer', 120, 120],
        ['stout', 120, 240],
      ]);
    });

    it('is ignored for a session that is not established', async () => {
      const m = milestone();
      rec().attemptStarted({ ...m, requestedAt: T0 });
      await rec().changed(m, {});
      await rec().flush();
      expect(await t.store.sessions.segments(m.sessionId)).toEqual([]);
    });
  });

  describe('liveness', () => {
    it('writes the instants of in-dialog requests in batches, rounded down to the resolution', async () => {
      const m = milestone();
      await establish(t.accounting, m);
      const start = t.clock.wallNow();
      t.clock.advance(1500);
      rec().alive(m.sessionId);
      await rec().flush();
      const second = (ms: number) => ms - (ms % 1000);
      expect((await t.store.sessions.get(m.sessionId))?.lastAliveAt).toBe(Math.max(start, second(start + 1500)));
      t.clock.advance(7000);
      rec().alive(m.sessionId);
      rec().alive('unknown-session');
      // The flush timer (5 s) writes it.
      t.clock.advance(5000);
      await t.accounting.committer.flush();
      expect((await t.store.sessions.get(m.sessionId))?.lastAliveAt).toBe(second(start + 8500));
    });
  });

  describe('running cost', () => {
    it('is the rated cost of the live sessions so far', async () => {
      const a = milestone();
      const b = milestone({ service: 'beer', appServer: 'beer-shop' });
      await establish(t.accounting, a);
      await establish(t.accounting, b);
      t.clock.advance(61_000);
      expect(rec().runningCosts('alice@portal.test')).toEqual([
        { amount: 170, currency: 'EUR' },
        { amount: 120, currency: 'EUR' },
      ]);
      expect(rec().runningCosts('alice@portal.test', a.sessionId)).toEqual([{ amount: 120, currency: 'EUR' }]);
      expect(rec().runningCosts('bob@portal.test')).toEqual([]);
    });
  });
});

describe.each(backends)('SessionRecorder durability on $name', ({ kind }) => {
  let scratch: ScratchDatabase;
  let store: OpenedStore;
  beforeEach(async () => {
    scratch = scratchDatabase(kind);
    store = await scratch.open();
    await seed(store);
  });
  afterEach(async () => {
    await store.close();
    await scratch.dispose();
  });

  it('stores many concurrent milestones in few transactions, each resolving only once committed', async () => {
    let transactions = 0;
    const accounting = new Accounting(store, {
      nodeId: 'node-a',
      services: TEST_SERVICES,
      groupCommit: { maxDelayMs: 2, onTransaction: () => transactions++ },
    });
    const sessions = Array.from({ length: 200 }, () => milestone());
    const seen: number[] = [];
    if (kind === 'sqlite') {
      const other = sqliteCounter(scratch);
      await Promise.all(
        sessions.map(async (m) => {
          accounting.recorder.attemptStarted({ ...m, requestedAt: T0 });
          await accounting.recorder.answered(m);
          await accounting.recorder.started(m);
          seen.push(other.count('sessions', `id = '${m.sessionId}' and state = 'established'`));
          await accounting.recorder.ended(m, 'caller');
          seen.push(other.count('ledger_entries', `ref_id = '${m.sessionId}'`) === 4 ? 1 : 0);
        }),
      );
      other.close();
    } else {
      const other = await observe(scratch);
      await Promise.all(
        sessions.map(async (m) => {
          accounting.recorder.attemptStarted({ ...m, requestedAt: T0 });
          await accounting.recorder.answered(m);
          await accounting.recorder.started(m);
          seen.push(await other.count('sessions', `id = '${m.sessionId}' and state in ('established', 'ended')`));
          await accounting.recorder.ended(m, 'caller');
          seen.push((await other.count('ledger_entries', `ref_id = '${m.sessionId}'`)) === 4 ? 1 : 0);
        }),
      );
      await other.close();
    }
    await accounting.close();
    expect(seen).toEqual(Array(400).fill(1));
    // 200 sessions × 4 writes; batched, far fewer transactions.
    expect(transactions).toBeLessThan(100);
  });
});
