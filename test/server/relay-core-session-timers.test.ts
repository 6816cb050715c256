import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RelayedDialog } from '../../server/core/dialog-registry.js';
import type { DialogSupervision } from '../../server/core/dialog-supervision.js';
import type { SessionTimerTerms } from '../../server/core/session-timer.js';
import { waitFor } from '../sip/node/transport-test-kit.js';
import { service, startRelay, type RelayHarness } from './proxy/support/relay-harness.js';
import { TestUa } from './proxy/support/test-ua.js';

/** Records what the relay core tells its supervision. */
class RecordingSupervision implements DialogSupervision {
  readonly events: Array<{ event: string; sessionId: string; terms?: SessionTimerTerms; by?: string }> = [];
  answered(d: RelayedDialog, terms: SessionTimerTerms): void {
    this.events.push({ event: 'answered', sessionId: d.sessionId, terms });
  }
  started(d: RelayedDialog): void {
    this.events.push({ event: 'started', sessionId: d.sessionId });
  }
  refreshed(d: RelayedDialog, terms: SessionTimerTerms): void {
    this.events.push({ event: 'refreshed', sessionId: d.sessionId, terms });
  }
  resumed(d: RelayedDialog): void {
    this.events.push({ event: 'resumed', sessionId: d.sessionId });
  }
  closed(d: RelayedDialog, by: string): void {
    this.events.push({ event: 'closed', sessionId: d.sessionId, by });
  }
  names(): string[] {
    return this.events.map((e) => e.event);
  }
}

