import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { Session } from '../../../sip/ua/session.js';
import { UserAgentCore } from '../../../sip/ua/user-agent-core.js';
import { startTestRelay, type TestRelay } from '../../support/test-relay.js';

/**
 * Flow 8 with Replaces (RFC 3891): a user moves from the wine shop to the
 * lesson, a different application server that knows nothing of the wine
 * dialog. The relay keeps the Replaces header to itself (the lesson would
 * answer 481), links the new session to the old one, and once the new one
 * has started ends the old one with BYE to both sides, recorded as ended by
 * its caller.
 */
describe('an INVITE with Replaces toward another application server', () => {
  let t: TestRelay;
  const apps: Array<{ transport: NodeTransport; core: UserAgentCore; sessions: Session[]; invites: SipRequest[] }> = [];
  let userTransport: NodeTransport;
  let user: UserAgentCore;

  async function appServer(name: string, service: string) {
    const transport = new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }] });
    const core = new UserAgentCore({ transport, aor: `sip:${name}@${t.domain}`, credentials: { username: name, password: `${name}-secret` } });
    await transport.start();
    const app = { transport, core, sessions: [] as Session[], invites: [] as SipRequest[] };
    core.onInvite = (incoming) => {
      app.invites.push(incoming.request);
      app.sessions.push(incoming.accept({ body: `{"url":"http://localhost:9/${service}"}`, contentType: 'application/vnd.siprelay.service+json' }));
    };
    const reg = core.register({ registrar: `sip:${t.tcp.host}:${t.tcp.port};transport=tcp`, aor: `sip:${service}@${t.domain}`, expires: 600 });
    await new Promise((resolve, reject) => {
      reg.on('registered', resolve);
      reg.on('failed', reject);
      void reg.register();
    });
    apps.push(app);
    return app;
  }

  async function until(check: () => boolean | Promise<boolean>) {
    for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  }

  beforeAll(async () => {
    t = await startTestRelay({
      config: { services: [{ name: 'wine' }, { name: 'lesson' }] },
      appServers: [
        { name: 'wineshop', password: 'wineshop-secret', services: ['wine'] },
        { name: 'school', password: 'school-secret', services: ['lesson'] },
      ],
    });
    userTransport = new NodeTransport({ listeners: [{ protocol: 'TCP', host: '127.0.0.1', port: 0 }] });
    user = new UserAgentCore({
      transport: userTransport,
      aor: `sip:alice@${t.domain}`,
      credentials: { username: 'alice', password: 'alice-secret' },
      outboundProxy: `sip:${t.tcp.host}:${t.tcp.port};transport=tcp`,
    });
    await userTransport.start();
  });

  afterAll(async () => {
    await user?.close();
    await userTransport?.close();
    for (const a of apps) {
      await a.core.close();
      await a.transport.close();
    }
    await t?.stop();
  });

  it('reaches the new application server without the header, then ends the replaced session on both sides', async () => {
    const wine = await appServer('wineshop', 'wine');
    const lesson = await appServer('school', 'lesson');
    const old = await user.invite(`sip:wine@${t.domain}`).session;
    await until(() => wine.sessions.length === 1 && !wine.sessions[0].awaitingAck);
    const oldId = t.relay.core.liveDialogs().find((d) => d.callId === old.dialog.callId)!.sessionId;
    const oldUserEnded = new Promise<{ by: string; message?: SipRequest }>((r) => old.on('terminated', r as never));
    const oldAppEnded = new Promise<{ by: string; message?: SipRequest }>((r) => wine.sessions[0].on('terminated', r as never));

    const moved = await user.invite(`sip:lesson@${t.domain}`, {
      replaces: { callId: old.dialog.callId, toTag: old.dialog.remoteTag, fromTag: old.dialog.localTag, earlyOnly: false },
    }).session;
    expect(lesson.invites).toHaveLength(1);
    expect(lesson.invites[0].hasHeader('replaces')).toBe(false);

    // Both sides of the old session get the relay's BYE, saying why.
    const [userEnd, appEnd] = await Promise.all([oldUserEnded, oldAppEnded]);
    expect(userEnd.by).toBe('remote');
    expect(appEnd.by).toBe('remote');
    expect(appEnd.message?.header('reason')).toMatch(/^SIP;cause=200;text="replaced: replaced by session [0-9a-f]{32}"$/);
    expect(moved.state).toBe('confirmed');

    let oldRecord = await t.store.sessions.get(oldId);
    await until(async () => (oldRecord = await t.store.sessions.get(oldId))?.state === 'ended');
    expect(oldRecord).toMatchObject({ endedBy: 'caller' });
    expect(oldRecord!.endReason).toContain('replaced by session');
    const newId = t.relay.core.liveDialogs().find((d) => d.callId === moved.dialog.callId)!.sessionId;
    expect((await t.store.sessions.get(newId))?.linkedFrom).toBe(oldId);
    expect((await moved.bye()).status).toBe(200);
  });
});
