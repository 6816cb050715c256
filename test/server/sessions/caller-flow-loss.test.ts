import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import { WebSocketTransport } from '../../../sip/transport/websocket-transport.js';
import type { Session } from '../../../sip/ua/session.js';
import { UserAgentCore } from '../../../sip/ua/user-agent-core.js';
import { startTestRelay, type TestRelay } from '../../support/test-relay.js';

/**
 * A browser's WebSocket drops in the middle of a session. If it comes back
 * on a new connection and speaks in the dialog, the relay re-binds the
 * dialog to the new connection and the session carries on both ways; if it
 * does not come back within `sessions.flowLossGraceSeconds`, the session
 * is ended as `interrupted`, billed up to the moment the connection closed.
 */
describe('a caller whose connection drops', () => {
  let t: TestRelay;
  let appTransport: NodeTransport;
  let app: UserAgentCore;
  const appSessions: Session[] = [];

  async function browser(reconnect: boolean) {
    const transport = new WebSocketTransport({
      url: t.wsUrl,
      WebSocket: WebSocket as never,
      reconnect: reconnect ? { initialDelayMs: 50, maxDelayMs: 50, jitter: 0 } : false,
    });
    const core = new UserAgentCore({
      transport,
      aor: `sip:alice@${t.domain}`,
      credentials: { username: 'alice', password: 'alice-secret' },
      outboundProxy: `sip:${t.domain};transport=ws`,
      resolveTarget: () => transport.flow!,
    });
    await transport.connect();
    return { transport, core };
  }

  async function openSession(core: UserAgentCore) {
    const before = appSessions.length;
    const session = await core.invite(`sip:lesson@${t.domain}`).session;
    while (appSessions.length === before) await new Promise((r) => setTimeout(r, 10));
    // The session has started once the application server has the ACK.
    while (appSessions[appSessions.length - 1].awaitingAck) await new Promise((r) => setTimeout(r, 10));
    const dialog = t.relay.core.liveDialogs().find((d) => d.callId === session.dialog.callId)!;
    return { session, appSession: appSessions[appSessions.length - 1], dialog };
  }

  beforeAll(async () => {
    t = await startTestRelay({
      config: {
        services: [{ name: 'lesson', description: 'Lesson' }],
        sessions: { flowLossGraceSeconds: 1 },
      },
      appServers: [{ name: 'school', password: 'school-secret', services: ['lesson'] }],
    });
    appTransport = new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }] });
    app = new UserAgentCore({ transport: appTransport, aor: `sip:school@${t.domain}`, credentials: { username: 'school', password: 'school-secret' } });
    await appTransport.start();
    app.onInvite = (incoming) => {
      appSessions.push(incoming.accept({ body: '{"url":"http://localhost:9/lesson"}', contentType: 'application/vnd.siprelay.service+json' }));
    };
    const reg = app.register({ registrar: `sip:${t.tcp.host}:${t.tcp.port};transport=tcp`, aor: `sip:lesson@${t.domain}`, expires: 600 });
    await new Promise((resolve, reject) => {
      reg.on('registered', resolve);
      reg.on('failed', reject);
      void reg.register();
    });
  });

  afterAll(async () => {
    await app?.close();
    await appTransport?.close();
    await t?.stop();
  });

  it('carries on both ways once the caller speaks in the dialog over its new connection', async () => {
    const b = await browser(true);
    const { session, appSession, dialog } = await openSession(b.core);
    const oldFlow = dialog.callerFlowId;
    const reconnected = new Promise((r) => b.transport.on('connected', r));
    t.relay.transport.flowById(oldFlow)!.close();
    await reconnected;
    // The caller's first request over the new connection re-binds the dialog.
    const options = await session.sendRequest('OPTIONS');
    expect(options.status).toBe(200);
    expect(dialog.callerFlowId).not.toBe(oldFlow);
    // Requests toward the caller now go over the new connection.
    const info = new Promise<string>((resolve) => session.on('info', (req) => {
      resolve(req.request.bodyText);
      req.accept();
    }));
    const sent = await appSession.info({ body: 'hello again', contentType: 'text/plain', ignoreRecvInfo: true });
    expect(sent.status).toBe(200);
    expect(await info).toBe('hello again');
    // And the session still ends normally.
    const ended = new Promise((r) => session.on('terminated', r));
    expect((await appSession.bye()).status).toBe(200);
    await ended;
    const record = await t.store.sessions.get(dialog.sessionId);
    expect(record?.endedBy).toBe('callee');
    await b.core.close();
    await b.transport.close();
  });

  it('ends the session as interrupted, billed to the moment of the loss, when the caller does not come back', async () => {
    const b = await browser(false);
    const { appSession, dialog } = await openSession(b.core);
    const appEnded = new Promise<{ by: string }>((r) => appSession.on('terminated', r as never));
    const lostAt = Date.now();
    t.relay.transport.flowById(dialog.callerFlowId)!.close();
    const end = await appEnded;
    expect(end.by).toBe('remote');
    const endedAfterMs = Date.now() - lostAt;
    expect(endedAfterMs).toBeGreaterThanOrEqual(900);
    let record = await t.store.sessions.get(dialog.sessionId);
    for (let i = 0; i < 50 && record?.state !== 'ended'; i++) {
      await new Promise((r) => setTimeout(r, 20));
      record = await t.store.sessions.get(dialog.sessionId);
    }
    expect(record?.endedBy).toBe('interrupted');
    // Ended at the loss, not a grace period later.
    expect(Math.abs(record!.endedAt! - lostAt)).toBeLessThan(500);
    await b.core.close();
  });
});