describe('relay core: session timers (RFC 4028) as a proxy', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;
  let supervision: RecordingSupervision;

  beforeEach(async () => {
    supervision = new RecordingSupervision();
    relay = await startRelay({ supervision, config: { timers: { minSessionExpiresSeconds: 120 } } });
    alice = await TestUa.node('alice');
    wine = await TestUa.node('wine-shop');
    relay.directory.add(service('wine', { sessionTimerSeconds: 600 }), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
  });

  afterEach(async () => {
    await Promise.all([alice.close(), wine.close()]);
    await relay.close();
  });

  function invite(headers: Array<[string, string]> = []) {
    return alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice'], ...headers] });
  }

  describe('on an INVITE it forwards', () => {
    it("adds the service's Session-Expires and the relay's Min-SE when the client sent none", async () => {
      const call = alice.send(invite(), relay.udp);
      const inc = await wine.nextRequest('INVITE');
      expect(inc.request.header('session-expires')).toBe('600');
      expect(inc.request.header('min-se')).toBe('120');
      wine.answer(inc, 486);
      expect((await call.final()).status).toBe(486);
    });

    it('answers 422 with its Min-SE to an interval below its minimum, and forwards nothing', async () => {
      const response = await alice.send(invite([['Session-Expires', '90']]), relay.udp).final();
      expect(response.status).toBe(422);
      expect(response.header('min-se')).toBe('120');
      await expect(wine.requests.next(200)).rejects.toThrow();
      // Nothing was spent on it: no challenge came first.
      expect(relay.auth.calls).toEqual([]);
    });

    it('answers 400 to a Session-Expires that does not parse', async () => {
      const response = await alice.send(invite([['Session-Expires', 'forever']]), relay.udp).final();
      expect(response.status).toBe(400);
    });

    it('lowers a longer interval to the service one, and keeps a shorter one', async () => {
      alice.send(invite([['Session-Expires', '3600;refresher=uac']]), relay.udp);
      const long = await wine.nextRequest('INVITE');
      expect(long.request.header('session-expires')).toBe('600;refresher=uac');
      wine.answer(long, 486);
      alice.send(invite([['Session-Expires', '300']]), relay.udp);
      const short = await wine.nextRequest('INVITE');
      expect(short.request.header('session-expires')).toBe('300');
      wine.answer(short, 486);
    });
  });

  describe('on the 2xx', () => {
    async function answer(o: { client?: Array<[string, string]>; server?: Array<[string, string]> } = {}) {
      const request = invite(o.client);
      const call = alice.send(request, relay.udp);
      const inc = await wine.nextRequest('INVITE');
      wine.answer(inc, 200, { toTag: 'wine-tag', headers: o.server });
      const ok = await call.final();
      const dialog = alice.uacDialog(request, ok);
      alice.ack(dialog);
      await wine.acks.next();
      return { ok, dialog, wineDialog: wine.uasDialog(inc.request, ok) };
    }

    it('supervises with the terms the UAs agreed on', async () => {
      const { ok } = await answer({ client: [['Supported', 'timer']], server: [['Session-Expires', '600;refresher=uac'], ['Require', 'timer']] });
      expect(ok.header('session-expires')).toBe('600;refresher=uac');
      expect(supervision.events[0]).toMatchObject({ event: 'answered', terms: { intervalSeconds: 600, refresher: 'uac' } });
      expect(supervision.names()).toEqual(['answered', 'started']);
    });

    it('asks the client to refresh when it supports timers and the application server does not (Session-Expires refresher=uac, Require: timer)', async () => {
      const { ok } = await answer({ client: [['Supported', 'timer']] });
      expect(ok.header('session-expires')).toBe('600;refresher=uac');
      expect(ok.optionTags('require')).toContain('timer');
      expect(supervision.events[0].terms).toEqual({ intervalSeconds: 600, refresher: 'uac' });
    });

    it('supervises with its own interval when neither side supports timers', async () => {
      const { ok } = await answer();
      expect(ok.hasHeader('session-expires')).toBe(false);
      expect(supervision.events[0].terms).toEqual({ intervalSeconds: 600, refresher: undefined });
    });

    it('counts a 2xx to a re-INVITE or UPDATE as a refresh, with the terms it carries', async () => {
      const { dialog, wineDialog } = await answer({ client: [['Supported', 'timer']], server: [['Session-Expires', '600;refresher=uac']] });
      const reinvite = alice.send(alice.inDialogRequest(dialog, 'INVITE', { headers: [['Session-Expires', '300;refresher=uac'], ['Supported', 'timer']] }));
      const reIn = await wine.nextRequest('INVITE');
      wine.answer(reIn, 200, { toTag: 'wine-tag', headers: [['Session-Expires', '300;refresher=uac']] });
      expect((await reinvite.final()).status).toBe(200);
      alice.ack(dialog);
      const update = wine.send(wine.inDialogRequest(wineDialog, 'UPDATE'));
      alice.answer(await alice.nextRequest('UPDATE'), 200);
      expect((await update.final()).status).toBe(200);
      await waitFor(() => supervision.names().filter((n) => n === 'refreshed').length === 2);
      const refreshes = supervision.events.filter((e) => e.event === 'refreshed').map((e) => e.terms);
      // The UPDATE carried no Session-Expires: the relay is back on its own interval.
      expect(refreshes).toEqual([
        { intervalSeconds: 300, refresher: 'uac' },
        { intervalSeconds: 300, refresher: undefined },
      ]);
    });

    it('refuses a refresh below its minimum with 422', async () => {
      const { dialog } = await answer();
      const response = await alice.send(alice.inDialogRequest(dialog, 'UPDATE', { headers: [['Session-Expires', '100']] })).final();
      expect(response.status).toBe(422);
      expect(response.header('min-se')).toBe('120');
    });

    it('tells the supervision when the dialog is over, by BYE or by the relay', async () => {
      const first = await answer();
      const bye = alice.send(alice.inDialogRequest(first.dialog, 'BYE'));
      wine.answer(await wine.nextRequest('BYE'), 200);
      expect((await bye.final()).status).toBe(200);
      await waitFor(() => supervision.names().includes('closed'));
      expect(supervision.events.at(-1)).toMatchObject({ event: 'closed', by: 'bye' });
      await answer();
      const ending = relay.core.endDialog(relay.core.liveDialogs()[0]);
      alice.answer(await alice.nextRequest('BYE'), 200);
      wine.answer(await wine.nextRequest('BYE'), 200);
      await ending;
      expect(supervision.events.at(-1)).toMatchObject({ event: 'closed', by: 'relay' });
    });
  });

  describe('probeDialog', () => {
    it("sends an OPTIONS into the dialog as the other side would, never ahead of that side's CSeq, and resolves with the answer", async () => {
      const request = invite();
      const call = alice.send(request, relay.udp);
      const inc = await wine.nextRequest('INVITE');
      wine.answer(inc, 200, { toTag: 'wine-tag' });
      const dialog = alice.uacDialog(request, await call.final());
      alice.ack(dialog);
      const [live] = relay.core.liveDialogs();
      const toWine = relay.core.probeDialog(live, 'callee');
      const probe = await wine.nextRequest('OPTIONS');
      expect(probe.request.from.tag).toBe(dialog.localTag);
      expect(probe.request.to.tag).toBe('wine-tag');
      expect(probe.request.cseq.seq).toBe(dialog.localCSeq);
      wine.answer(probe, 200);
      expect(await toWine).toBe(200);
      const toAlice = relay.core.probeDialog(live.sessionId, 'caller');
      alice.answer(await alice.nextRequest('OPTIONS'), 481);
      expect(await toAlice).toBe(481);
      // The real caller's next request is still in order at the application server.
      const info = alice.send(alice.inDialogRequest(dialog, 'INFO', { body: 'x', contentType: 'text/plain' }));
      const infoIn = await wine.nextRequest('INFO');
      expect(infoIn.request.cseq.seq).toBeGreaterThan(probe.request.cseq.seq);
      wine.answer(infoIn, 200);
      await info.final();
      expect(await relay.core.probeDialog('no-such-session', 'caller')).toBe(481);
    });
  });
});
