import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { AppServer } from '../../appserver/app-server.js';
import type { AppSession, SessionEnd } from '../../appserver/app-session.js';
import { createAppServer } from '../../appserver/create-app-server.js';
import type { ServiceRequest } from '../../appserver/service-request.js';
import { NodeTransport } from '../../sip/node/node-transport.js';
import { WebSocketTransport } from '../../sip/transport/websocket-transport.js';
import type { IncomingRefer } from '../../sip/ua/incoming-refer.js';
import type { Session } from '../../sip/ua/session.js';
import { UserAgentCore } from '../../sip/ua/user-agent-core.js';
import { startTestRelay, type TestRelay } from '../support/test-relay.js';

/**
 * The SDK against the real relay (server/relay.ts started in-process on
 * free ports, SQLite in a temp directory): an application server built with
 * createAppServer over TCP, and a browser-like client — a user-agent core
 * over WebSocket, as the portal has — that signs in as alice.
 */

const REQUEST_JSON = 'application/vnd.siprelay.request+json';

interface Client {
  core: UserAgentCore;
  transport: WebSocketTransport;
  refers: IncomingRefer[];
  close(): Promise<void>;
}

async function client(t: TestRelay, user = 'alice'): Promise<Client> {
  const transport = new WebSocketTransport({ url: t.wsUrl, WebSocket: WebSocket as never, reconnect: false });
  const core = new UserAgentCore({
    transport,
    aor: `sip:${user}@${t.domain}`,
    credentials: { username: user, password: `${user}-secret` },
    outboundProxy: `sip:${t.domain};transport=ws`,
    resolveTarget: () => transport.flow!,
    recvInfo: ['siprelay-charge'],
  });
  await transport.connect();
  const refers: IncomingRefer[] = [];
  return {
    core,
    transport,
    refers,
    async close() {
      await core.close();
      await transport.close();
    },
  };
}

/** The client opens `service` and keeps the session (rejecting with the refusal). */
async function open(c: Client, t: TestRelay, service: string, details?: unknown): Promise<Session> {
  const call = c.core.invite(`sip:${service}@${t.domain}`, details === undefined ? {} : { body: JSON.stringify(details), contentType: REQUEST_JSON });
  const session = await call.session;
  session.on('refer', (refer) => {
    c.refers.push(refer);
    const notifier = refer.accept();
    setTimeout(() => void notifier.notify(200).catch(() => undefined), 20);
  });
  return session;
}

function appServer(t: TestRelay, name: string, extra: Partial<Parameters<typeof createAppServer>[0]> = {}): AppServer {
  return createAppServer({
    relay: `sip:${t.tcp.host}:${t.tcp.port};transport=tcp`,
    domain: t.domain,
    credentials: { username: name, password: `${name}-secret` },
    jwksUrl: `${t.httpUrl}/.well-known/jwks.json`,
    defaultCurrency: 'EUR',
    keepAliveIntervalMs: 0,
    ...extra,
  });
}

