import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNameAddress } from '../../sip/grammar/name-address.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import { sleep, waitFor } from '../sip/node/transport-test-kit.js';
import { service, startRelay, type RelayHarness } from './proxy/support/relay-harness.js';
import { TestUa } from './proxy/support/test-ua.js';

/**
 * The relay's pipeline end to end on loopback sockets: a client UA, the
 * relay core with fake ports, and application servers as test UAs.
 */
describe('relay core: establishing a session (flow 1)', () => {
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

  it('forwards an authenticated INVITE with Record-Route, relays 180 and 200, the ACK and the BYE, and reports each milestone', async () => {
    const invite = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']], body: '{"want":"red"}' });
    const call = alice.send(invite, relay.udp);
    expect((await call.next()).status).toBe(100);

    const inc = await wine.nextRequest('INVITE');
    expect(inc.request.rawUri).toBe(`sip:wine@127.0.0.1:${wine.address.port}`);
    expect(inc.request.header('max-forwards')).toBe('69');
    expect(inc.request.header('p-asserted-identity')).toBe('<sip:alice@portal.test>');
    expect(inc.request.header('x-test-user')).toBe('alice');
    const rr = inc.request.headerList('record-route');
    expect(rr).toHaveLength(1);
    const rrUri = parseNameAddress(rr[0]).uri as SipUri;
    expect(rrUri.host).toBe('127.0.0.1');
    expect(rrUri.port).toBe(relay.udp.port);
    expect(rrUri.lr).toBe(true);
    expect(rrUri.user).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/);
    expect(inc.request.bodyText).toBe('{"want":"red"}');

    wine.answer(inc, 180, { toTag: 'w1' });
    expect((await call.next()).status).toBe(180);
    const ok = wine.answer(inc, 200, { toTag: 'w1', body: '{"url":"https://wine.test/s/1"}' });
    const final = await call.final();
    expect(final.status).toBe(200);
    expect(final.bodyText).toBe('{"url":"https://wine.test/s/1"}');
    expect(final.headerList('record-route')).toEqual(rr);
    expect(final.via).toHaveLength(1);

    const aliceDialog = alice.uacDialog(invite, final);
    alice.ack(aliceDialog);
    const ack = await wine.acks.next();
    expect(ack.cseq.method).toBe('ACK');
    expect(ack.header('route')).toBeUndefined();

    const bye = alice.send(alice.inDialogRequest(aliceDialog, 'BYE'));
    const byeIn = await wine.nextRequest('BYE');
    expect(byeIn.request.rawUri).toBe(wine.contact());
    wine.answer(byeIn, 200);
    expect((await bye.final()).status).toBe(200);
    void ok;

    await waitFor(() => relay.observer.names().includes('ended'), 2000, 'ended');
    expect(relay.observer.names()).toEqual(['attemptStarted', 'answered', 'started', 'ended']);
    expect(relay.core.liveDialogs()).toHaveLength(0);
    expect(relay.errors).toEqual([]);
  });

  it('answers 404 when no service matches', async () => {
    const call = alice.send(alice.newRequest('INVITE', 'sip:nothing@portal.test', { headers: [['X-Test-User', 'alice']] }), relay.udp);
    expect((await call.final()).status).toBe(404);
    await sleep(10);
  });
});
