import { describe, expect, it } from 'vitest';
import type { NewSessionAttempt } from '../../../server/store/session-repository.js';
import { backends, useTestStore } from './store-backends.js';

const T0 = Date.UTC(2026, 10, 5, 10, 0, 0);

function attempt(id: string, over: Partial<NewSessionAttempt> = {}): NewSessionAttempt {
  return {
    id,
    forkGroup: 'g-' + id,
    linkedFrom: null,
    userId: 'alice@portal.test',
    plan: null,
    service: 'lesson',
    appServer: 'lesson-server',
    callId: 'call-' + id,
    callerTag: 'ct',
    calleeTag: null,
    nodeId: 'node-a',
    requestedAt: T0,
    relayFee: { basisPoints: 1000 },
    ...over,
  };
}

describe.each(backends)('SessionRepository on $name', ({ kind }) => {
  const t = useTestStore(kind);

  describe('insertAttempt', () => {
    it('stores an attempt with the operator of its application server, once', async () => {
      await t.store.appServers.add({ name: 'lesson-server', domain: 'portal.test', password: 'x', operator: 'acme' });
      await t.store.sessions.insertAttempt(attempt('s1'), T0);
      await t.store.sessions.insertAttempt(attempt('s1', { service: 'other' }), T0);
      const s = await t.store.sessions.get('s1');
      expect(s).toMatchObject({ id: 's1', state: 'attempt', operator: 'acme', service: 'lesson', relayFee: { basisPoints: 1000 }, endedAt: null, rating: null });
    });

    it('takes the application server name as operator when it has no account', async () => {
      await t.store.sessions.insertAttempt(attempt('s1', { appServer: 'static-host:5070' }), T0);
      expect((await t.store.sessions.get('s1'))?.operator).toBe('static-host:5070');
    });
  });

  describe('update', () => {
    it('changes only records in the given states', async () => {
      await t.store.sessions.insertAttempt(attempt('s1'), T0);
      expect(await t.store.sessions.update('s1', { state: 'failed', sip_status: 486 }, T0 + 1, ['attempt'])).toBe(true);
      expect(await t.store.sessions.update('s1', { state: 'established' }, T0 + 2, ['attempt', 'answered'])).toBe(false);
      expect(await t.store.sessions.get('s1')).toMatchObject({ state: 'failed', sipStatus: 486, updatedAt: T0 + 1 });
    });
  });

  describe('segments', () => {
    it('keeps segments in order with details and tariff snapshots', async () => {
      await t.store.sessions.insertAttempt(attempt('s1'), T0);
      const tariff = { id: 'wine', currency: 'EUR' as const, setupFee: 0, pricePerMinute: 60, increments: { first: 60, next: 60 }, minimumBillableSeconds: 0, freeSeconds: 0 };
      await t.store.sessions.insertSegment('s1', { seq: 1, service: 'beer', startedAt: T0 + 90_000, offsetMs: 90_000, details: { kind: 'lager' }, tariff: null });
      await t.store.sessions.insertSegment('s1', { seq: 0, service: 'wine', startedAt: T0, offsetMs: 0, details: null, tariff });
      expect(await t.store.sessions.segments('s1')).toEqual([
        { seq: 0, service: 'wine', startedAt: T0, offsetMs: 0, details: null, tariff },
        { seq: 1, service: 'beer', startedAt: T0 + 90_000, offsetMs: 90_000, details: { kind: 'lager' }, tariff: null },
      ]);
    });
  });

  describe('touch', () => {
    it('moves last-alive forward for open records only, never back', async () => {
      await t.store.sessions.insertAttempt(attempt('s1'), T0);
      await t.store.sessions.insertAttempt(attempt('s2'), T0);
      await t.store.sessions.update('s2', { state: 'ended' }, T0);
      expect(await t.store.sessions.touch(['s1', 's2', 'nope'], T0 + 5000)).toBe(1);
      expect(await t.store.sessions.touch(['s1'], T0 + 1000)).toBe(0);
      expect((await t.store.sessions.get('s1'))?.lastAliveAt).toBe(T0 + 5000);
      expect((await t.store.sessions.get('s2'))?.lastAliveAt).toBeNull();
    });
  });

  describe('queries', () => {
    it('lists by user, state and time, newest first, and finds the open records of a node', async () => {
      await t.store.sessions.insertAttempt(attempt('s1', { requestedAt: T0 }), T0);
      await t.store.sessions.insertAttempt(attempt('s2', { requestedAt: T0 + 1, userId: 'bob@portal.test' }), T0);
      await t.store.sessions.insertAttempt(attempt('s3', { requestedAt: T0 + 2, nodeId: 'node-b' }), T0);
      await t.store.sessions.update('s1', { state: 'established' }, T0);
      await t.store.sessions.update('s2', { state: 'ended' }, T0);
      expect((await t.store.sessions.list()).map((s) => s.id)).toEqual(['s3', 's2', 's1']);
      expect((await t.store.sessions.list({ userId: 'alice@portal.test' })).map((s) => s.id)).toEqual(['s3', 's1']);
      expect((await t.store.sessions.list({ states: ['ended'] })).map((s) => s.id)).toEqual(['s2']);
      expect((await t.store.sessions.list({ before: T0 + 2, limit: 1 })).map((s) => s.id)).toEqual(['s2']);
      expect((await t.store.sessions.open('node-a')).map((s) => s.id)).toEqual(['s1']);
    });

    it('gives the rated sessions that ended in a period for bills', async () => {
      await t.store.sessions.insertAttempt(attempt('s1'), T0);
      await t.store.sessions.insertAttempt(attempt('s2'), T0);
      const rated = { tariffId: 't', currency: 'EUR', durationMs: 1000, freeMs: 0, billableSeconds: 1, minimumApplied: false, setupFee: { amount: 0, currency: 'EUR' }, timeCharge: { amount: 2, currency: 'EUR' }, total: { amount: 2, currency: 'EUR' }, segments: [] };
      await t.store.sessions.update('s1', { state: 'ended', started_at: T0, ended_at: T0 + 1000, rating: JSON.stringify(rated), amount: 2, currency: 'EUR' }, T0);
      await t.store.sessions.update('s2', { state: 'ended', started_at: T0, ended_at: Date.UTC(2026, 11, 1) }, T0);
      const period = { start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 11, 1) };
      expect(await t.store.sessions.billable('alice@portal.test', period)).toEqual([
        { sessionId: 's1', userId: 'alice@portal.test', service: 'lesson', startedAt: T0, endedAt: T0 + 1000, rated },
      ]);
      expect(await t.store.sessions.usersWithSessions(period)).toEqual(['alice@portal.test']);
    });
  });
});
