import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeTransport } from '../../sip/node/node-transport.js';
import { UserAgentCore } from '../../sip/ua/user-agent-core.js';
import { WebSocketTransport } from '../../sip/transport/websocket-transport.js';
import { WebSocket } from 'ws';
import { startTestRelay, type TestRelay } from '../support/test-relay.js';

/**
 * The assembled relay (server/relay.ts) end to end: a browser-like client
 * over WebSocket and an application server over TCP, both plain user-agent
 * cores, the relay in between with its real store, authenticator, registrar,
 * directory, routing, identity tokens and accounting.
 */
describe('the assembled relay', () => {
  let t: TestRelay;
  let appTransport: NodeTransport;
  let app: UserAgentCore;
  let browserTransport: WebSocketTransport;
  let browser: UserAgentCore;

  beforeAll(async () => {
    t = await startTestRelay({
      config: { services: [{ name: 'wine', description: 'Wine shop' }] },
      appServers: [{ name: 'wineshop', password: 'wineshop-secret', services: ['wine'] }],
    });
    appTransport = new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }] });
    app = new UserAgentCore({
      transport: appTransport,
      aor: `sip:wineshop@${t.domain}`,
      credentials: { username: 'wineshop', password: 'wineshop-secret' },
    });
    await appTransport.start();
    app.onInvite = (incoming) => {
      incoming.accept({
        body: JSON.stringify({ url: 'http://localhost:9/wine', token: incoming.request.header('siprelay-token') }),
        contentType: 'application/vnd.siprelay.service+json',
      });
    };
    browserTransport = new WebSocketTransport({ url: t.wsUrl, WebSocket: WebSocket as never, reconnect: false });
    browser = new UserAgentCore({
      transport: browserTransport,
      aor: `"Alice" <sip:alice@${t.domain}>`,
      credentials: { username: 'alice', password: 'alice-secret' },
      outboundProxy: `sip:${t.domain};transport=ws`,
      resolveTarget: () => browserTransport.flow!,
    });
    await browserTransport.connect();
  });

  afterAll(async () => {
    await browser?.close();
    await browserTransport?.close();
    await app?.close();
    await appTransport?.close();
    await t?.stop();
  });

  it('registers an application server for its service', async () => {
    const reg = app.register({
      registrar: `sip:${t.tcp.host}:${t.tcp.port};transport=tcp`,
      aor: `sip:wine@${t.domain}`,
      expires: 600,
    });
    const registered = await new Promise((resolve, reject) => {
      reg.on('registered', resolve);
      reg.on('failed', reject);
      void reg.register();
    });
    expect(registered).toBeTruthy();
    expect(t.relay.directory.lookup('wine').targets).toHaveLength(1);
  });

  it('registers a browser user over WebSocket and hands it a portal token', async () => {
    const reg = browser.register({ expires: 300 });
    const result = await new Promise<{ response: { header(n: string): string | undefined } }>((resolve, reject) => {
      reg.on('registered', resolve as never);
      reg.on('failed', reject);
      void reg.register();
    });
    expect(result.response.header('siprelay-user-token')).toMatch(/^ey/);
  });

  it('sets up a session through the relay and the app server gets an asserted identity', async () => {
    let seen: { pai?: string; token?: string; sessionId?: string } = {};
    app.onInvite = (incoming) => {
      seen = {
        pai: incoming.request.header('p-asserted-identity'),
        token: incoming.request.header('siprelay-token'),
        sessionId: incoming.request.header('session-id'),
      };
      incoming.accept({ body: JSON.stringify({ url: 'http://localhost:9/wine' }), contentType: 'application/vnd.siprelay.service+json' });
    };
    const call = browser.invite(`sip:wine@${t.domain}`, {
      body: JSON.stringify({ category: 'red' }),
      contentType: 'application/vnd.siprelay.request+json',
      headers: [['P-Asserted-Identity', '<sip:mallory@portal.test>']],
    });
    const session = await call.session;
    expect(JSON.parse(session.inviteResponse!.bodyText).url).toBe('http://localhost:9/wine');
    expect(seen.pai).toContain('sip:alice@portal.test');
    expect(seen.pai).not.toContain('mallory');
    expect(seen.token).toMatch(/^ey/);
    expect(seen.sessionId).toMatch(/^[0-9a-f]{32};remote=0{32}$/);
    await new Promise((r) => setTimeout(r, 200));
    const bye = await session.bye();
    expect(bye.status).toBe(200);
  });

  it('answers the last challenge again on the next INVITE, so the relay takes it without a 401', async () => {
    app.onInvite = (incoming) => {
      incoming.accept({ body: JSON.stringify({ url: 'http://localhost:9/wine' }), contentType: 'application/vnd.siprelay.service+json' });
    };
    const call = browser.invite(`sip:wine@${t.domain}`);
    // Credentials are on the very first INVITE sent (RFC 7616 §3.3, next nonce count).
    expect(call.template.header('authorization')).toMatch(/^Digest .*nc=0000000[2-9]/);
    const firstCSeq = call.template.cseq.seq;
    const session = await call.session;
    // No 401 came back: the INVITE was not resent with the next CSeq (§22.2).
    expect(call.template.cseq.seq).toBe(firstCSeq);
    expect((await session.bye()).status).toBe(200);
  });

  it('answers 404 for a service that does not exist', async () => {
    const call = browser.invite(`sip:nosuch@${t.domain}`);
    const response = await call.finalResponse;
    expect(response.status).toBe(404);
  });
});
