import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNameAddress } from '../../sip/grammar/name-address.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import { RecordRouteSigner } from '../../server/proxy/record-route-token.js';
import { sleep, waitFor } from '../sip/node/transport-test-kit.js';
import { service, startRelay, type RelayHarness } from './proxy/support/relay-harness.js';
import { type Incoming, type TestDialog, TestUa } from './proxy/support/test-ua.js';

/** Sets up one answered and acknowledged session from `client` to the wine service. */
async function establish(relay: RelayHarness, client: TestUa, wine: TestUa, dest = relay.udp) {
  const invite = client.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']], body: '{"want":"red"}' });
  const call = client.send(invite, dest);
  const inc = await wine.nextRequest('INVITE');
  const ok = wine.answer(inc, 200, { toTag: 'wine-tag', body: '{"url":"https://wine.test/1"}' });
  const final = await call.final();
  expect(final.status).toBe(200);
  const clientDialog = client.uacDialog(invite, final);
  const wineDialog = wine.uasDialog(inc.request, ok);
  client.ack(clientDialog);
  await wine.acks.next();
  return { invite, inc, clientDialog, wineDialog };
}

describe('relay core: dialogs with a WebSocket client (double record-route, flow tokens)', () => {
  let relay: RelayHarness;
  let browser: TestUa;
  let wine: TestUa;

  beforeEach(async () => {
    relay = await startRelay();
    browser = await TestUa.websocket('alice', relay.wsUrl);
    wine = await TestUa.node('wine-shop');
    relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
  });

  afterEach(async () => {
    await Promise.all([browser.close(), wine.close()]);
    await relay.close();
  });

  it('record-routes twice when the request changes transport: the UDP side on top, the WS side below, both with the signed token and lr', async () => {
    const invite = browser.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] });
    const call = browser.send(invite);
    const inc = await wine.nextRequest('INVITE');
    const rr = inc.request.headerList('record-route').map((v) => parseNameAddress(v).uri as SipUri);
    expect(rr).toHaveLength(2);
    const [udpSide, wsSide] = rr;
    expect([udpSide.transport, udpSide.port]).toEqual(['udp', relay.udp.port]);
    expect(wsSide.transport).toBe('ws');
    expect(wsSide.port).toBe(Number(new URL(relay.wsUrl).port));
    expect(udpSide.lr && wsSide.lr).toBe(true);
    expect(udpSide.user).toBe(wsSide.user);
    // The token names the browser's WebSocket flow and is bound to this Call-ID.
    expect(relay.core.proxy.verifyToken(wsSide.user!, invite.callId)?.callerFlowId).toMatch(/^ws\//);
    expect(relay.core.proxy.verifyToken(wsSide.user!, 'another-call')).toBeUndefined();
    wine.answer(inc, 486);
    expect((await call.final()).status).toBe(486);
  });

  it("routes the application server's BYE to the browser over its WebSocket, whatever its .invalid Contact says, and reports the end by the callee", async () => {
    const { clientDialog, wineDialog } = await establish(relay, browser, wine, undefined);
    expect(clientDialog.remoteTarget).toContain('127.0.0.1');
    expect(wineDialog.remoteTarget).toMatch(/\.invalid/);
    const bye = wine.send(wine.inDialogRequest(wineDialog, 'BYE'));
    const byeIn = await browser.nextRequest('BYE');
    expect(byeIn.request.rawUri).toBe(wineDialog.remoteTarget);
    expect(byeIn.request.hasHeader('route')).toBe(false);
    browser.answer(byeIn, 200);
    expect((await bye.final()).status).toBe(200);
    await waitFor(() => relay.observer.names().includes('ended'));
    const ended = relay.observer.events.find((e) => e.event === 'ended');
    expect(ended).toMatchObject({ by: 'callee', m: { service: 'wine', callerTag: clientDialog.localTag, calleeTag: 'wine-tag' } });
  });

  it("routes the browser's BYE to the application server and reports the end by the caller", async () => {
    const { clientDialog } = await establish(relay, browser, wine, undefined);
    const bye = browser.send(browser.inDialogRequest(clientDialog, 'BYE'));
    wine.answer(await wine.nextRequest('BYE'), 200);
    expect((await bye.final()).status).toBe(200);
    await waitFor(() => relay.observer.names().includes('ended'));
    expect(relay.observer.events.find((e) => e.event === 'ended')).toMatchObject({ by: 'caller' });
    expect(relay.core.liveDialogs()).toEqual([]);
  });

  it('ends a live dialog itself with a BYE to each side, as the other side would have sent it (shutdown, maximum duration)', async () => {
    const { clientDialog, wineDialog } = await establish(relay, browser, wine, undefined);
    const [live] = relay.core.liveDialogs();
    const ending = relay.core.endDialog(live, { reason: 'SIP;cause=503;text="relay shutting down"' });
    const toBrowser = await browser.nextRequest('BYE');
    const toWine = await wine.nextRequest('BYE');
    expect(toBrowser.request.rawUri).toBe(wineDialog.remoteTarget);
    expect([toBrowser.request.from.tag, toBrowser.request.to.tag]).toEqual(['wine-tag', clientDialog.localTag]);
    expect(toBrowser.request.header('reason')).toBe('SIP;cause=503;text="relay shutting down"');
    expect(toBrowser.request.hasHeader('route')).toBe(false);
    expect(toWine.request.rawUri).toBe(clientDialog.remoteTarget);
    expect([toWine.request.from.tag, toWine.request.to.tag]).toEqual([clientDialog.localTag, 'wine-tag']);
    expect(toWine.request.cseq.seq).toBeGreaterThan(clientDialog.localCSeq);
    browser.answer(toBrowser, 200);
    wine.answer(toWine, 481);
    expect(await ending).toEqual({ caller: 200, callee: 481 });
    expect(relay.core.liveDialogs()).toEqual([]);
    // Whoever ended it records why: no `ended` milestone from the core.
    expect(relay.observer.names()).not.toContain('ended');
    // A BYE that crosses is still routed by its token, and reports nothing.
    const late = wine.send(wine.inDialogRequest(wineDialog, 'BYE'));
    browser.answer(await browser.nextRequest('BYE'), 481);
    expect((await late.final()).status).toBe(481);
    expect(relay.observer.names()).not.toContain('ended');
  });

  it('answers 430 Flow Failed to a request toward a browser whose WebSocket has closed', async () => {
    const { wineDialog } = await establish(relay, browser, wine, undefined);
    await browser.close();
    await sleep(50);
    const info = await wine.send(wine.inDialogRequest(wineDialog, 'INFO', { body: 'x', contentType: 'text/plain' })).final();
    expect(info.status).toBe(430);
    const bye = await wine.send(wine.inDialogRequest(wineDialog, 'BYE')).final();
    expect(bye.status).toBe(430);
    // The BYE's final response ends the session all the same (§15.1.1).
    await waitFor(() => relay.observer.names().includes('ended'));
    expect(relay.core.liveDialogs()).toEqual([]);
  });
});

