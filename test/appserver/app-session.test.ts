import { describe, expect, it } from 'vitest';
import type { AppServerOptions } from '../../appserver/app-server.js';
import type { AppSession, SessionEnd } from '../../appserver/app-session.js';
import type { ChangeRequest } from '../../appserver/change-request.js';
import type { Session } from '../../sip/ua/session.js';
import { appFor, fakeRelay, token, until } from './support/app-harness.js';
import type { FakeRelay } from './support/fake-relay.js';

const REQUEST_JSON = 'application/vnd.siprelay.request+json';
const CHARGE_JSON = 'application/vnd.siprelay.charge+json';

/** An app server with one `wine` session up: `client` is the relay's side of the dialog, `session` the app's. */
async function liveSession(options: Partial<AppServerOptions> = {}, setup?: (s: AppSession) => void): Promise<{ relay: FakeRelay; client: Session; session: AppSession; app: Awaited<ReturnType<typeof appFor>> }> {
  const relay = await fakeRelay();
  const app = await appFor(relay, 'TCP', options);
  let session: AppSession | undefined;
  app.invite('wine', (req, res) => {
    session = res.accept({ url: `http://localhost:8081/?token=${req.token}`, title: 'Wine' });
    setup?.(session);
  });
  await app.listen();
  const client = await relay.session('wine', { token: await token(), details: { category: 'red' } });
  await until(() => session?.state === 'started', 2000, 'ACK');
  return { relay, client, session: session!, app };
}

const bottle = { sku: 'BDX-2015', description: 'Bordeaux 2015, 75 cl', unitPrice: 2450 };

