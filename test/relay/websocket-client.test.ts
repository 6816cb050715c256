/**
 * A browser-like client over WebSocket (our `WebSocketTransport` and
 * `UserAgentCore`, as the portal uses them) calling services whose
 * application servers are SIPp over UDP (issue 3, item 9). The relay sits
 * between two transports: it record-routes twice (RFC 5658) and reaches the
 * client only over its WebSocket.
 */
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserAgentCore } from '../../sip/ua/user-agent-core.js';
import { WebSocketTransport } from '../../sip/transport/websocket-transport.js';
import type { Session, SessionTermination } from '../../sip/ua/session.js';
import { startTestRelay, type TestRelay } from '../support/test-relay.js';
import { SIPP, SIPP_SKIP_REASON, SippPeer, freePort, received, sleep, type LoggedMessage } from './support/sipp-peer.js';

if (!SIPP && process.env.CI !== undefined) throw new Error(`SIPp relay tests cannot run in CI: ${SIPP_SKIP_REASON}`);
if (!SIPP) console.warn(`SIPp WebSocket relay tests skipped: ${SIPP_SKIP_REASON}`);
const suite = SIPP ? describe : describe.skip;
const title = 'a WebSocket client through the relay to SIPp application servers' + (SIPP ? '' : ` — SKIPPED: ${SIPP_SKIP_REASON}`);

const ROLES = {
  wine: 'relay-uas-answer',
  goodbye: 'relay-uas-hangs-up',
  change: 'relay-uas-in-dialog',
  slow: 'relay-uas-ringing',
} as const;
type Service = keyof typeof ROLES;

