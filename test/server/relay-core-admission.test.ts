import { afterEach, describe, expect, it } from 'vitest';
import type { AdmissionVerdict, SessionAdmission } from '../../server/core/session-admission.js';
import type { AuthenticatedParty } from '../../server/relay-ports.js';
import { waitFor } from '../sip/node/transport-test-kit.js';
import { service, startRelay, type HarnessOptions, type RelayHarness } from './proxy/support/relay-harness.js';
import { type Incoming, TestUa } from './proxy/support/test-ua.js';

describe('relay core: admission of new sessions', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;

  async function start(o: HarnessOptions = {}, maxSessions: number | null = null) {
    relay = await startRelay(o);
    alice = await TestUa.node('alice');
    wine = await TestUa.node('wine-shop');
    relay.directory.add(service('wine', { maxSessions }), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
  }

  afterEach(async () => {
    await Promise.all([alice?.close(), wine?.close()]);
    await relay?.close();
  });

  function invite(user = 'alice', headers: Array<[string, string]> = []) {
    return alice.newRequest('INVITE', 'sip:wine@portal.test', { from: `sip:${user}@portal.test`, headers: [['X-Test-User', user], ...headers] });
  }

  /** An answered and acknowledged session of `user`. */
  async function establish(user = 'alice') {
    const request = invite(user);
    const call = alice.send(request, relay.udp);
    const inc = await wine.nextRequest('INVITE');
    wine.answer(inc, 200);
    const ok = await call.final();
    expect(ok.status).toBe(200);
    const dialog = alice.uacDialog(request, ok);
    alice.ack(dialog);
    await wine.acks.next();
    return dialog;
  }

  describe('the admission port (credit control)', () => {
    it("answers the port's refusal (402) before anything is forwarded, and forwards what it admits", async () => {
      const asked: Array<{ party: AuthenticatedParty; service: string }> = [];
      const admission: SessionAdmission = {
        admit(party, svc): AdmissionVerdict {
          asked.push({ party, service: svc.name });
          return party.username === 'bob' ? { admitted: false, status: 402, reason: 'insufficient credit: no account' } : { admitted: true };
        },
      };
      await start({ admission });
      const refused = await alice.send(invite('bob'), relay.udp).final();
      expect(refused.status).toBe(402);
      expect(refused.reason).toBe('insufficient credit: no account');
      await expect(wine.requests.next(200)).rejects.toThrow();
      await establish('alice');
      expect(asked.map((a) => [a.party.username, a.service])).toEqual([
        ['bob', 'wine'],
        ['alice', 'wine'],
      ]);
      // A refused INVITE holds no place toward the limits.
      expect(relay.core.inFlightRequests).toBe(0);
    });

    it('waits for an asynchronous verdict, and answers 500 when the port fails', async () => {
      let fail = false;
      await start({
        admission: {
          async admit() {
            await new Promise((r) => setTimeout(r, 30));
            if (fail) throw new Error('store is down');
            return { admitted: true };
          },
        },
      });
      await establish();
      fail = true;
      expect((await alice.send(invite(), relay.udp).final()).status).toBe(500);
      expect(relay.errors).toHaveLength(1);
    });

    it('is not asked about in-dialog requests', async () => {
      let asked = 0;
      await start({ admission: { admit: () => (asked++, { admitted: true }) } });
      const dialog = await establish();
      const reinvite = alice.send(alice.inDialogRequest(dialog, 'INVITE'));
      wine.answer(await wine.nextRequest('INVITE'), 200);
      expect((await reinvite.final()).status).toBe(200);
      expect(asked).toBe(1);
    });
  });

  describe('services[].maxSessions', () => {
    it('answers 503 with Retry-After while the service has that many live sessions, and takes new ones once one ends', async () => {
      await start({ busyRetryAfterSeconds: 17 }, 1);
      const dialog = await establish();
      const full = await alice.send(invite(), relay.udp).final();
      expect(full.status).toBe(503);
      expect(full.header('retry-after')).toBe('17');
      const bye = alice.send(alice.inDialogRequest(dialog, 'BYE'));
      wine.answer(await wine.nextRequest('BYE'), 200);
      await bye.final();
      await establish();
    });

    it('counts INVITEs admitted but not answered yet, so a burst cannot overshoot', async () => {
      await start({}, 1);
      const first = alice.send(invite(), relay.udp);
      const inc: Incoming = await wine.nextRequest('INVITE');
      expect((await alice.send(invite(), relay.udp).final()).status).toBe(503);
      // The first attempt fails: its place is free again.
      wine.answer(inc, 486);
      expect((await first.final()).status).toBe(486);
      await waitFor(() => relay.core.inFlightRequests === 0);
      await establish();
    });
  });

  describe('limits.maxSessionsPerUser', () => {
    it('answers 403 to a user with that many live sessions; other users are not affected', async () => {
      await start({ config: { limits: { maxSessionsPerUser: 1 } } });
      await establish('alice');
      const second = await alice.send(invite('alice'), relay.udp).final();
      expect(second.status).toBe(403);
      expect(second.reason).toBe('Too Many Sessions For This User');
      await establish('bob');
    });

    it('lets an INVITE that replaces one of the user sessions through (RFC 3891: the replaced one ends)', async () => {
      await start({ config: { limits: { maxSessionsPerUser: 1 } } });
      const dialog = await establish('alice');
      const replaces = `${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`;
      const call = alice.send(invite('alice', [['Replaces', replaces]]), relay.udp);
      const inc = await wine.nextRequest('INVITE');
      // The relay keeps Replaces to itself and ends the replaced session once the new one starts.
      expect(inc.request.hasHeader('replaces')).toBe(false);
      wine.answer(inc, 200);
      expect((await call.final()).status).toBe(200);
    });
  });
});

describe('relay core: a charge INFO the relay answers itself and still shows the user (verdict `forward`)', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;

  afterEach(async () => {
    await Promise.all([alice.close(), wine.close()]);
    await relay.close();
  });

  it("answers the application server with the verdict, forwards the INFO to the client and absorbs the client's answer", async () => {
    relay = await startRelay();
    alice = await TestUa.node('alice');
    wine = await TestUa.node('wine-shop');
    relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
    relay.observer.verdict = async (request, by) =>
      request.method === 'INFO' && by === 'callee'
        ? { action: 'respond', status: 200, reason: 'OK', headers: [['Siprelay-Charge', 'stored;id="c-1"']], forward: true }
        : { action: 'relay' };
    const request = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] });
    const call = alice.send(request, relay.udp);
    const inc = await wine.nextRequest('INVITE');
    const ok = wine.answer(inc, 200, { toTag: 'wine-tag' });
    alice.ack(alice.uacDialog(request, await call.final()));
    const wineDialog = wine.uasDialog(inc.request, ok);
    const info = wine.send(wine.inDialogRequest(wineDialog, 'INFO', { body: '{"id":"c-1"}', contentType: 'application/vnd.siprelay.charge+json' }));
    const receipt = await info.final();
    expect(receipt.status).toBe(200);
    expect(receipt.header('siprelay-charge')).toBe('stored;id="c-1"');
    const shown = await alice.nextRequest('INFO');
    expect(shown.request.bodyText).toBe('{"id":"c-1"}');
    alice.answer(shown, 415);
    // The client's refusal does not reach the application server, which has its receipt already.
    await new Promise((r) => setTimeout(r, 100));
    expect(info.all.filter((r) => r.status >= 200).map((r) => r.status)).toEqual([200]);
  });
});