describe('relay core: in-dialog requests between UDP peers', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;

  beforeEach(async () => {
    relay = await startRelay();
    alice = await TestUa.node('alice');
    wine = await TestUa.node('wine-shop');
    relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
  });

  afterEach(async () => {
    await Promise.all([alice.close(), wine.close()]);
    await relay.close();
  });

  it('record-routes once when the request leaves on the transport it came in on', async () => {
    const { inc } = await establish(relay, alice, wine);
    expect(inc.request.headerList('record-route')).toHaveLength(1);
  });

  it('refuses a forged in-dialog request: a Route naming the relay with a token of another dialog or secret (403)', async () => {
    const { clientDialog } = await establish(relay, alice, wine);
    // The token of this dialog, replayed on another Call-ID.
    const other: TestDialog = { ...clientDialog, callId: 'forged-' + clientDialog.callId };
    expect((await alice.send(alice.inDialogRequest(other, 'BYE')).final()).status).toBe(403);
    // A token signed with another secret.
    const foreign = new RecordRouteSigner('not-the-relay-secret-at-all').sign({ callerFlowId: 'x', calleeFlowId: undefined }, clientDialog.callId);
    const forgedRoute: TestDialog = { ...clientDialog, routeSet: [`<sip:${foreign}@127.0.0.1:${relay.udp.port};transport=udp;lr>`] };
    expect((await alice.send(alice.inDialogRequest(forgedRoute, 'INFO')).final()).status).toBe(403);
    // No Route at all, straight at the application server's address through the relay.
    const direct: TestDialog = { ...clientDialog, routeSet: [] };
    expect((await alice.send(alice.inDialogRequest(direct, 'BYE'), relay.udp).final()).status).toBe(403);
    expect(wine.requests.items.filter((r) => r.request.method !== 'INVITE')).toEqual([]);
  });

  it('passes a re-INVITE (with its ACK), an UPDATE and an INFO through the dialog; re-INVITE and UPDATE 2xx report a change', async () => {
    const { clientDialog } = await establish(relay, alice, wine);
    const reinvite = alice.send(alice.inDialogRequest(clientDialog, 'INVITE', { body: '{"want":"beer"}' }));
    expect((await reinvite.next()).status).toBe(100);
    const reIn = await wine.nextRequest('INVITE');
    expect(reIn.request.bodyText).toBe('{"want":"beer"}');
    wine.answer(reIn, 200, { toTag: 'wine-tag' });
    expect((await reinvite.final()).status).toBe(200);
    alice.ack(clientDialog);
    const ack = await wine.acks.next();
    expect(ack.cseq.seq).toBe(clientDialog.localCSeq);

    const update = alice.send(alice.inDialogRequest(clientDialog, 'UPDATE', { body: '{"want":"white"}' }));
    wine.answer(await wine.nextRequest('UPDATE'), 200);
    expect((await update.final()).status).toBe(200);

    const info = alice.send(alice.inDialogRequest(clientDialog, 'INFO', { body: 'x', contentType: 'text/plain', headers: [['P-Asserted-Identity', '<sip:admin@portal.test>']] }));
    const infoIn = await wine.nextRequest('INFO');
    // A client cannot claim an identity inside a dialog either.
    expect(infoIn.request.hasHeader('p-asserted-identity')).toBe(false);
    wine.answer(infoIn, 200);
    expect((await info.final()).status).toBe(200);

    const changes = relay.observer.events.filter((e) => e.event === 'changed');
    expect(changes.map((c) => (c.event === 'changed' ? c.details : undefined))).toEqual([
      expect.objectContaining({ method: 'INVITE', by: 'caller', body: '{"want":"beer"}', contentType: 'application/vnd.siprelay.request+json' }),
      expect.objectContaining({ method: 'UPDATE', by: 'caller', body: '{"want":"white"}' }),
    ]);
    // The re-INVITE's ACK is not a session start.
    expect(relay.observer.names().filter((n) => n === 'started')).toHaveLength(1);
  });

  it('relays a refused re-INVITE unchanged and reports no change', async () => {
    const { clientDialog } = await establish(relay, alice, wine);
    const reinvite = alice.send(alice.inDialogRequest(clientDialog, 'INVITE', { body: '{"want":"gin"}' }));
    wine.answer(await wine.nextRequest('INVITE'), 488, { toTag: 'wine-tag' });
    expect((await reinvite.final()).status).toBe(488);
    expect(relay.observer.names()).not.toContain('changed');
  });

  it('routes requests from the application server to the client (NOTIFY, INFO, re-INVITE)', async () => {
    const { wineDialog } = await establish(relay, alice, wine);
    const info = wine.send(wine.inDialogRequest(wineDialog, 'INFO', { body: '{"id":"c1"}', contentType: 'application/vnd.siprelay.charge+json' }));
    const infoIn = await alice.nextRequest('INFO');
    expect(infoIn.request.bodyText).toBe('{"id":"c1"}');
    alice.answer(infoIn, 200);
    expect((await info.final()).status).toBe(200);
    const re = wine.send(wine.inDialogRequest(wineDialog, 'INVITE', { body: '{"offer":"x"}' }));
    alice.answer(await alice.nextRequest('INVITE'), 200, { toTag: wineDialog.remoteTag });
    expect((await re.final()).status).toBe(200);
    await waitFor(() => relay.observer.names().includes('changed'));
    expect(relay.observer.events.find((e) => e.event === 'changed')).toMatchObject({ details: { by: 'callee' } });
  });
});

