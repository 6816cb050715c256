import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounting } from '../../../server/accounting/accounting.js';
import { isBalanced } from '../../../server/billing/ledger.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { backends, scratchDatabase, type ScratchDatabase } from '../store/store-backends.js';
import { establish, milestone, seed, TEST_SERVICES } from './accounting-fixture.js';

const T0 = Date.UTC(2026, 10, 5, 10, 0, 0);

describe.each(backends)('SessionRecovery on $name', ({ kind }) => {
  let scratch: ScratchDatabase;
  let before: OpenedStore;
  let after: OpenedStore | undefined;
  let clock: ManualClock;
  beforeEach(async () => {
    scratch = scratchDatabase(kind);
    clock = new ManualClock(T0);
    before = await scratch.open({ clock });
    await seed(before);
  });
  afterEach(async () => {
    await after?.close();
    after = undefined;
    await before.close();
    await scratch.dispose();
  });

  /**
   * Records sessions on node-a, then "crashes": the accounting is dropped
   * without close and a new store is opened on the same database, as a
   * restarted relay would.
   */
  async function crashDuringSessions() {
    const accounting = new Accounting(before, { nodeId: 'node-a', services: TEST_SERVICES, clock, aliveFlushMs: 1000 });
    const live = milestone();
    const quiet = milestone({ service: 'beer', appServer: 'beer-shop' });
    const answeredOnly = milestone({ service: 'beer', appServer: 'beer-shop' });
    const attemptOnly = milestone({ service: 'wine', appServer: 'wine-shop' });
    const done = milestone({ service: 'beer', appServer: 'beer-shop' });
    const otherNode = new Accounting(before, { nodeId: 'node-b', services: TEST_SERVICES, clock });
    const elsewhere = milestone({ service: 'beer', appServer: 'beer-shop' });

    await establish(accounting, live);
    await establish(accounting, quiet);
    await establish(accounting, done);
    await establish(otherNode, elsewhere);
    accounting.recorder.attemptStarted({ ...answeredOnly, requestedAt: clock.wallNow() });
    await accounting.recorder.answered(answeredOnly);
    accounting.recorder.attemptStarted({ ...attemptOnly, requestedAt: clock.wallNow() });
    const charged = await accounting.charges.charge({
      sessionId: live.sessionId,
      appServer: 'lesson-server',
      body: { id: 'book-1', items: [{ sku: 'B', description: 'Book', unitPrice: 900, quantity: 1, currency: 'EUR' }] },
      route: 'info',
    });
    clock.advance(20_000);
    await accounting.recorder.ended(done, 'caller');
    clock.advance(25_000);
    accounting.recorder.alive(live.sessionId); // an in-dialog request at +45 s
    clock.advance(1000); // the liveness flush (1 s)
    await accounting.committer.flush();
    clock.advance(30_000); // the crash comes at +76 s
    after = await scratch.open({ clock, migrate: true });
    return { live, quiet, answeredOnly, attemptOnly, done, elsewhere, charged };
  }

  it('finds the sessions the node owned that are still open, with their last-alive instants', async () => {
    const c = await crashDuringSessions();
    const recovery = new Accounting(after!, { nodeId: 'node-a', services: TEST_SERVICES, clock }).recovery;
    const open = await recovery.openSessions('node-a');
    expect(open.map((o) => o.record.id).sort()).toEqual([c.live.sessionId, c.quiet.sessionId, c.answeredOnly.sessionId, c.attemptOnly.sessionId].sort());
    const byId = new Map(open.map((o) => [o.record.id, o]));
    expect(byId.get(c.live.sessionId)?.lastAliveAt).toBe(T0 + 45_000);
    expect(byId.get(c.quiet.sessionId)?.lastAliveAt).toBe(T0);
    expect(byId.get(c.live.sessionId)?.segments).toHaveLength(1);
  });

  it('ends the rest as interrupted at their last-alive instant, rated and posted, and keeps every acknowledged charge once', async () => {
    const c = await crashDuringSessions();
    const accounting = new Accounting(after!, { nodeId: 'node-a', services: TEST_SERVICES, clock });
    const report = await accounting.recovery.interruptAllExcept('node-a', []);
    expect(report.interrupted).toHaveLength(4);

    const live = await after!.sessions.get(c.live.sessionId);
    // Started at T0, last known alive at +45 s: 45 s of lesson, 30 s free → one minute + setup.
    expect(live).toMatchObject({ state: 'ended', endedBy: 'interrupted', endedAt: T0 + 45_000, durationMs: 45_000, amount: { amount: 170, currency: 'EUR' } });
    expect(await after!.sessions.get(c.quiet.sessionId)).toMatchObject({ state: 'ended', endedBy: 'interrupted', endedAt: T0, durationMs: 0, amount: { amount: 0, currency: 'EUR' } });
    expect(await after!.sessions.get(c.answeredOnly.sessionId)).toMatchObject({ state: 'failed', endedBy: 'interrupted', rating: null });
    expect(await after!.sessions.get(c.attemptOnly.sessionId)).toMatchObject({ state: 'failed', endedBy: 'interrupted' });
    expect(await after!.sessions.get(c.done.sessionId)).toMatchObject({ state: 'ended', endedBy: 'caller' });
    expect(await after!.sessions.get(c.elsewhere.sessionId)).toMatchObject({ state: 'established' });

    expect(c.charged.status).toBe('accepted');
    expect((await after!.charges.list({})).map((x) => x.idempotencyKey)).toEqual(['book-1']);
    expect(isBalanced(await after!.ledger.inPeriod({ start: 0, end: Number.MAX_SAFE_INTEGER }))).toBe(true);
    expect(await accounting.reports.billMatchesLedger('alice@portal.test', '2026-11')).toBe(true);

    // Recovering again changes nothing.
    expect((await accounting.recovery.interruptAllExcept('node-a')).interrupted).toEqual([]);
    expect(await after!.ledger.forReference({ type: 'session', id: c.live.sessionId })).toHaveLength(4);
    await accounting.close();
  });

  it('hands a session that carries on back to the recorder, which rates it when it ends', async () => {
    const c = await crashDuringSessions();
    const accounting = new Accounting(after!, { nodeId: 'node-a', services: TEST_SERVICES, clock });
    const open = await accounting.recovery.openSessions('node-a');
    const live = open.find((o) => o.record.id === c.live.sessionId)!;
    accounting.recovery.adopt(live);
    const report = await accounting.recovery.interruptAllExcept('node-a', [live.record.id]);
    expect(report.kept).toEqual([c.live.sessionId]);
    clock.advance(14_000); // 90 s after the start
    await accounting.recorder.ended(milestone({ sessionId: c.live.sessionId }), 'callee');
    expect(await after!.sessions.get(c.live.sessionId)).toMatchObject({
      state: 'ended',
      endedBy: 'callee',
      durationMs: 90_000,
      // 90 s, 30 s free: one minute, 1.20 + 0.50
      amount: { amount: 170, currency: 'EUR' },
    });
    await accounting.close();
  });

  it('lets another node take over a dead node’s sessions', async () => {
    const c = await crashDuringSessions();
    const survivor = new Accounting(after!, { nodeId: 'node-b', services: TEST_SERVICES, clock });
    const report = await survivor.recovery.interruptAllExcept('node-a');
    expect(report.interrupted.map((x) => x.record.id)).toContain(c.live.sessionId);
    expect(await after!.sessions.get(c.elsewhere.sessionId)).toMatchObject({ state: 'established' });
    await survivor.close();
  });
});
