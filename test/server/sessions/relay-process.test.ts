import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Accounting } from '../../../server/accounting/accounting.js';
import { isBalanced } from '../../../server/billing/ledger.js';
import { openStore, type OpenedStore } from '../../../server/store/open-store.js';
import type { SipResponse } from '../../../sip/message/sip-response.js';
import { RelayProcessHome, type RelayProcess } from './support/relay-process.js';
import { type AppSession, TestAppServer, TestClient } from './support/relay-peers.js';

/** Short SIP timers for the user agents, so that a request the dead relay never answers times out in a second or two. */
const UA_TIMERS = { t1: 50, t2: 400 };

async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `siprelay serve` in a child process, killed and stopped (issue 4 item 3, issue 3 item 1). */
describe('the relay process', () => {
  let home: RelayProcessHome;
  let app: TestAppServer;
  const clients: TestClient[] = [];
  const relays: RelayProcess[] = [];
  let apiKey: string;

  beforeEach(async () => {
    home = new RelayProcessHome();
    app = await TestAppServer.start('wineshop', UA_TIMERS);
    await home.configure({
      services: [{ name: 'wine' }],
      staticTargets: [app.staticTarget('wine')],
      sessions: { recoveryGraceSeconds: 2, shutdownGraceSeconds: 10, shutdownByeWaitSeconds: 5 },
    });
    const store = await openStore(home.databaseUrl);
    for (const user of ['alice', 'bob']) {
      await store.subscribers.add({ username: user, domain: 'portal.test', password: `${user}-secret` });
      await store.accounts.setUser(`${user}@portal.test`, { mode: 'postpaid', currency: 'EUR', creditLimit: 1_000_000 });
    }
    await store.appServers.add({ name: 'wineshop', domain: 'portal.test', password: 'wineshop-secret', operator: 'vino' });
    apiKey = (await store.apiKeys.create({ kind: 'app-server', appServer: 'wineshop' })).key;
    await store.close();
  });

  afterEach(async () => {
    for (const r of relays.splice(0)) if (r.child.exitCode === null && r.child.signalCode === null) r.kill('SIGKILL');
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await app.close();
    home.dispose();
  });

  async function start(): Promise<RelayProcess> {
    const r = await home.start();
    relays.push(r);
    return r;
  }

  async function client(user: string): Promise<TestClient> {
    const c = await TestClient.start(home.udpPort, user, `${user}-secret`, UA_TIMERS);
    clients.push(c);
    return c;
  }

  /** A charge over the HTTP API with the application server's key; resolves with the HTTP status. */
  async function apiCharge(sessionId: string, id: string): Promise<number> {
    const r = await fetch(`http://127.0.0.1:${home.httpPort}/api/v1/sessions/${sessionId}/charges`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'idempotency-key': id, 'content-type': 'application/json' },
      body: JSON.stringify({ id, items: [{ sku: 'BOTTLE', description: 'A bottle', unitPrice: 900, quantity: 1, currency: 'EUR' }] }),
    });
    await r.arrayBuffer();
    return r.status;
  }

  function charge(s: AppSession, id: string, unitPrice: number): Promise<SipResponse> {
    return s.session.info({
      package: 'siprelay-charge',
      body: JSON.stringify({ id, items: [{ sku: 'GLASS', description: 'A glass', unitPrice, quantity: 1, currency: 'EUR' }] }),
      contentType: 'application/vnd.siprelay.charge+json',
    });
  }

  it('killed with SIGKILL mid-session and restarted on the same store: sessions that show life carry on, the rest end as interrupted, and every acknowledged charge is there exactly once', async () => {
    const first = await start();
    const alice = await client('alice');
    const bob = await client('bob');

    const busy = await alice.call('wine'); // charges flow in it, the application server ends it after the restart
    const busyApp = await app.sessions.next();
    const quiet = await alice.call('wine'); // nothing in it; both sides still have it after the restart
    const quietApp = await app.sessions.next();
    await bob.call('wine'); // bob's user agent is gone by the time the relay is back
    const lostApp = await app.sessions.next();

    // Charges by INFO before the crash: each acknowledged by the relay's receipt.
    const acknowledged: string[] = [];
    for (let i = 0; i < 5; i++) {
      expect((await charge(busyApp, `info-${i}`, 100)).status).toBe(200);
      acknowledged.push(`info-${i}`);
    }
    // A stream of charges over the HTTP API, several in flight when the relay is killed. (An INFO in
    // flight would time out, and a user agent ends its dialog on 408: RFC 3261 §12.2.1.2.)
    const unanswered: string[] = [];
    let n = 0;
    let stop = false;
    const stream = async () => {
      while (!stop) {
        const id = `api-${n++}`;
        const status = await apiCharge(busyApp.sessionId, id).catch(() => 0);
        if (status === 201 || status === 200) acknowledged.push(id);
        else unanswered.push(id);
      }
    };
    const streams = Promise.all([stream(), stream(), stream(), stream()]);
    await waitUntil('20 acknowledged API charges', () => acknowledged.length >= 25);
    first.kill('SIGKILL');
    await first.exited;
    await bob.close();
    stop = true;
    await streams;

    const second = await start();
    // The three sessions were rebuilt from their snapshots before the relay took requests.
    expect(second.logs.find((l) => l.msg === 'sessions recovered after a restart')).toMatchObject({ restored: 3, interrupted: 0 });
    expect(unanswered.length).toBeGreaterThan(0);
    // A charge the application server got no answer for is sent again with its key: stored once.
    for (const id of unanswered) {
      expect([200, 201]).toContain(await apiCharge(busyApp.sessionId, id));
      acknowledged.push(id);
    }
    // A retried charge that was acknowledged before the crash gets its first result again, by either route.
    expect(await apiCharge(busyApp.sessionId, acknowledged.find((id) => id.startsWith('api-'))!)).toBe(200);
    const again = await charge(busyApp, 'info-0', 100);
    expect(again.status).toBe(200);
    expect(again.header('siprelay-charge')).toBe('stored;id="info-0"');
    // And charges go on in the session that carried on.
    for (let i = 0; i < 3; i++) {
      expect((await charge(busyApp, `after-${i}`, 50)).status).toBe(200);
      acknowledged.push(`after-${i}`);
    }

    // BYE from either side works in the sessions that carried on.
    expect((await quiet.session.bye()).status).toBe(200);
    await quietApp.terminated;
    expect((await busyApp.session.bye()).status).toBe(200);
    await busy.terminated;
    // Bob's session: nothing, and his side does not answer the relay's OPTIONS: interrupted after the grace period.
    await lostApp.terminated;
    const store = await openStore(home.databaseUrl);
    try {
      await waitUntil('the lost session ended', async () => (await store.sessions.get(lostApp.sessionId))?.state === 'ended');
      const lost = await store.sessions.get(lostApp.sessionId);
      expect(lost).toMatchObject({ endedBy: 'interrupted' });
      // Ended at the last instant the relay knew it alive: before the restart.
      const restartedAt = Date.parse(String(second.logs.find((l) => l.msg === 'relay started')?.time ?? '')) || Date.now();
      expect(lost!.endedAt!).toBeLessThan(restartedAt);
      expect(await store.sessions.get(quietApp.sessionId)).toMatchObject({ state: 'ended', endedBy: 'caller' });
      expect(await store.sessions.get(busyApp.sessionId)).toMatchObject({ state: 'ended', endedBy: 'callee' });

      const charges = await store.charges.list({ limit: 10_000 });
      const keys = charges.map((c) => c.idempotencyKey);
      expect(new Set(keys).size).toBe(keys.length);
      expect(keys.sort()).toEqual([...new Set(acknowledged)].sort());

      second.kill('SIGTERM');
      expect((await second.exited).code).toBe(0);
      expect(isBalanced(await store.ledger.inPeriod({ start: 0, end: Number.MAX_SAFE_INTEGER }))).toBe(true);
      const accounting = new Accounting(store, { nodeId: 'checker', services: [] });
      const now = new Date();
      const period = `${now.getUTCFullYear()}-${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
      expect(await accounting.reports.billMatchesLedger('alice@portal.test', period)).toBe(true);
      await accounting.close();
      expect(await store.sessions.list({ states: ['attempt', 'answered', 'established'] })).toEqual([]);
    } finally {
      await store.close();
    }
  }, 90_000);

  it('stops cleanly on SIGTERM: new requests get 503, the one in flight finishes, live sessions end with BYE to both sides recorded as the operator, and the process exits 0', async () => {
    const relay = await start();
    const alice = await client('alice');
    const bob = await client('bob');
    const live = await alice.call('wine');
    const liveApp = await app.sessions.next();

    // An INVITE in flight when the signal comes.
    app.answer = 'hold';
    const pending = alice.core.invite('sip:wine@portal.test');
    const held = await app.held.next();
    relay.kill('SIGTERM');
    await relay.waitForLog((l) => l.msg === 'shutting down');
    const refused = await bob.refused('wine');
    expect(refused.status).toBe(503);
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    // It finishes: answered, relayed, and then ended like the other one.
    const lateApp = app.accept(held);
    const late = await pending.session;
    const lateEnded = new Promise<unknown>((resolve) => late.on('terminated', resolve));

    const [liveEnd] = await Promise.all([live.terminated, liveApp.terminated, lateEnded, lateApp.terminated]);
    expect(liveEnd.message?.header('reason')).toMatch(/^SIP;cause=503;text="shutdown: /);
    const exit = await relay.exited;
    expect(exit.code).toBe(0);
    expect(relay.logs.some((l) => l.msg === 'stopped')).toBe(true);

    const store: OpenedStore = await openStore(home.databaseUrl);
    try {
      for (const id of [liveApp.sessionId, lateApp.sessionId]) {
        expect(await store.sessions.get(id)).toMatchObject({ state: 'ended', endedBy: 'operator', endReason: 'relay shutdown' });
      }
      expect(await store.sessions.list({ states: ['attempt', 'answered', 'established'] })).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('makes the Record-Route and nonce secrets once when the configuration names none, and keeps them across restarts', async () => {
    const read = async () => {
      const store = await openStore(home.databaseUrl);
      try {
        return await store.db.withTables<{ relay_settings: { name: string; value: string } }>().selectFrom('relay_settings').select(['name', 'value']).orderBy('name').execute();
      } finally {
        await store.close();
      }
    };
    const runOnce = async () => {
      const r = await start();
      r.kill('SIGTERM');
      expect((await r.exited).code).toBe(0);
      return read();
    };
    const first = await runOnce();
    expect(first.map((r) => r.name)).toEqual(['nonce-secret', 'record-route-secret']);
    expect(await runOnce()).toEqual(first);
  }, 60_000);
});
