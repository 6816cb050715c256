import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatReplaces } from '../../sip/dialog/replaces.js';
import { waitFor } from '../sip/node/transport-test-kit.js';
import { service, startRelay, type RelayHarness } from './proxy/support/relay-harness.js';
import { type TestDialog, TestUa } from './proxy/support/test-ua.js';

/**
 * Change and transfer, relay side (issue 3 item 8, design flows 7 and 8):
 * requests that refer to a live session are authorized for that
 * session's user and linked to it; application servers reach users
 * through the location service.
 */
describe('relay core: transfer and linked sessions (RFC 3891 Replaces, RFC 4538 Target-Dialog)', () => {
  let relay: RelayHarness;
  let alice: TestUa;
  let wine: TestUa;
  let beer: TestUa;

  async function wineSession(ua: TestUa, dest = relay.udp): Promise<{ dialog: TestDialog; sessionId: string }> {
    const invite = ua.newRequest('INVITE', 'sip:wine@portal.test', { from: 'sip:alice@portal.test', headers: [['X-Test-User', 'alice']] });
    const call = ua.send(invite, dest);
    const inc = await wine.nextRequest('INVITE');
    wine.answer(inc, 200, { toTag: 'wine-tag' });
    const dialog = ua.uacDialog(invite, await call.final());
    ua.ack(dialog);
    await wine.acks.next();
    const sessionId = relay.core.liveDialogs()[0].sessionId;
    return { dialog, sessionId };
  }

  function targetDialog(d: TestDialog): string {
    return `${d.callId};local-tag=${d.remoteTag};remote-tag=${d.localTag}`;
  }

  beforeEach(async () => {
    relay = await startRelay();
    wine = await TestUa.node('wine-shop');
    beer = await TestUa.node('beer-shop');
    relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
    relay.directory.add(service('beer'), [{ appServer: 'beer-shop', uri: `sip:beer@127.0.0.1:${beer.address.port}` }]);
  });

  afterEach(async () => {
    await Promise.all([alice?.close(), wine.close(), beer.close()]);
    await relay.close();
  });

  it('takes an INVITE with Target-Dialog over the same connection as the linked session without new credentials, and links it', async () => {
    alice = await TestUa.node('alice', 'TCP');
    const first = await wineSession(alice, relay.tcp);
    const invite = alice.newRequest('INVITE', 'sip:beer@portal.test', {
      from: 'sip:alice@portal.test',
      headers: [['Target-Dialog', targetDialog(first.dialog)], ['Referred-By', '<sip:wine@portal.test>']],
    });
    const call = alice.send(invite, relay.tcp);
    const inc = await beer.nextRequest('INVITE');
    expect(inc.request.header('p-asserted-identity')).toBe('<sip:alice@portal.test>');
    beer.answer(inc, 200, { toTag: 'beer-tag' });
    expect((await call.final()).status).toBe(200);
    expect(relay.auth.calls.filter((c) => c.method === 'INVITE')).toHaveLength(1);
    const attempt = relay.observer.events.filter((e) => e.event === 'attemptStarted')[1];
    expect(attempt).toMatchObject({ service: 'beer', linkedFrom: first.sessionId });
    const answered = relay.observer.events.filter((e) => e.event === 'answered')[1];
    expect(answered).toMatchObject({ m: { service: 'beer', linkedFrom: first.sessionId } });
    expect(relay.identity.asserted.at(-1)?.linkedFrom).toBe(first.sessionId);
  });

  it('asks for credentials when the linked request comes over UDP, and links it once they are the same user', async () => {
    alice = await TestUa.node('alice');
    const first = await wineSession(alice);
    const replaces = formatReplaces({ callId: first.dialog.callId, toTag: first.dialog.remoteTag, fromTag: first.dialog.localTag, earlyOnly: false });
    const unauth = alice.newRequest('INVITE', 'sip:beer@portal.test', { from: 'sip:alice@portal.test', headers: [['Replaces', replaces]] });
    expect((await alice.send(unauth, relay.udp).final()).status).toBe(401);
    const authed = alice.newRequest('INVITE', 'sip:beer@portal.test', { from: 'sip:alice@portal.test', headers: [['Replaces', replaces], ['X-Test-User', 'alice']] });
    const call = alice.send(authed, relay.udp);
    const inc = await beer.nextRequest('INVITE');
    beer.answer(inc, 486);
    expect((await call.final()).status).toBe(486);
    expect(relay.observer.events.filter((e) => e.event === 'attemptStarted')[1]).toMatchObject({ linkedFrom: first.sessionId });
  });

  it("refuses with 403 a linked request made with another user's credentials", async () => {
    alice = await TestUa.node('alice');
    const first = await wineSession(alice);
    const invite = alice.newRequest('INVITE', 'sip:beer@portal.test', {
      from: 'sip:bob@portal.test',
      headers: [['Target-Dialog', targetDialog(first.dialog)], ['X-Test-User', 'bob']],
    });
    expect((await alice.send(invite, relay.udp).final()).status).toBe(403);
    expect(beer.requests.items).toEqual([]);
  });

  it("refuses with 403 a linked request over the session's connection whose From names another user", async () => {
    alice = await TestUa.node('alice', 'TCP');
    const first = await wineSession(alice, relay.tcp);
    const invite = alice.newRequest('INVITE', 'sip:beer@portal.test', {
      from: 'sip:bob@portal.test',
      headers: [['Target-Dialog', targetDialog(first.dialog)], ['X-Test-User', 'alice']],
    });
    expect((await alice.send(invite, relay.tcp).final()).status).toBe(403);
  });

  it('answers 481 to a Replaces or Target-Dialog naming no live session, and 400 to a malformed one', async () => {
    alice = await TestUa.node('alice');
    const unknown = alice.newRequest('INVITE', 'sip:beer@portal.test', { headers: [['Replaces', 'nope;to-tag=a;from-tag=b'], ['X-Test-User', 'alice']] });
    expect((await alice.send(unknown, relay.udp).final()).status).toBe(481);
    const bad = alice.newRequest('INVITE', 'sip:beer@portal.test', { headers: [['Target-Dialog', 'x;local-tag=a'], ['X-Test-User', 'alice']] });
    expect((await alice.send(bad, relay.udp).final()).status).toBe(400);
  });

  it('routes an out-of-dialog REFER naming a service, authorized by the Target-Dialog of the live session, and record-routes it', async () => {
    alice = await TestUa.node('alice', 'TCP');
    const first = await wineSession(alice, relay.tcp);
    const refer = alice.newRequest('REFER', 'sip:beer@portal.test', {
      from: 'sip:alice@portal.test',
      headers: [['Target-Dialog', targetDialog(first.dialog)], ['Refer-To', '<sip:alice@portal.test>']],
    });
    const call = alice.send(refer, relay.tcp);
    const inc = await beer.nextRequest('REFER');
    expect(inc.request.header('refer-to')).toBe('<sip:alice@portal.test>');
    expect(inc.request.hasHeader('record-route')).toBe(true);
    expect(relay.identity.asserted.at(-1)).toMatchObject({ service: 'beer', linkedFrom: first.sessionId });
    beer.answer(inc, 202, { toTag: 'r' });
    expect((await call.final()).status).toBe(202);
  });

  it("passes an application server's in-dialog REFER to the client (handing the user over, flow 8)", async () => {
    alice = await TestUa.node('alice');
    const invite = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] });
    const call = alice.send(invite, relay.udp);
    const inc = await wine.nextRequest('INVITE');
    const ok = wine.answer(inc, 200, { toTag: 'wine-tag' });
    alice.ack(alice.uacDialog(invite, await call.final()));
    await wine.acks.next();
    const wineDialog = wine.uasDialog(inc.request, ok);
    const refer = wine.send(wine.inDialogRequest(wineDialog, 'REFER', { headers: [['Refer-To', '<sip:beer@portal.test>']] }));
    const referIn = await alice.nextRequest('REFER');
    expect(referIn.request.header('refer-to')).toBe('<sip:beer@portal.test>');
    alice.answer(referIn, 202);
    expect((await refer.final()).status).toBe(202);
  });
});

