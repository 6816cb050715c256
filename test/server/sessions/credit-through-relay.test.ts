import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../../support/test-relay.js';
import { waitFor } from '../../sip/node/transport-test-kit.js';
import { TestAppServer, TestClient } from './support/relay-peers.js';

/**
 * Credit control through the whole relay (issue 4 item 6): 402 at INVITE
 * for a user who cannot afford the tariff's minimum, the cut-off when the
 * credit runs out during a session, and application charges over the
 * credit refused with 402 to the application server.
 */
describe('credit control through the relay', () => {
  let t: TestRelay;
  let app: TestAppServer;
  let alice: TestClient;
  let bob: TestClient;

  beforeAll(async () => {
    app = await TestAppServer.start();
    t = await startTestRelay({
      config: {
        services: [
          // 0.10 EUR to start, then 1.00 EUR a second, by the second: 2.00 EUR of credit lasts under two seconds.
          { name: 'lesson', tariff: { id: 'fast-lesson', currency: 'EUR', setupFee: 10, pricePerMinute: 6000, increments: { first: 1, next: 1 } } },
          { name: 'wine' },
        ],
        staticTargets: [app.staticTarget('lesson'), app.staticTarget('wine')],
      },
      appServers: [{ name: 'wineshop', password: 'wineshop-secret', services: [] }],
    });
    await t.store.accounts.setUser('bob@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 200 });
    alice = await TestClient.start(t.udp.port, 'alice');
    bob = await TestClient.start(t.udp.port, 'bob');
  });

  afterAll(async () => {
    await alice?.close();
    await bob?.close();
    await app?.close();
    await t?.stop();
  });

  it("answers 402 to the INVITE of a user who cannot afford the tariff's minimum, and forwards nothing", async () => {
    const before = app.invites.length;
    const refused = await alice.refused('lesson');
    expect(refused.status).toBe(402);
    expect(refused.reason).toBe('insufficient credit: no account');
    expect(app.invites.length).toBe(before);
    // A free service is open to the same user.
    const { session } = await alice.call('wine');
    await app.sessions.next();
    await session.bye();
  });

  it('ends the session when the credit runs out: BYE to both sides, record ended as credit-exhausted', async () => {
    const { terminated } = await bob.call('lesson');
    const server = await app.sessions.next();
    const [client, appEnd] = await Promise.all([terminated, server.terminated]);
    expect(client.message?.header('reason')).toMatch(/^SIP;cause=402;text="credit-exhausted: /);
    expect(appEnd.by).toBe('remote');
    let record = await t.store.sessions.get(server.sessionId);
    for (let i = 0; i < 50 && record?.state !== 'ended'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      record = await t.store.sessions.get(server.sessionId);
    }
    expect(record).toMatchObject({ endedBy: 'credit-exhausted', amount: { currency: 'EUR' } });
    // The cut-off comes a margin before the increment the credit cannot pay (CreditWatch): the
    // session costs the setup fee and the one second the credit covers, and the balance stays >= 0.
    expect(record!.amount!.amount).toBe(110);
  }, 15_000);

  it('refuses with 402 an application charge over the credit, and the user never sees it; one within the credit is stored and shown', async () => {
    await t.store.accounts.setUser('bob@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 200 });
    const { session: client } = await bob.call('wine');
    const server = await app.sessions.next();
    const shown: string[] = [];
    client.on('info', (info) => {
      shown.push(info.request.bodyText);
      info.accept();
    });
    const charge = (id: string, unitPrice: number) =>
      server.session.info({
        package: 'siprelay-charge',
        body: JSON.stringify({ id, items: [{ sku: 'RED', description: 'Red wine', unitPrice, quantity: 1, currency: 'EUR' }] }),
        contentType: 'application/vnd.siprelay.charge+json',
      });
    const over = await charge('order-1', 500);
    expect(over.status).toBe(402);
    expect(over.reason).toMatch(/^insufficient credit/);
    const ok = await charge('order-2', 150);
    expect(ok.status).toBe(200);
    expect(ok.header('siprelay-charge')).toBe('stored;id="order-2"');
    // 1.50 is spent: another 1.00 would exceed the 2.00.
    expect((await charge('order-3', 100)).status).toBe(402);
    await waitFor(() => shown.length === 1);
    expect(JSON.parse(shown[0]).id).toBe('order-2');
    const stored = await t.store.charges.list({ limit: 10 });
    expect(stored.map((c) => c.idempotencyKey)).toEqual(['order-2']);
    await client.bye();
  });
});
