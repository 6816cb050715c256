import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_APP_SERVER_ACCOUNTS, type DemoAppName } from '../../demo-appserver/demo-accounts.js';
import { startDemoAppServers, type RunningDemoAppServers } from '../../demo-appserver/start-demo-app-servers.js';
import type { Session } from '../../sip/ua/session.js';
import { FakeRelay } from '../appserver/support/fake-relay.js';
import { makeKey, newSid, signToken, type TestKey } from '../appserver/support/relay-keys.js';

/**
 * The five demo apps against a stand-in relay (the SDK's FakeRelay, with
 * every demo account), with a relay catalogue served for the lesson's
 * tariff. What a browser would do is done with fetch.
 */
let relay: FakeRelay;
let demo: RunningDemoAppServers;
let key: TestKey;
let catalogue: Server;

const LESSON_TARIFF = { id: 'lesson-standard', currency: 'EUR', setupFee: 50, pricePerMinute: 120, increments: { first: 60, next: 60 }, freeSeconds: 30 };
const html = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };
const json = { accept: 'application/json', 'content-type': 'application/json' };

beforeAll(async () => {
  key = await makeKey('demo-key');
  relay = await FakeRelay.start({ accounts: Object.fromEntries(DEMO_APP_SERVER_ACCOUNTS.map((a) => [a.name, a.password])) });
  catalogue = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ services: [{ name: 'lesson', description: 'Video lesson', tariff: LESSON_TARIFF }] })));
  await new Promise<void>((r) => catalogue.listen(0, '127.0.0.1', r));
  demo = await startDemoAppServers({
    relay: relay.address('TCP'),
    domain: 'portal.test',
    relayHttpUrl: `http://127.0.0.1:${(catalogue.address() as AddressInfo).port}`,
    ports: { wineshop: 0, beershop: 0, 'bookstore-a': 0, 'bookstore-b': 0, lesson: 0 },
    appServerOptions: { jwks: { keys: [key.publicJwk] }, keepAliveIntervalMs: 0 },
  });
});

afterAll(async () => {
  await demo?.close();
  await relay?.close();
  catalogue?.closeAllConnections();
  await new Promise((r) => catalogue?.close(r));
});

beforeEach(() => {
  relay.chargeAnswer = (_i, c) => ({ status: 200, headers: [['Siprelay-Charge', `stored;id=${c.id}`]] });
  relay.infos.length = 0;
});

const SERVICE: Record<DemoAppName, string> = { wineshop: 'wine', beershop: 'beer', 'bookstore-a': 'bookstore', 'bookstore-b': 'bookstore', lesson: 'lesson' };

/** Opens a session with one demo app as the relay would: an INVITE with a token for that app. */
async function open(app: DemoAppName, details: unknown = {}): Promise<{ client: Session; url: string; descriptor: Record<string, unknown>; sid: string }> {
  const sid = newSid();
  const token = await signToken(key, { aud: app, svc: SERVICE[app], sid, name: 'Alice A.' });
  const client = await relay.session(SERVICE[app], { appServer: app, token, details });
  const descriptor = JSON.parse(client.inviteResponse!.bodyText) as Record<string, unknown>;
  return { client, url: descriptor.url as string, descriptor, sid };
}

function withToken(url: string, path: string): string {
  const u = new URL(url);
  return `${u.origin}${path}${path.includes('?') ? '&' : '?'}token=${u.searchParams.get('token')}`;
}