async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('the SDK through the real relay', () => {
  let t: TestRelay;
  let app: AppServer;
  let alice: Client;
  const seen: ServiceRequest[] = [];
  const sessions: AppSession[] = [];
  let policy: (req: ServiceRequest) => 'accept' | number = () => 'accept';

  beforeAll(async () => {
    t = await startTestRelay({
      config: {
        services: [
          { name: 'wine', description: 'Wine shop' },
          { name: 'beer', description: 'Beer shop' },
          { name: 'busy', description: 'Always full' },
        ],
      },
      appServers: [
        { name: 'wineshop', password: 'wineshop-secret', services: ['wine', 'busy'] },
        { name: 'beershop', password: 'beershop-secret', services: ['beer'] },
      ],
    });
    // Alice can pay: a prepaid account with 1 000.00 EUR.
    await t.store.accounts.setUser('alice@portal.test', { mode: 'prepaid', currency: 'EUR', balance: 100_000 });
    app = appServer(t, 'wineshop');
    app.invite('wine', (req, res) => {
      seen.push(req);
      const p = policy(req);
      if (p !== 'accept') return res.reject(p, 'Cellar Closed', { retryAfter: 42 });
      const session = res.accept({ url: `http://localhost:8081/?token=${req.token}`, title: 'The Wine Cellar' });
      session.on('changed', (change) => (change.details.category === 'spirits' ? change.refuse(488, 'No Such Category') : change.accept({ url: session.descriptor.url, title: `Now ${String(change.details.category)}` })));
      sessions.push(session);
    });
    app.invite('busy', { maxSessions: 1, whenFull: 503, retryAfter: 30 }, (req, res) => {
      sessions.push(res.accept({ url: `http://localhost:8081/busy?token=${req.token}` }));
    });
    await app.listen();
    alice = await client(t);
  });

  afterAll(async () => {
    await alice?.close();
    await app?.close();
    await t?.stop();
  });

  afterEach(() => {
    policy = () => 'accept';
  });

  it('registers each service with the relay', () => {
    expect(t.relay.directory.lookup('wine').targets.map((x) => x.appServer)).toEqual(['wineshop']);
    expect(t.relay.directory.lookup('busy').targets).toHaveLength(1);
  });

  it('accept: the handler gets the user, service and session the relay vouches for; the client gets the descriptor', async () => {
    const client = await open(alice, t, 'wine', { category: 'red' });
    const req = seen[seen.length - 1];
    expect(req.user).toMatchObject({ aor: 'sip:alice@portal.test', username: 'alice', displayName: 'Alice' });
    expect(req.service).toBe('wine');
    expect(req.details).toEqual({ category: 'red' });
    expect(req.sip.header('session-id')?.split(';')[0]).toBe(req.sessionId);
    expect(JSON.parse(client.inviteResponse!.bodyText)).toEqual({ url: `http://localhost:8081/?token=${req.token}`, title: 'The Wine Cellar' });
    const session = app.session(req.sessionId)!;
    await until(() => session.state === 'started', 3000, 'ACK through the relay');
    await client.bye();
    expect((await session.ended()).by).toBe('user');
  });

  it('reject: the refusal reaches the client unchanged', async () => {
    policy = () => 486;
    const r = await alice.core.invite(`sip:wine@${t.domain}`).finalResponse;
    expect([r.status, r.reason, r.header('retry-after')]).toEqual([486, 'Cellar Closed', '42']);
  });

  it('admission limit: the second session of a full service gets 503 with Retry-After, unchanged by the relay', async () => {
    const first = await open(alice, t, 'busy');
    const r = await alice.core.invite(`sip:busy@${t.domain}`).finalResponse;
    expect([r.status, r.header('retry-after')]).toEqual([503, '30']);
    await first.bye();
    await until(() => app.activeSessions('busy') === 0, 3000, 'slot release');
    const again = await open(alice, t, 'busy');
    await again.bye();
  });

  it('change: a re-INVITE with new details is accepted, an UPDATE with unknown ones refused', async () => {
    const client = await open(alice, t, 'wine', { category: 'red' });
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    const ok = await client.reinvite({ body: '{"category":"beer"}', contentType: REQUEST_JSON });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.bodyText).title).toBe('Now beer');
    expect(session.details).toEqual({ category: 'beer' });
    const no = await client.update({ body: '{"category":"spirits"}', contentType: REQUEST_JSON });
    expect([no.status, no.reason]).toEqual([488, 'No Such Category']);
    expect(session.details).toEqual({ category: 'beer' });
    await client.bye();
  });

  it('transfer: the app server\'s REFER reaches the client with the service and details', async () => {
    const client = await open(alice, t, 'wine');
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    const result = await session.transfer('beer', { category: 'stout' });
    expect(result.status).toBe(200);
    const refer = alice.refers[alice.refers.length - 1];
    expect(refer.referTo.uri.toString()).toBe('sip:beer@portal.test');
    expect(JSON.parse(refer.request.bodyText)).toEqual({ category: 'stout' });
    await client.bye();
  });

  it('a BYE from the app server reaches the client; ended says by app', async () => {
    const client = await open(alice, t, 'wine');
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    const gone = new Promise<void>((resolve) => client.on('terminated', () => resolve()));
    const ended: SessionEnd[] = [];
    session.on('ended', (e) => ended.push(e));
    await session.end({ reason: 'closing time' });
    await gone;
    expect(client.termination?.by).toBe('remote');
    expect(ended).toEqual([{ by: 'app', reason: 'closing time' }]);
  });

  it('charge stored: the relay answers with its receipt; the same charge again gets the first receipt', async () => {
    const client = await open(alice, t, 'wine');
    client.on('info', (info) => info.accept());
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    const items = [{ sku: 'BDX-2015', description: 'Bordeaux 2015', unitPrice: 2450, quantity: 2 }];
    const receipt = await session.charge({ id: 'order-1', items });
    expect(receipt).toMatchObject({ id: 'order-1', key: 'order-1', total: { amount: 4900, currency: 'EUR' } });
    // A retry of the same charge: answered with the first receipt, stored once.
    expect((await session.charge({ id: 'order-1', items })).id).toBe('order-1');
    await client.bye();
  });

  it('the client sees each stored charge: the relay forwards the INFO after storing it', async () => {
    const client = await open(alice, t, 'wine');
    const infos: string[] = [];
    client.on('info', (info) => {
      infos.push(info.request.bodyText);
      info.accept();
    });
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    try {
      await session.charge({ id: 'order-2', items: [{ sku: 'IPA', description: 'IPA 33 cl', unitPrice: 450 }] });
      await until(() => infos.length === 1, 3000, 'the charge INFO at the client');
      expect(JSON.parse(infos[0]).id).toBe('order-2');
    } finally {
      await client.bye();
    }
  });

  it('charge refused: the relay\'s status and reason come back, nothing is stored', async () => {
    const client = await open(alice, t, 'wine');
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    // A refund of a charge that does not exist: the relay refuses it.
    const refused = session.charge({ refundOf: 'no-such-charge', items: [{ sku: 'X', description: 'refund', unitPrice: -100 }] });
    await expect(refused).rejects.toMatchObject({ code: 'APPSERVER_ERR_CHARGE_REFUSED' });
    const error = (await refused.catch((e: unknown) => e)) as { status: number; reason: string };
    expect(error.status).toBeGreaterThanOrEqual(400);
    expect(error.reason).toMatch(/refundOf/);
    expect(session.receipts).toEqual([]);
    await client.bye();
  });

  it('end with charges: the charge is stored (receipt), then the app server\'s BYE ends the session', async () => {
    const client = await open(alice, t, 'wine');
    client.on('info', (info) => info.accept());
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    const gone = new Promise<void>((resolve) => client.on('terminated', () => resolve()));
    await session.end({ charges: [{ sku: 'IPA', description: 'IPA 33 cl', unitPrice: 450, quantity: 3 }], reason: 'checked out' });
    await gone;
    expect(session.receipts.map((r) => r.total)).toEqual([{ amount: 1350, currency: 'EUR' }]);
    expect(session.outcome).toEqual({ by: 'app', reason: 'checked out' });
  });

  it('final charges in the 2xx to the user\'s BYE', async () => {
    const client = await open(alice, t, 'wine');
    const session = sessions[sessions.length - 1];
    await until(() => session.state === 'started', 3000, 'ACK');
    session.on('ending', (e) => e.charge([{ sku: 'TIP', description: 'Tip', unitPrice: 200 }]));
    const r = await client.bye();
    expect(r.status).toBe(200);
    expect(JSON.parse(r.bodyText).items[0].sku).toBe('TIP');
    expect((await session.ended()).finalCharge?.items[0].unitPrice).toBe(200);
  });

  it('refuses INVITEs that bypass the relay: no token, or a token taken from a service URL and replayed', async () => {
    const session = await open(alice, t, 'wine');
    const urlToken = new URL(JSON.parse(session.inviteResponse!.bodyText).url as string).searchParams.get('token')!;
    await session.bye();
    const transport = new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }] });
    const mallory = new UserAgentCore({ transport, aor: 'sip:mallory@evil.test' });
    await transport.start();
    try {
      const target = t.relay.directory.lookup('wine').targets[0].uri.toString();
      const bare = await mallory.invite(target).finalResponse;
      expect([bare.status, bare.reason]).toEqual([403, 'Missing Relay Token']);
      const replay = await mallory.invite(target, { headers: [['Siprelay-Token', urlToken]] }).finalResponse;
      expect([replay.status, replay.reason]).toEqual([403, 'Relay Token Already Used']);
    } finally {
      await mallory.close();
    }
  });
});