describe('relay core: session milestones are stored before the message that acknowledges them is relayed', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;

  beforeEach(async () => {
    relay = await startRelay();
    alice = await TestUa.node('alice');
    wine = await TestUa.node('wine-shop');
    relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
  });

  afterEach(async () => {
    await Promise.all([alice.close(), wine.close()]);
    await relay.close();
  });

  it('relays the 2xx only after `answered` resolves, the ACK only after `started`, the 2xx to BYE only after `ended`', async () => {
    relay.observer.hold('answered');
    relay.observer.hold('started');
    relay.observer.hold('ended');
    const invite = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] });
    const call = alice.send(invite, relay.udp);
    const inc = await wine.nextRequest('INVITE');
    wine.answer(inc, 200, { toTag: 'w' });
    await waitFor(() => relay.observer.names().includes('answered'));
    await sleep(30);
    expect(call.all.filter((r) => r.status === 200)).toEqual([]);
    relay.observer.release('answered');
    const ok = await call.final();
    const dialog = alice.uacDialog(invite, ok);

    alice.ack(dialog);
    await waitFor(() => relay.observer.names().includes('started'));
    await sleep(30);
    expect(wine.acks.items).toEqual([]);
    relay.observer.release('started');
    await wine.acks.next();

    const bye = alice.send(alice.inDialogRequest(dialog, 'BYE'));
    wine.answer(await wine.nextRequest('BYE'), 200);
    await waitFor(() => relay.observer.names().includes('ended'));
    await sleep(30);
    expect(bye.all).toEqual([]);
    relay.observer.release('ended');
    expect((await bye.final()).status).toBe(200);
  });

  it('does not relay an answer it could not store: the client gets 500, and the retransmitted 2xx is dropped too', async () => {
    relay.observer.hold('answered');
    const call = alice.send(alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] }), relay.udp);
    const inc: Incoming = await wine.nextRequest('INVITE');
    const ok = wine.answer(inc, 200, { toTag: 'w' });
    await waitFor(() => relay.observer.names().includes('answered'));
    relay.observer.fail('answered');
    const final = await call.final();
    expect(final.status).toBe(500);
    expect(relay.core.liveDialogs()).toEqual([]);
    // The application server retransmits its 2xx (§13.3.1.4): still not relayed, not reported again.
    inc.tx.respond(ok);
    await sleep(50);
    expect(call.all.filter((r) => r.status === 200)).toEqual([]);
    expect(relay.observer.names().filter((n) => n === 'answered')).toHaveLength(1);
  });
});

