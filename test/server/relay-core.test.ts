import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseNameAddress } from '../../sip/grammar/name-address.js';
import type { SipUri } from '../../sip/grammar/uri.js';
import { copyRequest } from '../../server/proxy/proxy-core.js';
import { RawClient, sleep, waitFor } from '../sip/node/transport-test-kit.js';
import { service, startRelay, type RelayHarness } from './proxy/support/relay-harness.js';
import { TestUa } from './proxy/support/test-ua.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/rfc4475/${name}.dat`, import.meta.url));

/** Sends raw bytes over TCP to the relay and returns the first status line it answers with. */
async function rawStatus(relay: RelayHarness, bytes: Uint8Array | string): Promise<{ status: number; text: string }> {
  const client = await RawClient.connect(relay.tcp.port);
  try {
    client.write(bytes);
    await client.waitReceived('\r\n\r\n');
    const text = client.received.toString('latin1');
    return { status: Number(text.slice(8, 11)), text };
  } finally {
    client.destroy();
  }
}

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

  it('answers 480 with Retry-After when every application server of the service is down', async () => {
    relay.directory.add(service('beer'), [], 2);
    const call = alice.send(alice.newRequest('INVITE', 'sip:beer@portal.test', { headers: [['X-Test-User', 'alice']] }), relay.udp);
    const final = await call.final();
    expect(final.status).toBe(480);
    expect(final.header('retry-after')).toBe('42');
  });

  it('challenges with 401 for its own domain and addresses, and 407 for another domain', async () => {
    const own = await alice.send(alice.newRequest('INVITE', 'sip:wine@portal.test'), relay.udp).final();
    expect(own.status).toBe(401);
    expect(own.hasHeader('www-authenticate')).toBe(true);
    const byAddress = await alice.send(alice.newRequest('MESSAGE', `sip:wine@127.0.0.1:${relay.udp.port}`), relay.udp).final();
    expect(byAddress.status).toBe(401);
    // OPTIONS to a service (not to the relay itself) is challenged like any service request.
    expect((await alice.send(alice.newRequest('OPTIONS', 'sip:wine@portal.test'), relay.udp).final()).status).toBe(401);
    const foreign = await alice.send(alice.newRequest('INVITE', 'sip:wine@elsewhere.example'), relay.udp).final();
    expect(foreign.status).toBe(407);
    expect(relay.auth.calls.map((c) => c.challenge)).toEqual(['www', 'www', 'www', 'proxy']);
    // Authenticated, another domain still finds no service.
    const foreignAuthed = await alice.send(alice.newRequest('INVITE', 'sip:nothing@elsewhere.example', { headers: [['X-Test-User', 'alice']] }), relay.udp).final();
    expect(foreignAuthed.status).toBe(404);
  });

  it('does not forward the identity a client claims, its credentials, nor a Route it preloaded past the relay', async () => {
    const call = alice.send(
      alice.newRequest('MESSAGE', 'sip:wine@portal.test', {
        headers: [
          ['X-Test-User', 'alice'],
          ['P-Asserted-Identity', '<sip:admin@portal.test>'],
          ['Siprelay-Token', 'forged'],
          ['Authorization', 'Digest username="alice", realm="portal.test"'],
          ['Proxy-Authorization', 'Digest username="alice", realm="portal.test"'],
          ['Route', `<sip:127.0.0.1:${relay.udp.port};lr>, <sip:elsewhere.example;lr>`],
        ],
        body: 'hello',
      }),
      relay.udp,
    );
    const inc = await wine.nextRequest('MESSAGE');
    expect(inc.request.headerLines('p-asserted-identity')).toEqual(['<sip:alice@portal.test>']);
    expect(inc.request.headerLines('siprelay-token')).toHaveLength(1);
    expect(inc.request.header('siprelay-token')).toMatch(/^fake\.wine\./);
    expect(inc.request.hasHeader('authorization')).toBe(false);
    expect(inc.request.hasHeader('proxy-authorization')).toBe(false);
    expect(inc.request.hasHeader('route')).toBe(false);
    // A MESSAGE creates no dialog: no Record-Route.
    expect(inc.request.hasHeader('record-route')).toBe(false);
    wine.answer(inc, 202);
    expect((await call.final()).status).toBe(202);
  });

  it('hands an authenticated REGISTER to the registrar, and a REGISTER for another domain gets 404', async () => {
    const reg = alice.newRequest('REGISTER', 'sip:portal.test', { to: 'sip:alice@portal.test', from: 'sip:alice@portal.test', headers: [['X-Test-User', 'alice']] });
    expect((await alice.send(reg, relay.udp).final()).status).toBe(200);
    expect(relay.registrar.registered).toEqual([{ aor: 'alice@portal.test', flowId: expect.stringMatching(/^udp\//), party: expect.objectContaining({ username: 'alice' }) }]);
    const unauth = alice.newRequest('REGISTER', 'sip:portal.test', { to: 'sip:alice@portal.test' });
    expect((await alice.send(unauth, relay.udp).final()).status).toBe(401);
    const foreign = alice.newRequest('REGISTER', 'sip:elsewhere.example', { to: 'sip:alice@elsewhere.example', headers: [['X-Test-User', 'alice']] });
    expect((await alice.send(foreign, relay.udp).final()).status).toBe(404);
  });
});

describe('relay core: request validation on the wire (RFC 3261 §16.3, RFC 4475)', () => {
  let relay: RelayHarness;
  let alice: TestUa;

  beforeEach(async () => {
    relay = await startRelay();
    alice = await TestUa.node('alice');
  });

  afterEach(async () => {
    await alice.close();
    await relay.close();
  });

  it('answers a keep-alive OPTIONS to the relay itself with 200, Allow, Accept and Supported, without authentication', async () => {
    const res = await alice.send(alice.newRequest('OPTIONS', 'sip:portal.test'), relay.udp).final();
    expect(res.status).toBe(200);
    expect(res.header('allow')).toContain('INVITE');
    expect(res.header('accept')).toContain('application/vnd.siprelay.request+json');
    expect(res.header('supported')).toContain('replaces');
    const byAddress = await alice.send(alice.newRequest('OPTIONS', `sip:127.0.0.1:${relay.udp.port}`), relay.udp).final();
    expect(byAddress.status).toBe(200);
    expect(relay.auth.calls).toEqual([]);
  });

  it('answers an OPTIONS with Max-Forwards 0 to the relay itself, and 483 to one for anyone else (zeromf)', async () => {
    const own = alice.newRequest('OPTIONS', 'sip:portal.test');
    own.setHeader('Max-Forwards', '0');
    expect((await alice.send(own, relay.udp).final()).status).toBe(200);
    expect((await rawStatus(relay, fixture('zeromf'))).status).toBe(483);
    const invite = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] });
    invite.setHeader('Max-Forwards', '0');
    expect((await alice.send(invite, relay.udp).final()).status).toBe(483);
  });

  it('answers 416 to a Request-URI scheme it does not route (unkscm)', async () => {
    expect((await rawStatus(relay, fixture('unkscm'))).status).toBe(416);
  });

  it('answers 400 to escaped headers in the Request-URI (escruri)', async () => {
    expect((await rawStatus(relay, fixture('escruri'))).status).toBe(400);
  });

  it('answers 501 to an unknown method whose CSeq names INVITE (mismatch02), and 400 to a known one (mismatch01)', async () => {
    const r = await rawStatus(relay, fixture('mismatch02'));
    expect(r.status).toBe(501);
    expect(r.text).toMatch(/\r\nAllow: /);
    expect((await rawStatus(relay, fixture('mismatch01'))).status).toBe(400);
  });

  it('answers 420 with Unsupported to a Proxy-Require it does not support', async () => {
    const req = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice'], ['Proxy-Require', 'foo, bar']] });
    const res = await alice.send(req, relay.udp).final();
    expect(res.status).toBe(420);
    expect(res.header('unsupported')).toBe('foo, bar');
  });

  it('answers 501 to an unknown method, 405 to one it does not serve, 481 to an in-dialog method out of dialog', async () => {
    expect((await alice.send(alice.newRequest('FOO', 'sip:wine@portal.test'), relay.udp).final()).status).toBe(501);
    expect((await alice.send(alice.newRequest('PUBLISH', 'sip:wine@portal.test'), relay.udp).final()).status).toBe(405);
    expect((await alice.send(alice.newRequest('BYE', 'sip:wine@portal.test'), relay.udp).final()).status).toBe(481);
    expect((await alice.send(alice.newRequest('CANCEL', 'sip:wine@portal.test'), relay.udp).final()).status).toBe(481);
  });

  it('answers 482 to a request that loops back unchanged, and forwards one that spirals', async () => {
    const wine = await TestUa.node('wine-shop');
    try {
      relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
      const call = alice.send(alice.newRequest('MESSAGE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] }), relay.udp);
      const inc = await wine.nextRequest('MESSAGE');
      // A misconfigured element sends the request back as it first came in: a loop.
      const looped = copyRequest(inc.request);
      looped.uri = alice.newRequest('MESSAGE', 'sip:wine@portal.test').uri;
      const loopCall = wine.send(looped, relay.udp);
      expect((await loopCall.final()).status).toBe(482);
      // The same request for another service: a spiral, routed like any other.
      const spiral = copyRequest(inc.request);
      spiral.uri = alice.newRequest('MESSAGE', 'sip:beer@portal.test').uri;
      expect((await wine.send(spiral, relay.udp).final()).status).toBe(404);
      wine.answer(inc, 200);
      expect((await call.final()).status).toBe(200);
    } finally {
      await wine.close();
    }
  });

  it('refuses an in-dialog request that did not come through its Record-Route (403), and 481 for one addressed to itself', async () => {
    const bye = alice.newRequest('BYE', 'sip:wine@127.0.0.1:9');
    bye.setHeader('To', '<sip:wine@portal.test>;tag=x');
    expect((await alice.send(bye, relay.udp).final()).status).toBe(403);
    const own = alice.newRequest('INFO', 'sip:portal.test');
    own.setHeader('To', '<sip:portal.test>;tag=x');
    expect((await alice.send(own, relay.udp).final()).status).toBe(481);
  });
});

describe('relay core: draining', () => {
  it('refuses new out-of-dialog requests with 503 and Retry-After, lets dialogs end, and reports when idle', async () => {
    const relay = await startRelay({ drainRetryAfterSeconds: 7 });
    const alice = await TestUa.node('alice');
    const wine = await TestUa.node('wine-shop');
    try {
      relay.directory.add(service('wine'), [{ appServer: 'wine-shop', uri: `sip:wine@127.0.0.1:${wine.address.port}` }]);
      const invite = alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] });
      const call = alice.send(invite, relay.udp);
      const inc = await wine.nextRequest('INVITE');
      relay.core.drain();
      const idle = relay.core.whenIdle();
      let isIdle = false;
      void idle.then(() => (isIdle = true));
      const refused = await alice.send(alice.newRequest('INVITE', 'sip:wine@portal.test', { headers: [['X-Test-User', 'alice']] }), relay.udp).final();
      expect(refused.status).toBe(503);
      expect(refused.header('retry-after')).toBe('7');
      await sleep(20);
      expect(isIdle).toBe(false);
      wine.answer(inc, 200, { toTag: 'w' });
      const ok = await call.final();
      await idle;
      const dialog = alice.uacDialog(invite, ok);
      alice.ack(dialog);
      await wine.acks.next();
      expect(relay.core.liveDialogs().map((d) => d.service)).toEqual(['wine']);
      // In-dialog requests still flow while draining.
      const bye = alice.send(alice.inDialogRequest(dialog, 'BYE'));
      wine.answer(await wine.nextRequest('BYE'), 200);
      expect((await bye.final()).status).toBe(200);
      expect(relay.core.liveDialogs()).toEqual([]);
    } finally {
      await Promise.all([alice.close(), wine.close()]);
      await relay.close();
    }
  });
});