describe('relay restart and re-registration', () => {
  it('the app server comes back by itself: a new INVITE reaches it through the restarted relay', async () => {
    const appServers = [{ name: 'wineshop', password: 'wineshop-secret', services: ['wine'] }];
    const services = [{ name: 'wine', description: 'Wine shop' }];
    const first = await startTestRelay({ config: { services }, appServers });
    const tcpPort = first.tcp.port;
    const httpPort = Number(new URL(first.httpUrl).port);
    const app = appServer(first, 'wineshop', { reconnect: { initialDelayMs: 100, maxDelayMs: 500 } });
    app.invite('wine', (req, res) => res.accept({ url: `http://localhost:8081/?token=${req.token}` }));
    await app.listen();
    let second: TestRelay | undefined;
    try {
      // A session that is live when the relay shuts down is ended by the relay, and the SDK says so.
      const before = await client(first);
      await open(before, first, 'wine');
      await until(() => app.sessions[0]?.state === 'started', 3000, 'ACK');
      const live = app.sessions[0];
      const lost = new Promise<string>((resolve) => app.once('disconnected', ({ reason }) => resolve(reason)));
      await first.stop();
      await before.close();
      expect(await live.ended()).toEqual({ by: 'relay', reason: 'shutdown' });
      expect(await lost).toMatch(/closed/);
      second = await startTestRelay({
        config: {
          services,
          listeners: [
            { transport: 'udp', host: '127.0.0.1', port: 0 },
            { transport: 'tcp', host: '127.0.0.1', port: tcpPort },
            { transport: 'ws', path: '/sip' },
          ],
          http: { host: '127.0.0.1', port: httpPort },
        },
        appServers,
      });
      await new Promise<void>((resolve) => app.once('ready', () => resolve()));
      expect(second.relay.directory.lookup('wine').targets).toHaveLength(1);
      // The restarted relay has a new signing key: the SDK fetches the JWKS again for its kid.
      const alice = await client(second);
      try {
        const session = await open(alice, second, 'wine');
        expect(session.inviteResponse!.status).toBe(200);
        await session.bye();
      } finally {
        await alice.close();
      }
    } finally {
      await app.close();
      await second?.stop();
    }
  });

  it('over UDP: keep-alive OPTIONS notice the relay is gone, and the services are registered again when it is back', async () => {
    const appServers = [{ name: 'wineshop', password: 'wineshop-secret', services: ['wine'] }];
    const services = [{ name: 'wine', description: 'Wine shop' }];
    const first = await startTestRelay({ config: { services }, appServers });
    const udpPort = first.udp.port;
    const httpPort = Number(new URL(first.httpUrl).port);
    const app = createAppServer({
      relay: `sip:${first.udp.host}:${udpPort}`,
      domain: first.domain,
      credentials: { username: 'wineshop', password: 'wineshop-secret' },
      jwksUrl: `${first.httpUrl}/.well-known/jwks.json`,
      keepAliveIntervalMs: 200,
      keepAliveTimeoutMs: 1500,
      reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
    });
    app.invite('wine', (req, res) => res.accept({ url: `http://localhost:8081/?token=${req.token}` }));
    await app.listen();
    let second: TestRelay | undefined;
    try {
      // A few keep-alives go by while the relay is up: it answers them.
      await new Promise((r) => setTimeout(r, 700));
      expect(app.connection.state).toBe('ready');
      const lost = new Promise<string>((resolve) => app.once('disconnected', ({ reason }) => resolve(reason)));
      await first.stop();
      expect(await lost).toMatch(/keep-alive OPTIONS failed/);
      second = await startTestRelay({
        config: {
          services,
          listeners: [
            { transport: 'udp', host: '127.0.0.1', port: udpPort },
            { transport: 'tcp', host: '127.0.0.1', port: 0 },
            { transport: 'ws', path: '/sip' },
          ],
          http: { host: '127.0.0.1', port: httpPort },
        },
        appServers,
      });
      await new Promise<void>((resolve) => app.once('ready', () => resolve()));
      expect(second.relay.directory.lookup('wine').targets).toHaveLength(1);
      const alice = await client(second);
      try {
        const session = await open(alice, second, 'wine');
        expect(session.inviteResponse!.status).toBe(200);
        await session.bye();
      } finally {
        await alice.close();
      }
    } finally {
      await app.close();
      await second?.stop();
    }
  });
});
