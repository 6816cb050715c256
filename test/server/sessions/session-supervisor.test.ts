import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionSupervisor } from '../../../server/sessions/session-supervisor.js';
import { ManualClock } from '../../../sip/util/clock.js';
import { sleep, waitFor } from '../../sip/node/transport-test-kit.js';
import { service, startRelay, type RelayHarness } from '../proxy/support/relay-harness.js';
import { type Incoming, type TestDialog, TestUa } from '../proxy/support/test-ua.js';
import { FakeSupervisorAccounting } from './support/fake-supervisor-accounting.js';

const S = 1000;

describe('session supervision', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;
  let clock: ManualClock;
  let accounting: FakeSupervisorAccounting;
  let supervisor: SessionSupervisor;

  beforeEach(async () => {
    clock = new ManualClock();
    accounting = new FakeSupervisorAccounting();
    const wineService = service('wine', { sessionTimerSeconds: 600, maxDurationSeconds: 3600 });
    const shortService = service('short', { sessionTimerSeconds: 600, maxDurationSeconds: 100 });
    supervisor = new SessionSupervisor({ nodeId: 'n1', services: [wineService, shortService], accounting, clock });
    relay = await startRelay({ supervision: supervisor, t1Ms: 20 });
    supervisor.attach(relay.core);
    alice = await TestUa.node('alice');
    wine = await TestUa.node('wine-shop');
    const target = [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }];
    relay.directory.add(wineService, target);
    relay.directory.add(shortService, target);
  });

  afterEach(async () => {
    supervisor.stop();
    await Promise.all([alice.close(), wine.close()]);
    await relay.close();
  });

  /**
   * A session of `svc`; `timer` is the Session-Expires of the application
   * server's 2xx, and the client then says it supports timers (none: neither
   * side does, and the relay uses its own interval).
   */
  async function establish(o: { svc?: string; timer?: string; ack?: boolean } = {}) {
    const headers: Array<[string, string]> = [['X-Test-User', 'alice']];
    if (o.timer) headers.push(['Supported', 'timer']);
    const request = alice.newRequest('INVITE', `sip:${o.svc ?? 'wine'}@portal.test`, { headers });
    const call = alice.send(request, relay.udp);
    const inc = await wine.nextRequest('INVITE');
    const ok = wine.answer(inc, 200, { headers: o.timer ? [['Session-Expires', o.timer], ['Require', 'timer']] : [] });
    const final = await call.final();
    const clientDialog = alice.uacDialog(request, final);
    const wineDialog = wine.uasDialog(inc.request, ok);
    if (o.ack !== false) {
      alice.ack(clientDialog);
      await wine.acks.next();
    }
    const sessionId = relay.core.liveDialogs().find((d) => d.callId === request.callId)!.sessionId;
    return { clientDialog, wineDialog, sessionId };
  }

  /** Both sides' BYEs from the relay, answered 200. */
  async function relayByes(): Promise<{ toAlice: Incoming; toWine: Incoming }> {
    const toAlice = await alice.nextRequest('BYE');
    const toWine = await wine.nextRequest('BYE');
    alice.answer(toAlice, 200);
    wine.answer(toWine, 200);
    return { toAlice, toWine };
  }

  async function noRequest(ua: TestUa, ms = 150): Promise<void> {
    await sleep(ms);
    expect(ua.requests.items.map((i) => i.request.method)).toEqual([]);
  }

  describe('a session timer the UAs negotiated (RFC 4028 §10)', () => {
    it('ends a session not refreshed by its expiry: BYE to both sides with a Reason naming session-timer, record ended as session-timer', async () => {
      const { sessionId, clientDialog } = await establish({ timer: '600;refresher=uac' });
      clock.advance(599 * S);
      await noRequest(alice);
      clock.advance(1 * S);
      const { toAlice, toWine } = await relayByes();
      expect(toAlice.request.header('reason')).toBe('SIP;cause=408;text="session-timer: the session was not refreshed in time"');
      expect(toWine.request.header('reason')).toMatch(/session-timer/);
      expect([toWine.request.from.tag, toWine.request.to.tag]).toEqual([clientDialog.localTag, clientDialog.remoteTag]);
      expect(accounting.ended).toEqual([{ sessionId, by: 'session-timer', reason: 'the session was not refreshed in time' }]);
      expect(relay.core.liveDialogs()).toEqual([]);
      expect(supervisor.size).toBe(0);
    });

    it('moves the expiry with each refresh (a 2xx to re-INVITE or UPDATE), on the one timer of the session', async () => {
      const { clientDialog } = await establish({ timer: '600;refresher=uac' });
      expect(clock.pending).toBe(1);
      clock.advance(300 * S);
      const update = alice.send(alice.inDialogRequest(clientDialog, 'UPDATE', { headers: [['Session-Expires', '600;refresher=uac']] }));
      wine.answer(await wine.nextRequest('UPDATE'), 200, { headers: [['Session-Expires', '600;refresher=uac']] });
      expect((await update.final()).status).toBe(200);
      await waitFor(() => supervisor.deadlines(relay.core.liveDialogs()[0].sessionId)?.expiresAt === 900 * S);
      expect(clock.pending).toBe(1);
      clock.advance(300 * S);
      await noRequest(alice);
      expect(clock.pending).toBe(1);
      clock.advance(300 * S);
      await relayByes();
      expect(accounting.ended.map((e) => e.by)).toEqual(['session-timer']);
    });
  });

  describe("the relay's own interval (neither UA took the timer)", () => {
    it('asks both sides with an OPTIONS in the dialog when the interval passes; both answering, the session goes on', async () => {
      const { sessionId } = await establish();
      expect(supervisor.deadlines(sessionId)).toMatchObject({ negotiated: false, expiresAt: 600 * S });
      clock.advance(600 * S);
      const probeAlice = await alice.nextRequest('OPTIONS');
      const probeWine = await wine.nextRequest('OPTIONS');
      alice.answer(probeAlice, 200);
      // Any answer but 481 proves the side still has the dialog.
      wine.answer(probeWine, 405);
      await waitFor(() => supervisor.deadlines(sessionId)?.expiresAt === 1200 * S);
      expect(relay.core.liveDialogs()).toHaveLength(1);
      expect(accounting.ended).toEqual([]);
    });

    it('ends the session (session-timer) when a side no longer has the dialog (481)', async () => {
      const { sessionId } = await establish();
      clock.advance(600 * S);
      alice.answer(await alice.nextRequest('OPTIONS'), 481);
      wine.answer(await wine.nextRequest('OPTIONS'), 200);
      await relayByes();
      expect(accounting.ended).toEqual([{ sessionId, by: 'session-timer', reason: 'not refreshed in time, and the caller did not answer (481)' }]);
    });

    it('ends a session whose client vanished: its OPTIONS gets no answer', async () => {
      const { sessionId } = await establish();
      await alice.close();
      clock.advance(600 * S);
      const probe = await wine.nextRequest('OPTIONS');
      wine.answer(probe, 200);
      const bye = await wine.nextRequest('BYE', 5000);
      wine.answer(bye, 200);
      expect(bye.request.header('reason')).toMatch(/^SIP;cause=408;text="session-timer: /);
      await waitFor(() => accounting.ended.length === 1, 5000);
      expect(accounting.ended[0]).toMatchObject({ sessionId, by: 'session-timer' });
      expect(accounting.ended[0].reason).toMatch(/the caller did not answer/);
      alice = await TestUa.node('alice');
    });
  });

  describe('the maximum duration of a service', () => {
    it('ends a session at its limit, counted from the ACK: BYE to both sides, record ended as max-duration', async () => {
      const { clientDialog, sessionId } = await establish({ svc: 'short', ack: false });
      clock.advance(20 * S);
      alice.ack(clientDialog);
      await wine.acks.next();
      clock.advance(99 * S);
      await noRequest(alice);
      clock.advance(1 * S);
      const { toAlice } = await relayByes();
      expect(toAlice.request.header('reason')).toMatch(/^SIP;cause=200;text="max-duration: /);
      expect(accounting.ended).toEqual([{ sessionId, by: 'max-duration', reason: "the service's maximum duration was reached" }]);
    });
  });

  describe('ends by others', () => {
    it("ends a session for the operator with the operator's reason, and knows no session twice", async () => {
      const { sessionId } = await establish();
      const ending = supervisor.endSession(sessionId, 'operator', 'fraud suspected');
      expect(ending).toMatchObject({ sessionId, endedBy: 'operator', reason: 'fraud suspected' });
      const { toAlice } = await relayByes();
      expect(toAlice.request.header('reason')).toBe('SIP;cause=200;text="operator: fraud suspected"');
      expect(await ending!.byes).toEqual({ caller: 200, callee: 200 });
      expect(accounting.ended).toEqual([{ sessionId, by: 'operator', reason: 'fraud suspected' }]);
      expect(supervisor.endSession(sessionId, 'operator')).toBeUndefined();
      expect(supervisor.endSession('0'.repeat(32), 'operator')).toBeUndefined();
    });

    it('ends every live session at shutdown, recorded as the operator and told as a shutdown', async () => {
      await establish();
      await establish();
      const all = supervisor.endAll('shutdown', 'relay shutdown');
      expect(all.endings).toHaveLength(2);
      for (let i = 0; i < 2; i++) await relayByes();
      await all.recorded;
      await all.byes;
      expect(accounting.ended.map((e) => [e.by, e.reason])).toEqual([
        ['operator', 'relay shutdown'],
        ['operator', 'relay shutdown'],
      ]);
      expect(relay.core.liveDialogs()).toEqual([]);
    });

    it('stops watching a session that ended by BYE', async () => {
      const { clientDialog } = await establish();
      expect(supervisor.size).toBe(1);
      const bye = alice.send(alice.inDialogRequest(clientDialog as TestDialog, 'BYE'));
      wine.answer(await wine.nextRequest('BYE'), 200);
      await bye.final();
      await waitFor(() => supervisor.size === 0);
      expect(clock.pending).toBe(0);
    });
  });
});