describe('demo application servers', () => {
  it('start on their own ports and register their services', () => {
    for (const a of DEMO_APP_SERVER_ACCOUNTS) {
      expect(demo.apps[a.name]?.url).toMatch(/^http:\/\/localhost:\d+$/);
      for (const s of a.services) expect(relay.accountBindings.has(`${a.name} ${s}@portal.test`)).toBe(true);
    }
  });

  describe.each(DEMO_APP_SERVER_ACCOUNTS.map((a) => a.name))('%s refuses page requests that do not come through the relay', (app) => {
    const base = () => demo.apps[app]!.url;

    it('no token: 401 and a page that says to come through the portal', async () => {
      const r = await fetch(base(), { headers: html });
      expect(r.status).toBe(401);
      const text = await r.text();
      expect(text).toContain('Open this service through the portal');
      expect(text).toContain('href="http://localhost:8080/"');
    });

    it('expired, foreign or forged token: 403', async () => {
      expect((await fetch(`${base()}/?token=${await signToken(key, { aud: app, expiresIn: -600 })}`, { headers: html })).status).toBe(403);
      const other = app === 'wineshop' ? 'beershop' : 'wineshop';
      expect((await fetch(`${base()}/?token=${await signToken(key, { aud: other })}`, { headers: html })).status).toBe(403);
      const forger = await makeKey('demo-key');
      expect((await fetch(`${base()}/?token=${await signToken(forger, { aud: app })}`, { headers: html })).status).toBe(403);
      expect((await fetch(`${base()}/api/state`, { headers: json })).status).toBe(401);
      expect((await fetch(`${base()}/buy`, { method: 'POST', headers: json, body: '{}' })).status).toBe(401);
    });

    it('a valid token of a session it does not hold: 409', async () => {
      const r = await fetch(`${base()}/?token=${await signToken(key, { aud: app, svc: SERVICE[app] })}`, { headers: html });
      expect(r.status).toBe(409);
      expect(await r.text()).toContain('not open');
    });
  });

  describe('wine shop', () => {
    it('answers with its page URL; the page greets the user from the token and lists wines', async () => {
      const { url, descriptor } = await open('wineshop', { category: 'wine' });
      expect(descriptor).toMatchObject({ title: 'The Wine Cellar — Wines', category: 'wine' });
      const page = await fetch(url, { headers: html });
      expect(page.status).toBe(200);
      const text = await page.text();
      expect(text).toContain('Welcome, Alice A.');
      expect(text).toContain('Rioja Reserva 2019');
    });

    it('buy: the basket is charged by INFO, and the page shows the charge', async () => {
      const { url } = await open('wineshop');
      await fetch(withToken(url, '/basket'), { method: 'POST', headers: json, body: JSON.stringify({ sku: 'W-RIO-19', quantity: 2 }) });
      const r = await fetch(withToken(url, '/buy'), { method: 'POST', headers: json });
      expect(r.status).toBe(200);
      const { receipt } = await r.json();
      expect(receipt.total).toEqual({ amount: 2980, currency: 'EUR' });
      const charge = JSON.parse(relay.infos[0].bodyText);
      expect(charge.items).toEqual([{ sku: 'W-RIO-19', description: 'Rioja Reserva 2019 (Spain, red, 75 cl)', unitPrice: 1490, quantity: 2, currency: 'EUR' }]);
      const text = await (await fetch(url, { headers: html })).text();
      expect(text).toContain(`receipt ${receipt.id}`);
      expect(text).toContain('€29.80');
    });

    it('buy with a form post redirects back to the page with the token', async () => {
      const { url } = await open('wineshop');
      await fetch(withToken(url, '/basket'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'sku=W-PRS-NV&quantity=1', redirect: 'manual' });
      const r = await fetch(withToken(url, '/buy'), { method: 'POST', headers: { ...html, 'content-type': 'application/x-www-form-urlencoded' }, body: '', redirect: 'manual' });
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toBe(`/?token=${new URL(url).searchParams.get('token')}`);
      expect(await (await fetch(url, { headers: html })).text()).toContain('Paid €11.90');
    });

    it('a charge the relay refuses is shown and nothing is recorded', async () => {
      relay.chargeAnswer = () => ({ status: 402, reason: 'insufficient credit' });
      const { url } = await open('wineshop');
      await fetch(withToken(url, '/basket'), { method: 'POST', headers: json, body: JSON.stringify({ sku: 'W-CHA-21' }) });
      const r = await fetch(withToken(url, '/buy'), { method: 'POST', headers: json });
      expect(r.status).toBe(402);
      expect((await r.json()).error.message).toContain('cannot cover');
      const state = await (await fetch(withToken(url, '/api/state'), { headers: json })).json();
      expect(state.purchases).toEqual([]);
      expect(state.basket).toEqual({ 'W-CHA-21': 1 });
    });

    it('switches from wine to beer on a change from the portal, and the page follows', async () => {
      const { client, url } = await open('wineshop');
      const before = await (await fetch(withToken(url, '/api/state'), { headers: json })).json();
      const r = await client.reinvite({ body: '{"category":"beer"}', contentType: 'application/vnd.siprelay.request+json' });
      expect(r.status).toBe(200);
      expect(JSON.parse(r.bodyText)).toMatchObject({ title: 'The Wine Cellar — Beers & ciders', category: 'beer' });
      const after = await (await fetch(withToken(url, '/api/state'), { headers: json })).json();
      expect(after.category).toBe('beer');
      expect(after.version).toBeGreaterThan(before.version);
      expect(await (await fetch(url, { headers: html })).text()).toContain('Oude Kriek Lambic');
      const refused = await client.update({ body: '{"category":"spirits"}', contentType: 'application/vnd.siprelay.request+json' });
      expect(refused.status).toBe(488);
    });

    it('buy and leave: charges the basket, then ends the session with BYE', async () => {
      const { client, url } = await open('wineshop');
      const bye = new Promise<void>((resolve) => client.on('terminated', () => resolve()));
      await fetch(withToken(url, '/basket'), { method: 'POST', headers: json, body: JSON.stringify({ sku: 'W-BDX-15' }) });
      const r = await fetch(withToken(url, '/checkout'), { method: 'POST', headers: json });
      expect(r.status).toBe(200);
      await bye;
      expect(client.termination?.by).toBe('remote');
      expect(relay.infos).toHaveLength(1);
      const state = await (await fetch(withToken(url, '/api/state'), { headers: json })).json();
      expect(state.ended).toEqual({ by: 'app', reason: 'checked out' });
    });
  });

  describe('beer shop', () => {
    it('opens on beers and sells them', async () => {
      const { url, descriptor } = await open('beershop');
      expect(descriptor.title).toBe('The Tap Room — Beers & ciders');
      expect(await (await fetch(url, { headers: html })).text()).toContain('Hop Harbour IPA');
      await fetch(withToken(url, '/basket'), { method: 'POST', headers: json, body: JSON.stringify({ sku: 'B-IPA-01', quantity: 6 }) });
      const r = await fetch(withToken(url, '/buy'), { method: 'POST', headers: json });
      expect((await r.json()).receipt.total).toEqual({ amount: 2700, currency: 'EUR' });
    });
  });

  describe('bookstores A and B', () => {
    it('answer the same search with different results, prices and stock', async () => {
      const a = await open('bookstore-a', { query: 'dune' });
      const b = await open('bookstore-b', { query: 'dune' });
      expect(a.descriptor).toMatchObject({ store: 'Alder Books', query: 'dune', results: 2, inStock: 2, cheapest: { title: 'Dune Messiah', price: 1799 } });
      expect(b.descriptor).toMatchObject({ store: 'Birch & Quill', query: 'dune', results: 2, inStock: 1, cheapest: { title: 'Dune', price: 1590 } });
      const pageA = await (await fetch(a.url, { headers: html })).text();
      const pageB = await (await fetch(b.url, { headers: html })).text();
      expect(pageA).toContain('€18.99');
      expect(pageB).toContain('€15.90');
      expect(pageB).toContain('Children of Dune');
      expect(pageA).not.toContain('Children of Dune');
    });

    it('sells a book by INFO and takes it off the shelf; an out-of-stock book cannot be bought', async () => {
      const b = await open('bookstore-b', { query: 'silmarillion' });
      const buy = () => fetch(withToken(b.url, '/buy'), { method: 'POST', headers: json, body: JSON.stringify({ isbn: '978-0544338012' }) });
      expect((await buy()).status).toBe(200);
      expect(JSON.parse(relay.infos[0].bodyText).items[0]).toMatchObject({ sku: '978-0544338012', unitPrice: 1690 });
      expect((await buy()).status).toBe(409);
      expect(relay.infos).toHaveLength(1);
    });

    it('follow a new search sent by the portal in a change request', async () => {
      const a = await open('bookstore-a', { query: 'dune' });
      const r = await a.client.update({ body: '{"query":"tolkien"}', contentType: 'application/vnd.siprelay.request+json' });
      expect(JSON.parse(r.bodyText)).toMatchObject({ query: 'tolkien', results: 2 });
      expect(await (await fetch(a.url, { headers: html })).text()).toContain('The Hobbit');
    });
  });

  describe('lesson', () => {
    it('shows the elapsed time and the tariff from the relay\'s catalogue, and charges no items', async () => {
      const { url, descriptor } = await open('lesson', { topic: 'Reading a wine label' });
      expect(descriptor.title).toBe('Tasting School — Reading a wine label');
      const text = await (await fetch(url, { headers: html })).text();
      expect(text).toContain('€1.20 per minute · billed in 60 s steps · first 30 s free · €0.50 per lesson');
      expect(text).toContain('data-test="elapsed"');
      const state = await (await fetch(withToken(url, '/api/state'), { headers: json })).json();
      expect(state.startedAt).toEqual(expect.any(Number));
      expect(relay.infos).toHaveLength(0);
    });

    it('hands the user over to the wine shop by REFER, then ends the lesson', async () => {
      const { client, url } = await open('lesson');
      const ended = new Promise<void>((resolve) => client.on('terminated', () => resolve()));
      const r = await fetch(withToken(url, '/transfer'), { method: 'POST', headers: json });
      expect(r.status).toBe(200);
      const refer = relay.refers[relay.refers.length - 1];
      expect(refer.referTo.uri.toString()).toBe('sip:wine@portal.test');
      expect(JSON.parse(refer.request.bodyText)).toMatchObject({ category: 'wine', from: 'lesson' });
      await ended;
      const state = await (await fetch(withToken(url, '/api/state'), { headers: json })).json();
      expect(state.ended).toEqual({ by: 'app', reason: 'transferred' });
    });
  });
});
