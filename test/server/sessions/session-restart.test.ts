import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OpenSession } from '../../../server/accounting/session-recovery.js';
import { STALE_CSEQ_MARGIN } from '../../../server/core/relay-request.js';
import { DialogJournal } from '../../../server/sessions/dialog-journal.js';
import { SessionSupervisor } from '../../../server/sessions/session-supervisor.js';
import type { SessionRecord } from '../../../server/store/session-repository.js';
import type { OpenedStore } from '../../../server/store/open-store.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { waitFor } from '../../sip/node/transport-test-kit.js';
import { service, startRelay, type HarnessOptions, type RelayHarness } from '../proxy/support/relay-harness.js';
import { type Incoming, type TestDialog, TestUa } from '../proxy/support/test-ua.js';
import { scratchDatabase, type ScratchDatabase } from '../store/store-backends.js';
import { FakeSupervisorAccounting } from './support/fake-supervisor-accounting.js';

const SECRET = 'a-record-route-secret-that-outlives-the-process';
const WINE = service('wine', { sessionTimerSeconds: 600, maxDurationSeconds: 3600 });

/**
 * A relay core that goes away with live sessions and a new one on the same
 * ports and Record-Route secret, which rebuilds them from their snapshots
 * (the whole-process kill -9 test is relay-process.test.ts).
 */