describe('AppSession', () => {
  describe('charge()', () => {
    it('sends an INFO with the charge package and resolves with the relay\'s receipt', async () => {
      const { relay, session } = await liveSession();
      const charged: string[] = [];
      session.on('charged', (r) => charged.push(r.id));
      const receipt = await session.charge([{ ...bottle, quantity: 2 }]);
      const info = relay.infos[0];
      expect(info.header('info-package')).toBe('siprelay-charge');
      expect(info.contentType).toBe(CHARGE_JSON);
      const body = JSON.parse(info.bodyText);
      expect(body).toEqual({ id: receipt.key, items: [{ ...bottle, quantity: 2, currency: 'EUR' }] });
      expect(receipt.key).toMatch(new RegExp(`^${session.id}-`));
      expect(receipt.id).toBe(receipt.key);
      expect(receipt.total).toEqual({ amount: 4900, currency: 'EUR' });
      expect(session.receipts).toEqual([receipt]);
      expect(charged).toEqual([receipt.id]);
    });

    it('keeps the idempotency key the app gives', async () => {
      const { relay, session } = await liveSession();
      relay.chargeAnswer = (_i, c) => ({ status: 200, headers: [['Siprelay-Charge', `stored;id="ch-${c.id}"`]] });
      const receipt = await session.charge({ id: 'order-7731', items: [bottle] });
      expect([receipt.key, receipt.id]).toEqual(['order-7731', 'ch-order-7731']);
    });

    it('rejects with APPSERVER_ERR_CHARGE_REFUSED carrying the relay\'s status and reason', async () => {
      const { relay, session } = await liveSession();
      relay.chargeAnswer = () => ({ status: 402, reason: 'insufficient credit: 12.00 EUR left' });
      await expect(session.charge([bottle])).rejects.toMatchObject({
        code: 'APPSERVER_ERR_CHARGE_REFUSED',
        status: 402,
        reason: 'insufficient credit: 12.00 EUR left',
      });
      expect(session.receipts).toEqual([]);
      expect(session.state).toBe('started');
    });

    it('rejects a 2xx without a stored receipt as APPSERVER_ERR_CHARGE_UNCONFIRMED', async () => {
      const { relay, session } = await liveSession();
      relay.chargeAnswer = () => ({ status: 200 });
      await expect(session.charge([bottle])).rejects.toMatchObject({ code: 'APPSERVER_ERR_CHARGE_UNCONFIRMED', status: 200 });
    });

    it('sends the same charge again with the same key when the relay does not answer in time', async () => {
      const { relay, session } = await liveSession({ chargeTimeoutMs: 200 });
      let n = 0;
      relay.chargeAnswer = (_i, c) => (n++ === 0 ? 'ignore' : { status: 200, headers: [['Siprelay-Charge', `stored;id=${c.id}`]] });
      const receipt = await session.charge([bottle]);
      expect(relay.infos).toHaveLength(2);
      const ids = relay.infos.map((i) => JSON.parse(i.bodyText).id);
      expect(ids).toEqual([receipt.key, receipt.key]);
    });

    it('retries 503 with the same key after Retry-After, then gives up with the last refusal', async () => {
      const { relay, session } = await liveSession({ chargeRetries: 1 });
      relay.chargeAnswer = () => ({ status: 503, reason: 'Store Busy', headers: [['Retry-After', '0']] });
      await expect(session.charge([bottle])).rejects.toMatchObject({ code: 'APPSERVER_ERR_CHARGE_REFUSED', status: 503 });
      expect(relay.infos).toHaveLength(2);
      expect(new Set(relay.infos.map((i) => JSON.parse(i.bodyText).id)).size).toBe(1);
    });

    it('gives up with APPSERVER_ERR_CHARGE_TIMEOUT after every attempt went unanswered', async () => {
      const { relay, session } = await liveSession({ chargeTimeoutMs: 100, chargeRetries: 1 });
      relay.chargeAnswer = () => 'ignore';
      await expect(session.charge([bottle])).rejects.toMatchObject({ code: 'APPSERVER_ERR_CHARGE_TIMEOUT' });
      expect(relay.infos).toHaveLength(2);
    });

    it('refuses malformed charges with TypeError before sending anything', async () => {
      const { relay, session } = await liveSession();
      await expect(session.charge([{ ...bottle, unitPrice: 24.5 }])).rejects.toThrow(/unitPrice/);
      await expect(session.charge([{ ...bottle, quantity: 0 }])).rejects.toThrow(/quantity/);
      await expect(session.charge([])).rejects.toThrow(/items/);
      await expect(session.charge([bottle, { ...bottle, currency: 'USD' }])).rejects.toThrow(/currency/);
      expect(relay.infos).toHaveLength(0);
    });

    it('rejects APPSERVER_ERR_SESSION_ENDED once the session is over', async () => {
      const { client, session } = await liveSession();
      await client.bye();
      await session.ended();
      await expect(session.charge([bottle])).rejects.toMatchObject({ code: 'APPSERVER_ERR_SESSION_ENDED' });
    });
  });

  describe('changes (re-INVITE, UPDATE)', () => {
    it('emits changed; accept() answers 200 with the new descriptor and the session takes the new details', async () => {
      const seen: ChangeRequest[] = [];
      const { client, session } = await liveSession({}, (s) =>
        s.on('changed', (change) => {
          seen.push(change);
          change.accept({ url: 'http://localhost:8081/?category=beer', title: 'Beer' });
        }),
      );
      const r = await client.reinvite({ body: '{"category":"beer"}', contentType: REQUEST_JSON });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.bodyText)).toEqual({ url: 'http://localhost:8081/?category=beer', title: 'Beer' });
      expect(seen[0].method).toBe('INVITE');
      expect(seen[0].details).toEqual({ category: 'beer' });
      expect(seen[0].previous).toEqual({ category: 'red' });
      expect(session.details).toEqual({ category: 'beer' });
      expect(session.descriptor.title).toBe('Beer');
    });

    it('refuse() answers the status and keeps the details; UPDATE works the same', async () => {
      const { client, session } = await liveSession({}, (s) => s.on('changed', (change) => change.refuse(488, 'No Such Category')));
      const r = await client.update({ body: '{"category":"spirits"}', contentType: REQUEST_JSON });
      expect([r.status, r.reason]).toEqual([488, 'No Such Category']);
      expect(session.details).toEqual({ category: 'red' });
      expect(session.state).toBe('started');
    });

    it('accept() without a descriptor keeps the current one', async () => {
      const { client } = await liveSession({}, (s) => s.on('changed', (change) => setTimeout(() => change.accept(), 20)));
      const r = await client.update({ body: '{"category":"white"}', contentType: REQUEST_JSON });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.bodyText).title).toBe('Wine');
    });

    it('refuses with 488 when the app does not listen for changes', async () => {
      const { client } = await liveSession();
      expect((await client.update({ body: '{"category":"white"}', contentType: REQUEST_JSON })).status).toBe(488);
    });

    it('refuses with 500 a change the app does not answer in changeTimeoutMs', async () => {
      const { client } = await liveSession({ changeTimeoutMs: 100 }, (s) => s.on('changed', () => undefined));
      const r = await client.update({ body: '{"category":"white"}', contentType: REQUEST_JSON });
      expect([r.status, r.reason]).toEqual([500, 'Change Not Answered']);
    });

    it('answers a refresh without details with the current descriptor and no event', async () => {
      let events = 0;
      const { client } = await liveSession({}, (s) => s.on('changed', () => events++));
      const r = await client.reinvite();
      expect(r.status).toBe(200);
      expect(JSON.parse(r.bodyText).title).toBe('Wine');
      expect(events).toBe(0);
    });

    it('refuses malformed details with 400', async () => {
      const { client } = await liveSession({}, (s) => s.on('changed', (c) => c.accept()));
      expect((await client.update({ body: '{bad', contentType: REQUEST_JSON })).status).toBe(400);
    });
  });

  describe('end()', () => {
    it('sends the charges first, waits for the receipt, then BYE; ended says by app', async () => {
      const { relay, client, session } = await liveSession();
      const order: string[] = [];
      relay.chargeAnswer = (_i, c) => {
        order.push('INFO');
        return { status: 200, headers: [['Siprelay-Charge', `stored;id=${c.id}`]] };
      };
      const clientEnded = new Promise<void>((resolve) => client.on('bye', (b) => {
        order.push('BYE');
        b.accept();
        resolve();
      }));
      const ended: SessionEnd[] = [];
      session.on('ended', (e) => ended.push(e));
      await session.end({ charges: [bottle], reason: 'order complete' });
      await clientEnded;
      expect(order).toEqual(['INFO', 'BYE']);
      expect(session.receipts).toHaveLength(1);
      expect(ended).toEqual([{ by: 'app', reason: 'order complete' }]);
      expect(session.state).toBe('ended');
    });

    it('still ends the session when the relay refuses the final charge, and rejects with that refusal', async () => {
      const { relay, session } = await liveSession();
      relay.chargeAnswer = () => ({ status: 402, reason: 'no credit' });
      await expect(session.end({ charges: [bottle] })).rejects.toMatchObject({ code: 'APPSERVER_ERR_CHARGE_REFUSED', status: 402 });
      expect(session.state).toBe('ended');
    });

    it('is idempotent without charges', async () => {
      const { session } = await liveSession();
      await session.end();
      await session.end();
      expect(session.outcome).toEqual({ by: 'app', reason: 'bye' });
      await expect(session.end({ charges: [bottle] })).rejects.toMatchObject({ code: 'APPSERVER_ERR_SESSION_ENDED' });
    });
  });

  describe('a BYE from the other side', () => {
    it('emits ending, puts the final charges in the 2xx to the BYE, then ended by user', async () => {
      const { client, session, app } = await liveSession({}, (s) =>
        s.on('ending', (e) => {
          e.waitUntil(new Promise((r) => setTimeout(r, 30)));
          e.charge([{ ...bottle, quantity: 3 }]);
        }),
      );
      const ended: SessionEnd[] = [];
      session.on('ended', (e) => ended.push(e));
      const r = await client.bye();
      expect(r.status).toBe(200);
      expect(r.contentType).toBe(CHARGE_JSON);
      const body = JSON.parse(r.bodyText);
      expect(body.items).toEqual([{ ...bottle, quantity: 3, currency: 'EUR' }]);
      expect(body.id).toMatch(new RegExp(`^${session.id}-`));
      expect(ended).toEqual([{ by: 'user', reason: 'bye', finalCharge: body }]);
      expect(app.session(session.id)).toBeUndefined();
    });

    it('end({ charges }) called while the user\'s BYE is being answered puts them in that 2xx', async () => {
      let pending: Promise<void> | undefined;
      const { client, session } = await liveSession({}, (s) =>
        s.on('ending', (e) => e.waitUntil((pending = s.end({ charges: [bottle] })))),
      );
      const r = await client.bye();
      await pending;
      expect(JSON.parse(r.bodyText).items[0].sku).toBe('BDX-2015');
      expect(session.outcome?.by).toBe('user');
    });

    it('answers 200 without a body when nobody gives charges', async () => {
      const { client } = await liveSession();
      const r = await client.bye();
      expect([r.status, r.body.length]).toEqual([200, 0]);
    });

    it('tells a BYE of the relay (Reason names why) from the user\'s', async () => {
      const { client, session } = await liveSession();
      const ending: string[] = [];
      session.on('ending', (e) => ending.push(`${e.by}:${e.reason}`));
      await client.bye({ headers: [['Reason', 'SIP;cause=200;text="max-duration"']] });
      expect(ending).toEqual(['relay:max-duration']);
      expect((await session.ended()).by).toBe('relay');
    });

    it.each([
      ['SIP;cause=402;text="credit exhausted"', 'credit-exhausted'],
      ['SIP;cause=200;text="operator: the customer asked about credit"', 'operator'],
      ['SIP;cause=500;text="interrupted: the relay restarted and the session sent nothing since"', 'interrupted'],
      ['SIP;cause=503;text="relay shutting down"', 'shutdown'],
      ['SIP;cause=408;text="session timer expired"', 'session-timer'],
      ['SIP;cause=200;text="ended by the operator"', 'operator'],
      ['SIP;cause=200;text="user hung up"', undefined],
    ])('reads the relay\'s Reason %s', async (reason, expected) => {
      const { client, session } = await liveSession();
      await client.bye({ headers: [['Reason', reason]] });
      const end = await session.ended();
      expect(end).toEqual(expected ? { by: 'relay', reason: expected } : { by: 'user', reason: 'bye' });
    });
  });

  describe('transfer()', () => {
    it('sends REFER with Refer-To sip:<service>@<domain> and the details, and resolves with the new session\'s status', async () => {
      const { relay, session } = await liveSession();
      const result = await session.transfer('beer', { category: 'stout' });
      expect(result).toEqual({ status: 200 });
      const refer = relay.refers[0];
      expect(refer.referTo.uri.toString()).toBe('sip:beer@portal.test');
      expect(refer.request.contentType).toBe(REQUEST_JSON);
      expect(JSON.parse(refer.request.bodyText)).toEqual({ category: 'stout' });
      expect(session.state).toBe('started');
    });

    it('rejects APPSERVER_ERR_TRANSFER_FAILED when the client refuses the REFER', async () => {
      const { relay, session } = await liveSession();
      relay.referAnswer = (r) => r.reject(603);
      await expect(session.transfer('beer')).rejects.toMatchObject({ code: 'APPSERVER_ERR_TRANSFER_FAILED', status: 603 });
    });

    it('rejects APPSERVER_ERR_TRANSFER_FAILED when the new session fails', async () => {
      const { relay, session } = await liveSession();
      relay.referAnswer = (r) => {
        const n = r.accept();
        setTimeout(() => void n.notify(486).catch(() => undefined), 10);
      };
      await expect(session.transfer('beer')).rejects.toMatchObject({ code: 'APPSERVER_ERR_TRANSFER_FAILED', status: 486 });
    });

    it('ends this session after success with endOnSuccess', async () => {
      const { session } = await liveSession();
      await session.transfer('beer', undefined, { endOnSuccess: true });
      expect(session.outcome).toEqual({ by: 'app', reason: 'transferred' });
    });

    it('times out with APPSERVER_ERR_TRANSFER_TIMEOUT', async () => {
      const { relay, session } = await liveSession();
      relay.referAnswer = (r) => void r.accept();
      await expect(session.transfer('beer', undefined, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'APPSERVER_ERR_TRANSFER_TIMEOUT' });
    });
  });

  describe('app.close()', () => {
    it('ends live sessions with BYE (by app, closed) and unregisters the services', async () => {
      const { relay, session, app } = await liveSession();
      await app.close();
      expect(session.outcome).toEqual({ by: 'app', reason: 'closed' });
      expect(relay.bindings.has('wine@portal.test')).toBe(false);
      expect(app.state).toBe('closed');
    });
  });
});