suite(title, () => {
  let t: TestRelay;
  const shops = {} as Record<Service, SippPeer>;
  let marks: Map<SippPeer, number>;

  beforeAll(async () => {
    const ports = {} as Record<Service, number>;
    for (const service of Object.keys(ROLES) as Service[]) {
      ports[service] = await freePort('UDP');
      shops[service] = await SippPeer.start({ scenario: ROLES[service], protocol: 'UDP', port: ports[service], service, autoAnswer: true });
    }
    t = await startTestRelay({
      config: {
        services: (Object.keys(ROLES) as Service[]).map((name) => ({ name })),
        staticTargets: (Object.keys(ROLES) as Service[]).map((s) => ({ service: s, uri: `sip:127.0.0.1:${ports[s]}`, appServer: `shop-${s}` })),
        directory: { probeRetryIntervalSeconds: 1 },
      },
    });
    await until(() => (Object.keys(ROLES) as Service[]).every((s) => t.relay.directory.lookup(s).targets.length === 1), 'shops up');
  });

  afterAll(async () => {
    for (const p of Object.values(shops)) {
      await p?.stop();
      p?.cleanup();
    }
    await t?.stop();
  });

  /** A browser: WebSocket to the relay, Alice's credentials, the relay as outbound proxy. */
  async function browser(password = 'alice-secret'): Promise<{ ua: UserAgentCore; transport: WebSocketTransport; close(): Promise<void> }> {
    const transport = new WebSocketTransport({ url: t.wsUrl, WebSocket: WebSocket as never, reconnect: false });
    const ua = new UserAgentCore({
      transport,
      aor: `"Alice" <sip:alice@${t.domain}>`,
      credentials: { username: 'alice', password },
      outboundProxy: `sip:${t.domain};transport=ws`,
      resolveTarget: () => transport.flow!,
    });
    await transport.connect();
    marks = new Map(Object.values(shops).map((p) => [p, p.messages().length]));
    return {
      ua,
      transport,
      async close() {
        await ua.close();
        await transport.close();
      },
    };
  }

  const seen = (p: SippPeer): LoggedMessage[] => p.since(marks.get(p) ?? 0);
  /** What an application server received since the test began, leaving out the relay's OPTIONS probes (they come on their own schedule). */
  const methods = (p: SippPeer) =>
    seen(p)
      .filter((m) => m.direction === 'received' && m.method !== 'OPTIONS')
      .map((m) => m.method ?? m.status);
  const ended = (s: Session) => new Promise<SessionTermination>((resolve) => s.on('terminated', resolve));

  it('calls a service: challenged, answered by SIPp over UDP, record-routed on both transports, ended by its BYE', async () => {
    const b = await browser();
    try {
      const call = b.ua.invite(`sip:wine@${t.domain}`, { body: '{"category":"red"}', contentType: 'application/vnd.siprelay.request+json' });
      const session = await call.session;
      expect(JSON.parse(session.inviteResponse!.bodyText)).toEqual({ url: 'http://127.0.0.1:9/wine' });
      const invite = received(seen(shops.wine), 'INVITE')[0];
      // RFC 5658: the UDP side on top for the application server, the WebSocket side below it.
      const rr = invite.headers('Record-Route');
      expect(rr).toHaveLength(2);
      expect(rr[0]).toMatch(new RegExp(`@127\\.0\\.0\\.1:${t.udp.port};transport=udp;lr>$`));
      expect(rr[1]).toMatch(/;transport=ws;lr>$/);
      expect(invite.header('P-Asserted-Identity')).toBe('"Alice" <sip:alice@portal.test>');
      expect(invite.text).toContain('{"category":"red"}');
      await sleep(100);
      expect((await session.bye()).status).toBe(200);
      await until(() => methods(shops.wine).includes('BYE'), 'BYE at the shop');
      expect(methods(shops.wine)).toEqual(['INVITE', 'ACK', 'BYE']);
    } finally {
      await b.close();
    }
  });

  it("receives the application server's BYE over its WebSocket", async () => {
    const b = await browser();
    try {
      const session = await b.ua.invite(`sip:goodbye@${t.domain}`).session;
      const termination = await ended(session);
      expect(termination).toMatchObject({ by: 'remote' });
      await until(() => seen(shops.goodbye).some((m) => m.status === 200 && m.cseqMethod === 'BYE'), '200 to the BYE');
    } finally {
      await b.close();
    }
  });

  it('sends re-INVITE, UPDATE and INFO through the relay and receives an INFO from the application server', async () => {
    const b = await browser();
    try {
      const session = await b.ua.invite(`sip:change@${t.domain}`, { body: '{}', contentType: 'application/vnd.siprelay.request+json' }).session;
      const infos: string[] = [];
      session.on('info', (info) => {
        infos.push(info.request.bodyText.trim());
        info.accept();
      });
      await sleep(100); // the relay relays the ACK once the session start is stored
      const reinvite = await session.reinvite({ body: '{"want":"beer"}', contentType: 'application/vnd.siprelay.request+json' });
      expect(reinvite.status).toBe(200);
      expect(JSON.parse(reinvite.bodyText)).toEqual({ url: 'http://127.0.0.1:9/beer' });
      expect((await session.update({ body: '{"want":"white"}', contentType: 'application/vnd.siprelay.request+json' })).status).toBe(200);
      expect((await session.info({ body: 'hello', contentType: 'text/plain' })).status).toBe(200);
      await until(() => infos.length === 1, 'INFO from the shop');
      expect(infos).toEqual(['from the shop']);
      expect((await session.bye()).status).toBe(200);
      expect(methods(shops.change)).toEqual(['INVITE', 'ACK', 'INVITE', 'ACK', 'UPDATE', 'INFO', 200, 'BYE']);
    } finally {
      await b.close();
    }
  });

  it('cancels a ringing application server: 487 for the client, CANCEL at the shop', async () => {
    const b = await browser();
    try {
      const call = b.ua.invite(`sip:slow@${t.domain}`);
      await new Promise<void>((resolve) => call.on('progress', (r) => r.status === 180 && resolve()));
      expect(call.cancel()).toBe(true);
      expect((await call.finalResponse).status).toBe(487);
      await until(() => methods(shops.slow).includes('ACK'), 'ACK of the 487');
      expect(methods(shops.slow)).toEqual(['INVITE', 'CANCEL', 'ACK']);
    } finally {
      await b.close();
    }
  });

  it('gets 401 again with a wrong password, and nothing reaches an application server', async () => {
    const b = await browser('not-alices-password');
    try {
      const response = await b.ua.invite(`sip:wine@${t.domain}`).finalResponse;
      expect(response.status).toBe(401);
      expect(methods(shops.wine)).toEqual([]);
    } finally {
      await b.close();
    }
  });

  it('answers the next INVITE preemptively: one 401 for the first session, none for the second (preemptiveAuth)', async () => {
    const b = await browser();
    // What the browser receives: status and CSeq method of each response.
    const responses: string[] = [];
    const transport = b.transport;
    const receive = transport.receive.bind(transport);
    transport.receive = (flow, data) => {
      const text = typeof data === 'string' ? data : Buffer.from(data).toString('latin1');
      const status = /^SIP\/2\.0 (\d{3})/.exec(text)?.[1];
      const method = /\r\nCSeq:\s*\d+\s+(\w+)/i.exec(text)?.[1];
      if (status) responses.push(`${status} ${method}`);
      receive(flow, data);
    };
    try {
      for (let i = 0; i < 2; i++) {
        const session = await b.ua.invite(`sip:wine@${t.domain}`, { body: '{}', contentType: 'application/vnd.siprelay.request+json' }).session;
        await sleep(100);
        expect((await session.bye()).status).toBe(200);
      }
      const invites = responses.filter((r) => r.endsWith(' INVITE') && !r.startsWith('1'));
      expect(invites).toEqual(['401 INVITE', '200 INVITE', '200 INVITE']);
    } finally {
      await b.close();
    }
  });

  it('counts challenges, authentications, signed tokens and durable accounting writes on GET /metrics', async () => {
    const value = (text: string, series: string) => Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    const read = async () => (await fetch(`${t.httpUrl}/metrics`)).text();
    const before = await read();
    const b = await browser();
    try {
      const session = await b.ua.invite(`sip:wine@${t.domain}`, { body: '{}', contentType: 'application/vnd.siprelay.request+json' }).session;
      await sleep(100);
      expect((await session.bye()).status).toBe(200);
    } finally {
      await b.close();
    }
    const after = await read();
    const grew = (series: string) => value(after, series) - value(before, series);
    expect(grew('siprelay_auth_outcomes_total{outcome="challenged"}')).toBe(1);
    expect(grew('siprelay_auth_outcomes_total{outcome="authenticated"}')).toBe(1);
    expect(grew('siprelay_tokens_signed_total')).toBe(1);
    // The session's attempt, answer, start and end.
    expect(grew('siprelay_accounting_write_seconds_count')).toBeGreaterThanOrEqual(4);
  });

  it('gets 404 for a service that does not exist', async () => {
    const b = await browser();
    try {
      expect((await b.ua.invite(`sip:nosuch@${t.domain}`).finalResponse).status).toBe(404);
    } finally {
      await b.close();
    }
  });
});

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}