describe('relay core: stray 2xx (RFC 6026 §8.4, RFC 3261 §16.7)', () => {
  it("forwards a 2xx retransmission that arrives after the relay's INVITE transaction ended, over the caller's flow", async () => {
    // T1 of 10 ms: the relay's client transaction leaves 'Accepted' after timer M (640 ms).
    const relay = await startRelay({ t1Ms: 10 });
    const alice = await TestUa.node('alice');
    const wine = await TestUa.node('wine-shop');
    try {
      relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
      const invite = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] });
      const call = alice.send(invite, relay.udp);
      const inc = await wine.nextRequest('INVITE');
      const ok = wine.answer(inc, 200, { toTag: 'w' });
      await call.final();
      await waitFor(() => relay.core.transactions.clientTransactionCount === 0, 3000, 'timer M');
      inc.tx.respond(ok);
      await waitFor(() => call.all.filter((r) => r.status === 200).length === 2, 3000, 'the retransmitted 2xx');
      expect(relay.observer.names().filter((n) => n === 'answered')).toHaveLength(1);
    } finally {
      await Promise.all([alice.close(), wine.close()]);
      await relay.close();
    }
  });
});

describe('relay core: the observer sees requests and responses inside sessions (charges, docs/wire-contracts.md)', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;

  beforeEach(async () => {
    relay = await startRelay();
    alice = await TestUa.node('alice');
    wine = await TestUa.node('wine-shop');
    relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
  });

  afterEach(async () => {
    await Promise.all([alice.close(), wine.close()]);
    await relay.close();
  });

  it('holds an INFO until the observer decides, then forwards it', async () => {
    const { wineDialog } = await establish(relay, alice, wine);
    let release!: () => void;
    const seen: string[] = [];
    relay.observer.verdict = (request, by) => {
      seen.push(`${request.method} by ${by}`);
      return new Promise((resolve) => (release = () => resolve({ action: 'relay' })));
    };
    const info = wine.send(wine.inDialogRequest(wineDialog, 'INFO', { headers: [['Info-Package', 'siprelay-charge']], body: '{"id":"c1"}', contentType: 'application/vnd.siprelay.charge+json' }));
    await waitFor(() => seen.length === 1);
    await sleep(30);
    expect(alice.requests.items).toEqual([]);
    release();
    alice.answer(await alice.nextRequest('INFO'), 200);
    expect((await info.final()).status).toBe(200);
    expect(seen).toEqual(['INFO by callee']);
  });

  it('answers an INFO itself when the observer says so, and forwards nothing', async () => {
    const { wineDialog } = await establish(relay, alice, wine);
    relay.observer.verdict = async () => ({ action: 'respond', status: 200, reason: 'OK', headers: [['Siprelay-Charge', 'stored;id=c1']] });
    const res = await wine.send(wine.inDialogRequest(wineDialog, 'INFO', { body: '{"id":"c1"}', contentType: 'application/vnd.siprelay.charge+json' })).final();
    expect(res.status).toBe(200);
    expect(res.header('siprelay-charge')).toBe('stored;id=c1');
    await sleep(30);
    expect(alice.requests.items).toEqual([]);
  });

  it('shows the final response to BYE, body and all, before the end is reported', async () => {
    const { clientDialog } = await establish(relay, alice, wine);
    const bye = alice.send(alice.inDialogRequest(clientDialog, 'BYE'));
    wine.answer(await wine.nextRequest('BYE'), 200, { body: '{"id":"last"}', contentType: 'application/vnd.siprelay.charge+json' });
    expect((await bye.final()).status).toBe(200);
    expect(relay.observer.responses).toEqual([{ method: 'BYE', status: 200, body: '{"id":"last"}', by: 'caller' }]);
    expect(relay.observer.names().at(-1)).toBe('ended');
  });
});
