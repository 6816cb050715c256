import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { DEMO_APP_SERVER_ACCOUNTS } from '../../demo-appserver/demo-accounts.js';
import { startDemoAppServers, type RunningDemoAppServers } from '../../demo-appserver/start-demo-app-servers.js';
import { WebSocketTransport } from '../../sip/transport/websocket-transport.js';
import type { IncomingRefer } from '../../sip/ua/incoming-refer.js';
import type { Session } from '../../sip/ua/session.js';
import { UserAgentCore } from '../../sip/ua/user-agent-core.js';
import { startTestRelay, type TestRelay } from '../support/test-relay.js';

/**
 * The five demo apps logged in to the real relay (in-process, the demo's
 * services and tariff, SQLite in a temp directory), and a browser-like
 * client over WebSocket signed in as alice, as the portal is.
 */
let t: TestRelay;
let demo: RunningDemoAppServers;
let transport: WebSocketTransport;
let alice: UserAgentCore;
const refers: IncomingRefer[] = [];

const REQUEST_JSON = 'application/vnd.siprelay.request+json';
const html = { accept: 'text/html' };
const json = { accept: 'application/json', 'content-type': 'application/json' };

beforeAll(async () => {
  t = await startTestRelay({
    config: {
      services: [
        { name: 'wine', description: 'Wine shop' },
        { name: 'beer', description: 'Beer shop' },
        { name: 'bookstore', description: 'Two bookstores', fork: 'race', allowNoCancel: true },
        {
          name: 'lesson',
          description: 'Video lesson',
          tariff: { id: 'lesson-standard', currency: 'EUR', setupFee: 50, pricePerMinute: 120, increments: { first: 60, next: 60 }, freeSeconds: 30 },
        },
      ],
    },
    appServers: DEMO_APP_SERVER_ACCOUNTS.map((a) => ({ name: a.name, password: a.password, services: [...a.services] })),
  });
  await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 100_000 });
  demo = await startDemoAppServers({
    relay: `sip:${t.tcp.host}:${t.tcp.port};transport=tcp`,
    domain: t.domain,
    relayHttpUrl: t.httpUrl,
    ports: { wineshop: 0, beershop: 0, 'bookstore-a': 0, 'bookstore-b': 0, lesson: 0 },
    appServerOptions: { keepAliveIntervalMs: 0 },
  });
  transport = new WebSocketTransport({ url: t.wsUrl, WebSocket: WebSocket as never, reconnect: false });
  alice = new UserAgentCore({
    transport,
    aor: `sip:alice@${t.domain}`,
    credentials: { username: 'alice', password: 'alice-secret' },
    outboundProxy: `sip:${t.domain};transport=ws`,
    resolveTarget: () => transport.flow!,
    recvInfo: ['siprelay-charge'],
  });
  await transport.connect();
});

afterAll(async () => {
  await alice?.close();
  await transport?.close();
  await demo?.close();
  await t?.stop();
});

function watch(session: Session): Session {
  session.on('refer', (refer) => {
    refers.push(refer);
    const n = refer.accept();
    setTimeout(() => void n.notify(200).catch(() => undefined), 20);
  });
  session.on('info', (info) => info.accept());
  return session;
}

async function open(service: string, details?: unknown, headers?: Array<[string, string]>): Promise<Session> {
  const call = alice.invite(`sip:${service}@${t.domain}`, { ...(details === undefined ? {} : { body: JSON.stringify(details), contentType: REQUEST_JSON }), headers });
  return watch(await call.session);
}

const urlOf = (s: Session) => JSON.parse(s.inviteResponse!.bodyText).url as string;
const withToken = (url: string, path: string) => {
  const u = new URL(url);
  return `${u.origin}${path}?token=${u.searchParams.get('token')}`;
};