describe('sessions over a restart of the relay', () => {
  let scratch: ScratchDatabase;
  let store: OpenedStore;
  let alice: TestUa;
  let bob: TestUa;
  let wine: TestUa;
  let relays: RelayHarness[] = [];
  let supervisors: SessionSupervisor[] = [];

  async function relayWith(accounting: FakeSupervisorAccounting, clock: ManualClock, o: HarnessOptions = {}) {
    const supervisor = new SessionSupervisor({
      nodeId: 'n1',
      services: [WINE],
      accounting,
      journal: new DialogJournal({ db: store.db, nodeId: 'n1' }),
      recoveryGraceMs: 10_000,
      clock,
    });
    const relay = await startRelay({ supervision: supervisor, recordRouteSecret: SECRET, t1Ms: 20, ...o });
    supervisor.attach(relay.core);
    relay.directory.add(WINE, [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
    relays.push(relay);
    supervisors.push(supervisor);
    return { relay, supervisor };
  }

  beforeEach(async () => {
    scratch = scratchDatabase('sqlite');
    store = await scratch.open();
    alice = await TestUa.node('alice');
    bob = await TestUa.node('bob', 'TCP');
    wine = await TestUa.node('wine-shop');
  });

  afterEach(async () => {
    for (const s of supervisors) s.stop();
    await Promise.all([alice.close(), bob.close(), wine.close(), ...relays.map((r) => r.close().catch(() => undefined))]);
    relays = [];
    supervisors = [];
    await store.close();
    await scratch.dispose();
  });

  async function establish(relay: RelayHarness, ua: TestUa, user: string) {
    const request = ua.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', user]] });
    const call = ua.send(request, ua.protocol === 'TCP' ? relay.tcp : relay.udp);
    const inc = await wine.nextRequest('INVITE');
    const ok = wine.answer(inc, 200);
    const client = ua.uacDialog(request, await call.final());
    ua.ack(client);
    await wine.acks.next();
    const sessionId = relay.core.liveDialogs().find((d) => d.callId === request.callId)!.sessionId;
    return { client, server: wine.uasDialog(inc.request, ok), sessionId };
  }

  function openSession(sessionId: string, lastAliveAt: number): OpenSession {
    const record = { id: sessionId, state: 'established', startedAt: Date.now() - 5000, answeredAt: Date.now() - 5100 } as SessionRecord;
    return { record, segments: [], lastAliveAt };
  }

  /** The next request of `method` on `ua` in dialog `callId`. */
  async function nextIn(ua: TestUa, method: string, callId: string): Promise<Incoming> {
    for (;;) {
      const r = await ua.nextRequest(method);
      if (r.request.callId === callId) return r;
      ua.requests.items.push(r);
      await new Promise((res) => setTimeout(res, 5));
    }
  }

  it('rebuilds the sessions: those that show life carry on (BYE from either side, over UDP and TCP), the rest end as interrupted after the grace period', async () => {
    const clock1 = new ManualClock();
    const before = await relayWith(new FakeSupervisorAccounting(), clock1);
    const a = await establish(before.relay, alice, 'alice'); // both sides answer the relay's OPTIONS
    const b = await establish(before.relay, alice, 'alice'); // the client lost it: interrupted after the grace period
    const c = await establish(before.relay, bob, 'bob'); // a TCP client, reached again at its address
    const d = await establish(before.relay, alice, 'alice'); // silent to the probe, then the client sends BYE
    const ports = { udp: before.relay.udp.port, tcp: before.relay.tcp.port };
    // The relay goes away without a word to anyone.
    before.supervisor.stop();
    await before.relay.close();

    const accounting = new FakeSupervisorAccounting();
    accounting.open = [a, b, c, d].map((s, i) => openSession(s.sessionId, 1_000 + i));
    const clock = new ManualClock();
    const after = await relayWith(accounting, clock, { ports });
    const report = await after.supervisor.recover();
    expect([...report.restored].sort()).toEqual([a, b, c, d].map((s) => s.sessionId).sort());
    expect(after.relay.core.liveDialogs()).toHaveLength(4);
    after.supervisor.startRecoveryProbes();

    // The relay asks both sides of each session whether they still have it.
    alice.answer(await nextIn(alice, 'OPTIONS', a.client.callId), 200);
    wine.answer(await nextIn(wine, 'OPTIONS', a.client.callId), 200);
    alice.answer(await nextIn(alice, 'OPTIONS', b.client.callId), 481);
    wine.answer(await nextIn(wine, 'OPTIONS', b.client.callId), 200);
    bob.answer(await nextIn(bob, 'OPTIONS', c.client.callId), 200);
    wine.answer(await nextIn(wine, 'OPTIONS', c.client.callId), 200);
    alice.answer(await nextIn(alice, 'OPTIONS', d.client.callId), 481);
    wine.answer(await nextIn(wine, 'OPTIONS', d.client.callId), 200);
    await waitFor(() => accounting.adopted.length === 2);
    expect(accounting.adopted.sort()).toEqual([a.sessionId, c.sessionId].sort());

    // d: the client's BYE is its sign of life; it is routed and reported as ever.
    const byeD = alice.send(alice.inDialogRequest(d.client, 'BYE'));
    wine.answer(await nextIn(wine, 'BYE', d.client.callId), 200);
    expect((await byeD.final()).status).toBe(200);
    expect(accounting.adopted).toContain(d.sessionId);
    await waitFor(() => after.relay.observer.names().includes('ended'));
    expect(after.relay.observer.events.find((e) => e.event === 'ended')).toMatchObject({ by: 'caller', m: { sessionId: d.sessionId } });

    // a: the application server's BYE reaches the UDP client.
    const byeA = wine.send(wine.inDialogRequest(a.server, 'BYE'));
    alice.answer(await nextIn(alice, 'BYE', a.client.callId), 200);
    expect((await byeA.final()).status).toBe(200);

    // c: an INFO toward the TCP client goes over a new connection to its Contact, and its own BYE comes back over it.
    const info = wine.send(wine.inDialogRequest(c.server, 'INFO', { body: 'x', contentType: 'text/plain' }));
    bob.answer(await nextIn(bob, 'INFO', c.client.callId), 200);
    expect((await info.final()).status).toBe(200);
    const byeC = bob.send(bob.inDialogRequest(c.client, 'BYE'));
    wine.answer(await nextIn(wine, 'BYE', c.client.callId), 200);
    expect((await byeC.final()).status).toBe(200);

    // b: nothing within the grace period.
    expect(accounting.interrupted).toEqual([]);
    clock.advance(10_000);
    const toWine = await nextIn(wine, 'BYE', b.client.callId);
    expect(toWine.request.header('reason')).toMatch(/^SIP;cause=500;text="interrupted: /);
    // The BYE's CSeq jumps past anything the client may have sent since the snapshot.
    expect(toWine.request.cseq.seq).toBeGreaterThanOrEqual(b.client.localCSeq + STALE_CSEQ_MARGIN);
    wine.answer(toWine, 200);
    alice.answer(await nextIn(alice, 'BYE', b.client.callId), 481);
    expect(accounting.interrupted).toEqual([{ sessionId: b.sessionId, lastAliveAt: 1_001 }]);
    await waitFor(() => after.relay.core.liveDialogs().length === 0);
    expect(after.supervisor.size).toBe(0);
  });

  it('ends at once, as interrupted, the open records it has nothing to rebuild from, and drops snapshots of closed ones', async () => {
    const first = await relayWith(new FakeSupervisorAccounting(), new ManualClock());
    const s = await establish(first.relay, alice, 'alice');
    first.supervisor.stop();
    await first.relay.close();
    const accounting = new FakeSupervisorAccounting();
    // An attempt that never got its 2xx; the session with a snapshot ended while the relay was down.
    accounting.open = [{ ...openSession('attempt-1', 77), record: { ...openSession('attempt-1', 77).record, state: 'attempt' } as SessionRecord }];
    const after = await relayWith(accounting, new ManualClock());
    const report = await after.supervisor.recover();
    expect(report).toEqual({ restored: [], interrupted: ['attempt-1'] });
    expect(accounting.interrupted).toEqual([{ sessionId: 'attempt-1', lastAliveAt: 77 }]);
    expect((await new DialogJournal({ db: store.db, nodeId: 'n1' }).load()).has(s.sessionId)).toBe(false);
    expect(after.relay.core.liveDialogs()).toEqual([]);
  });

  it('refuses in-dialog requests of the old dialogs when the secret changed (what the kept secret avoids)', async () => {
    const first = await relayWith(new FakeSupervisorAccounting(), new ManualClock());
    const s = await establish(first.relay, alice, 'alice');
    const ports = { udp: first.relay.udp.port, tcp: first.relay.tcp.port };
    first.supervisor.stop();
    await first.relay.close();
    await relayWith(new FakeSupervisorAccounting(), new ManualClock(), { ports, recordRouteSecret: 'another-secret-another-secret-!!' });
    const bye = await alice.send(alice.inDialogRequest(s.client as TestDialog, 'BYE')).final();
    expect(bye.status).toBe(403);
  });
});
