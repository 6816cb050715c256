import { afterEach, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../server/config/service-config.js';
import { createCancel } from '../../sip/transaction/create-cancel.js';
import { ManualClock } from '../../sip/util/clock.js';
import { sleep, waitFor } from '../sip/node/transport-test-kit.js';
import { type HarnessOptions, service, startRelay, type RelayHarness } from './proxy/support/relay-harness.js';
import { type Incoming, TestUa } from './proxy/support/test-ua.js';

let relay: RelayHarness;
let alice: TestUa;
let servers: TestUa[] = [];

/** A relay with a service `name` served by `count` application servers (test UAs `as0`, `as1`…). */
async function setup(count: number, config: Partial<ServiceConfig> = {}, options: HarnessOptions = {}): Promise<TestUa[]> {
  relay = await startRelay(options);
  alice = await TestUa.node('alice');
  servers = [];
  for (let i = 0; i < count; i++) servers.push(await TestUa.node(`as${i}`));
  relay.directory.add(
    service('shop', config),
    servers.map((s, i) => ({ appServer: `as${i}`, uri: `sip:shop@127.0.0.1:${s.address.port}` })),
  );
  return servers;
}

function inviteShop(headers: Array<[string, string]> = []) {
  const invite = alice.newRequest('INVITE', 'sip:shop@portal.test', { headers: [['X-Test-User', 'alice'], ...headers] });
  return { invite, call: alice.send(invite, relay.udp) };
}

/** Statuses of the responses a call received, in order, without 100. */
function statuses(call: { all: Array<{ status: number }> }): number[] {
  return call.all.map((r) => r.status).filter((s) => s !== 100);
}

afterEach(async () => {
  await Promise.all([alice?.close(), ...servers.map((s) => s.close())]);
  await relay?.close();
});

describe('relay core: CANCEL (RFC 3261 §16.10)', () => {
  it('answers the CANCEL with 200, cancels every branch, and relays the 487', async () => {
    const [a, b] = await setup(2);
    const { invite, call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    a.answer(ia, 180, { toTag: 'a' });
    b.answer(ib, 183, { toTag: 'b' });
    await waitFor(() => statuses(call).length === 2);
    const cancel = alice.send(createCancel(call.tx.request), relay.udp);
    expect((await cancel.final()).status).toBe(200);
    expect((await a.nextRequest('CANCEL')).request.callId).toBe(invite.callId);
    expect((await b.nextRequest('CANCEL')).request.callId).toBe(invite.callId);
    const final = await call.final();
    expect(final.status).toBe(487);
    await waitFor(() => relay.observer.names().filter((n) => n === 'failed').length === 2);
    expect(relay.observer.events.filter((e) => e.event === 'failed').map((e) => (e.event === 'failed' ? e.status : 0))).toEqual([487, 487]);
    expect(relay.directory.loads()).toEqual({ as0: 0, as1: 0 });
  });

  it('answers 487 at once for a branch that has sent no provisional, and CANCELs it when one comes', async () => {
    const [a] = await setup(1);
    const { call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    alice.send(createCancel(call.tx.request), relay.udp);
    expect((await call.final()).status).toBe(487);
    // §9.1: a CANCEL waits for a provisional response.
    a.answer(ia, 180, { toTag: 'late' });
    expect((await a.nextRequest('CANCEL')).request.method).toBe('CANCEL');
  });

  it('answers 487 when the CANCEL comes while the request is still being authenticated, and forks nothing', async () => {
    const [a] = await setup(1);
    relay.auth.delayMs = 100;
    const { call } = inviteShop();
    await sleep(20);
    alice.send(createCancel(call.tx.request), relay.udp);
    expect((await call.final()).status).toBe(487);
    await sleep(150);
    expect(a.requests.items).toEqual([]);
  });
});

describe("relay core: fork mode 'race' (first 2xx wins)", () => {
  it('relays the first 2xx and CANCELs the other branch with a Reason', async () => {
    const [a, b] = await setup(2, { fork: 'race' });
    const { call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    b.answer(ib, 180, { toTag: 'b' });
    await waitFor(() => statuses(call).includes(180));
    a.answer(ia, 200, { toTag: 'a' });
    const final = await call.final();
    expect(final.status).toBe(200);
    expect(final.to.tag).toBe('a');
    const cancel = await b.nextRequest('CANCEL');
    expect(cancel.request.header('reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    await waitFor(() => relay.observer.names().includes('failed'));
    await sleep(30);
    // The loser's 487 never reaches the client.
    expect(statuses(call)).toEqual([180, 200]);
  });

  it('still relays a late 2xx from a branch that answered while being cancelled (§16.7 step 5)', async () => {
    const [a, b] = await setup(2, { fork: 'race' });
    const { call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    a.answer(ia, 200, { toTag: 'a' });
    await call.final();
    b.answer(ib, 200, { toTag: 'b' });
    await waitFor(() => statuses(call).length === 2);
    expect(call.all.filter((r) => r.status === 200).map((r) => r.to.tag)).toEqual(['a', 'b']);
  });
});

describe("relay core: fork mode 'all' (every 2xx kept)", () => {
  it('relays both 2xx; each is ACKed through, is its own session, and ends with its own BYE', async () => {
    const [a, b] = await setup(2, { fork: 'all' });
    const { invite, call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    a.answer(ia, 200, { toTag: 'a', body: '{"url":"https://a.test"}' });
    await call.final();
    b.answer(ib, 200, { toTag: 'b', body: '{"url":"https://b.test"}' });
    await waitFor(() => call.all.filter((r) => r.status === 200).length === 2);
    expect(a.requests.items.filter((r) => r.request.method === 'CANCEL')).toEqual([]);
    expect(b.requests.items.filter((r) => r.request.method === 'CANCEL')).toEqual([]);
    const dialogs = call.all.filter((r) => r.status === 200).map((r) => alice.uacDialog(invite, r));
    for (const d of dialogs) alice.ack(d);
    expect((await a.acks.next()).to.tag).toBe('a');
    expect((await b.acks.next()).to.tag).toBe('b');
    for (const d of dialogs) alice.send(alice.inDialogRequest(d, 'BYE'));
    a.answer(await a.nextRequest('BYE'), 200);
    b.answer(await b.nextRequest('BYE'), 200);
    await waitFor(() => relay.observer.names().filter((n) => n === 'ended').length === 2);
    const answered = relay.observer.events.filter((e) => e.event === 'answered').map((e) => (e.event === 'answered' ? e.m : undefined)!);
    expect(new Set(answered.map((m) => m.sessionId)).size).toBe(2);
    expect(new Set(answered.map((m) => m.forkGroup)).size).toBe(1);
    expect(answered.map((m) => m.target.appServer).sort()).toEqual(['as0', 'as1']);
    expect(relay.observer.names().filter((n) => n === 'started')).toHaveLength(2);
    expect(relay.core.liveDialogs()).toEqual([]);
  });

  it('gives each branch its own session id in the asserted identity', async () => {
    const [a, b] = await setup(2, { fork: 'all' });
    inviteShop();
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    const sa = ia.request.header('session-id')!;
    const sb = ib.request.header('session-id')!;
    expect(sa).toMatch(/^[0-9a-f]{32}$/);
    expect(sb).toMatch(/^[0-9a-f]{32}$/);
    expect(sa).not.toBe(sb);
    expect(relay.identity.asserted.map((c) => c.forkGroup)).toEqual([relay.identity.asserted[0].forkGroup, relay.identity.asserted[0].forkGroup]);
    a.answer(ia, 486);
    b.answer(ib, 486);
  });
});

describe('relay core: Request-Disposition no-cancel (RFC 3841)', () => {
  it("turns 'race' into 'all' when the service allows it", async () => {
    const [a, b] = await setup(2, { fork: 'race', allowNoCancel: true });
    const { call } = inviteShop([['Request-Disposition', 'no-cancel']]);
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    b.answer(ib, 180, { toTag: 'b' });
    a.answer(ia, 200, { toTag: 'a' });
    await call.final();
    await sleep(50);
    expect(b.requests.items.filter((r) => r.request.method === 'CANCEL')).toEqual([]);
    b.answer(ib, 200, { toTag: 'b' });
    await waitFor(() => call.all.filter((r) => r.status === 200).length === 2);
  });

  it('is ignored when the service does not allow it', async () => {
    const [a, b] = await setup(2, { fork: 'race', allowNoCancel: false });
    inviteShop([['Request-Disposition', 'no-cancel']]);
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    b.answer(ib, 180, { toTag: 'b' });
    await sleep(20);
    a.answer(ia, 200, { toTag: 'a' });
    expect((await b.nextRequest('CANCEL')).request.method).toBe('CANCEL');
  });
});

describe("relay core: fork mode 'balance' (one at a time, next on failure)", () => {
  it('tries the next target on 503 and skips the first for its Retry-After', async () => {
    const [a, b] = await setup(2, { fork: 'balance' }, { random: () => 0 });
    const first = inviteShop();
    const ia = await a.nextRequest('INVITE');
    expect(b.requests.items).toEqual([]);
    a.answer(ia, 503, { headers: [['Retry-After', '30']] });
    const ib = await b.nextRequest('INVITE');
    b.answer(ib, 200, { toTag: 'b' });
    expect((await first.call.final()).status).toBe(200);
    // as0 has the lower load but asked to be left alone for 30 s.
    expect(relay.directory.loads()).toEqual({ as0: 0, as1: 1 });
    const second = inviteShop();
    const ib2 = await b.nextRequest('INVITE');
    b.answer(ib2, 486);
    expect((await second.call.final()).status).toBe(486);
    expect(a.requests.items).toHaveLength(1);
  });

  it('tries the next target when the first does not answer at all', async () => {
    const [a, b] = await setup(2, { fork: 'balance' }, { random: () => 0, noAnswerMs: 150 });
    const { call } = inviteShop();
    await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE', 2000);
    b.answer(ib, 200, { toTag: 'b' });
    expect((await call.final()).status).toBe(200);
  });

  it('does not try another target after a real answer such as 486', async () => {
    const [a, b] = await setup(2, { fork: 'balance' }, { random: () => 0 });
    const { call } = inviteShop();
    a.answer(await a.nextRequest('INVITE'), 486);
    expect((await call.final()).status).toBe(486);
    await sleep(30);
    expect(b.requests.items).toEqual([]);
  });

  it('relays a 503 unchanged, with its Retry-After, when every target answered 503 (the service is full)', async () => {
    const [a, b] = await setup(2, { fork: 'balance' }, { random: () => 0 });
    const { call } = inviteShop();
    a.answer(await a.nextRequest('INVITE'), 503, { headers: [['Retry-After', '5']] });
    b.answer(await b.nextRequest('INVITE'), 503);
    const final = await call.final();
    expect(final.status).toBe(503);
    // The first of equal answers is kept, with what it says about retrying.
    expect(final.header('retry-after')).toBe('5');
  });
});

describe('relay core: best response (RFC 3261 §16.7 step 6)', () => {
  it('relays the lowest class, lowest code: 404 over 486 over 503', async () => {
    const servers3 = await setup(3, { fork: 'race' });
    const { call } = inviteShop();
    const incs: Incoming[] = [];
    for (const s of servers3) incs.push(await s.nextRequest('INVITE'));
    servers3[0].answer(incs[0], 486);
    servers3[1].answer(incs[1], 503);
    await sleep(20);
    expect(statuses(call)).toEqual([]);
    servers3[2].answer(incs[2], 404);
    expect((await call.final()).status).toBe(404);
  });

  it('ends the fork on a 6xx: the other branches are cancelled and the 6xx is relayed', async () => {
    const [a, b, c] = await setup(3, { fork: 'all' });
    const { call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    const ib = await b.nextRequest('INVITE');
    const ic = await c.nextRequest('INVITE');
    a.answer(ia, 180, { toTag: 'a' });
    b.answer(ib, 180, { toTag: 'b' });
    await waitFor(() => statuses(call).length === 2);
    c.answer(ic, 603);
    await a.nextRequest('CANCEL');
    await b.nextRequest('CANCEL');
    expect((await call.final()).status).toBe(603);
  });

  it('answers 500 when no target can be reached at all (transport errors count as 503, §16.9)', async () => {
    relay = await startRelay();
    alice = await TestUa.node('alice');
    servers = [];
    // Nothing listens on TCP port 9 of 127.0.0.1: the connection is refused.
    relay.directory.add(service('shop', { fork: 'race' }), [
      { appServer: 'gone-a', uri: 'sip:shop@127.0.0.1:9;transport=tcp' },
      { appServer: 'gone-b', uri: 'sip:shop@127.0.0.1:9;transport=tcp' },
    ]);
    const { call } = inviteShop();
    expect((await call.final(5000)).status).toBe(500);
  });

  it("relays the application server's 503 unchanged when it was the only answer (design brief flow 1)", async () => {
    const [a] = await setup(1, { fork: 'race' });
    const { call } = inviteShop();
    a.answer(await a.nextRequest('INVITE'), 503, { reason: 'Service Full', headers: [['Retry-After', '30']] });
    const final = await call.final();
    expect(final.status).toBe(503);
    expect(final.reason).toBe('Service Full');
    expect(final.header('retry-after')).toBe('30');
  });
});

describe('relay core: timer C (RFC 3261 §16.8)', () => {
  it('CANCELs a branch that sent a provisional and then nothing, and relays its 487', async () => {
    const [a] = await setup(1, {}, { timerCMs: 300 });
    const { call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    a.answer(ia, 180, { toTag: 'a' });
    await waitFor(() => statuses(call).includes(180));
    const cancel = await a.nextRequest('CANCEL', 2000);
    expect(cancel.request.callId).toBe(ia.request.callId);
    expect((await call.final(2000)).status).toBe(487);
  });

  it('restarts on every provisional above 100', async () => {
    const [a] = await setup(1, {}, { timerCMs: 300 });
    inviteShop();
    const ia = await a.nextRequest('INVITE');
    for (let i = 0; i < 4; i++) {
      a.answer(ia, 180, { toTag: 'a' });
      await sleep(150);
    }
    expect(a.requests.items.filter((r) => r.request.method === 'CANCEL')).toEqual([]);
    await a.nextRequest('CANCEL', 2000);
  });

  it('runs on the injected clock: the configured 185 s by default', async () => {
    const clock = new ManualClock();
    const [a] = await setup(1, {}, { clock });
    const { call } = inviteShop();
    const ia = await a.nextRequest('INVITE');
    a.answer(ia, 180, { toTag: 'a' });
    await waitFor(() => statuses(call).includes(180));
    clock.advance(184_000);
    await sleep(30);
    expect(a.requests.items.filter((r) => r.request.method === 'CANCEL')).toEqual([]);
    clock.advance(1_000);
    await a.nextRequest('CANCEL');
    expect((await call.final()).status).toBe(487);
  });
});