describe('the demo apps through the real relay', () => {
  it('every app registers its services with the relay', () => {
    expect(t.relay.directory.lookup('wine').targets.map((x) => x.appServer)).toEqual(['wineshop']);
    expect(t.relay.directory.lookup('beer').targets.map((x) => x.appServer)).toEqual(['beershop']);
    expect(t.relay.directory.lookup('bookstore').targets.map((x) => x.appServer).sort()).toEqual(['bookstore-a', 'bookstore-b']);
    expect(t.relay.directory.lookup('lesson').targets.map((x) => x.appServer)).toEqual(['lesson']);
  });

  it('every app refuses a page request that does not come through the relay', async () => {
    for (const a of DEMO_APP_SERVER_ACCOUNTS) {
      const r = await fetch(demo.apps[a.name]!.url, { headers: html });
      expect(r.status, a.name).toBe(401);
      expect(await r.text()).toContain('Open this service through the portal');
    }
  });

  it('wine shop: the service URL from the relay opens the page for alice; a change to beer through the relay is followed', async () => {
    const session = await open('wine', { category: 'wine' });
    const url = urlOf(session);
    const page = await fetch(url, { headers: html });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Welcome, Alice');
    await new Promise((r) => setTimeout(r, 100)); // the ACK reaches the shop
    const changed = await session.reinvite({ body: '{"category":"beer"}', contentType: REQUEST_JSON });
    expect(changed.status).toBe(200);
    expect(JSON.parse(changed.bodyText).title).toBe('The Wine Cellar — Beers & ciders');
    expect((await (await fetch(withToken(url, '/api/state'), { headers: json })).json()).category).toBe('beer');
    await session.bye();
  });

  it('bookstores: one request forked with no-cancel gives two sessions with different answers', async () => {
    const call = alice.invite(`sip:bookstore@${t.domain}`, {
      body: JSON.stringify({ query: 'dune' }),
      contentType: REQUEST_JSON,
      headers: [['Request-Disposition', 'no-cancel']],
    });
    const answers: Session[] = [];
    call.on('accepted', (s) => answers.push(watch(s)));
    await call.session;
    const end = Date.now() + 5000;
    while (answers.length < 2 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(answers).toHaveLength(2);
    const descriptors = answers.map((s) => JSON.parse(s.inviteResponse!.bodyText)).sort((a, b) => String(a.store).localeCompare(String(b.store)));
    expect(descriptors.map((d) => [d.store, d.inStock, d.cheapest.price])).toEqual([
      ['Alder Books', 2, 1799],
      ['Birch & Quill', 1, 1590],
    ]);
    for (const s of answers) expect((await fetch(urlOf(s), { headers: html })).status).toBe(200);
    await Promise.all(answers.map((s) => s.bye()));
  });

  it('lesson: shows the tariff from the relay\'s catalogue, and hands the user over to the wine shop', async () => {
    const session = await open('lesson');
    const url = urlOf(session);
    expect(await (await fetch(url, { headers: html })).text()).toContain('€1.20 per minute · billed in 60 s steps · first 30 s free · €0.50 per lesson');
    await new Promise((r) => setTimeout(r, 100));
    const ended = new Promise<void>((resolve) => session.on('terminated', () => resolve()));
    const r = await fetch(withToken(url, '/transfer'), { method: 'POST', headers: json });
    expect(r.status).toBe(200);
    expect(refers[refers.length - 1].referTo.uri.toString()).toBe('sip:wine@portal.test');
    await ended;
  });

  it('wine shop: buying charges alice through the relay, with the relay\'s receipt', async () => {
    const session = await open('wine');
    const url = urlOf(session);
    await new Promise((r) => setTimeout(r, 100));
    await fetch(withToken(url, '/basket'), { method: 'POST', headers: json, body: JSON.stringify({ sku: 'W-RIO-19', quantity: 1 }) });
    const r = await fetch(withToken(url, '/buy'), { method: 'POST', headers: json });
    expect(r.status).toBe(200);
    const { receipt } = await r.json();
    expect(receipt.total).toEqual({ amount: 1490, currency: 'EUR' });
    expect(await (await fetch(url, { headers: html })).text()).toContain(`receipt ${receipt.id}`);
    await session.bye();
  });
});