describe('relay core: requests from application servers to users (location service)', () => {
  let relay: RelayHarness;
  let bob: TestUa;
  let wine: TestUa;

  beforeEach(async () => {
    relay = await startRelay();
    bob = await TestUa.node('bob', 'TCP');
    wine = await TestUa.node('wine-shop');
  });

  afterEach(async () => {
    await Promise.all([bob.close(), wine.close()]);
    await relay.close();
  });

  it("forwards an authenticated application server's INVITE to the user's registered contact over its flow, and the dialog works both ways", async () => {
    const reg = bob.newRequest('REGISTER', 'sip:portal.test', { to: 'sip:bob@portal.test', from: 'sip:bob@portal.test', headers: [['X-Test-User', 'bob']] });
    expect((await bob.send(reg, relay.tcp).final()).status).toBe(200);
    const flowId = relay.registrar.registered[0].flowId;
    expect(flowId).toMatch(/^tcp\//);
    relay.location.bind('bob@portal.test', 'sip:bob@k3j2h1.invalid;transport=tcp', flowId);

    const invite = wine.newRequest('INVITE', 'sip:bob@portal.test', { from: 'sip:wine@portal.test', headers: [['X-Test-User', 'wine-shop']] });
    const call = wine.send(invite, relay.udp);
    const inc = await bob.nextRequest('INVITE');
    expect(inc.request.rawUri).toBe('sip:bob@k3j2h1.invalid;transport=tcp');
    expect(inc.request.headerList('record-route')).toHaveLength(2);
    const ok = bob.answer(inc, 200, { toTag: 'bob-tag' });
    const final = await call.final();
    expect(final.status).toBe(200);
    const wineDialog = wine.uacDialog(invite, final);
    wine.ack(wineDialog);
    await bob.acks.next();
    // The user hangs up: back to the application server.
    const bobDialog = bob.uasDialog(inc.request, ok);
    const bye = bob.send(bob.inDialogRequest(bobDialog, 'BYE'));
    wine.answer(await wine.nextRequest('BYE'), 200);
    expect((await bye.final()).status).toBe(200);
    // Not a service session: no accounting milestones.
    expect(relay.observer.events).toEqual([]);
    await waitFor(() => relay.core.liveDialogs().length === 0);
  });

  it('falls back to the routing rules when the user has no binding', async () => {
    const invite = wine.newRequest('INVITE', 'sip:bob@portal.test', { headers: [['X-Test-User', 'wine-shop']] });
    expect((await wine.send(invite, relay.udp).final()).status).toBe(404);
  });

  it("tells the location service when a client's connection closes", async () => {
    const reg = bob.newRequest('REGISTER', 'sip:portal.test', { to: 'sip:bob@portal.test', headers: [['X-Test-User', 'bob']] });
    await bob.send(reg, relay.tcp).final();
    await bob.close();
    await waitFor(() => relay.location.closedFlows.includes(relay.registrar.registered[0].flowId));
  });
});
