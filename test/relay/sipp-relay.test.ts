/**
 * The running relay with real peers (issue 3, item 9): SIPp as the client
 * and SIPp as application servers, over UDP and over TCP. The relay runs in
 * this process (`startTestRelay`: real transports on loopback, SQLite
 * store, accounting on); every SIPp is a child process. Most application
 * servers are static targets of the configuration; one logs in and
 * registers its service first.
 *
 * Each application server is one long-running SIPp (`-aa` answers the
 * relay's OPTIONS probes); each test runs a SIPp client to its end and then
 * reads what the application servers logged since the test began.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../server/store/session-repository.js';
import { startTestRelay, type TestRelay } from '../support/test-relay.js';
import {
  SIPP,
  SIPP_SKIP_REASON,
  SippPeer,
  freePort,
  inviteFinals,
  received,
  sleep,
  type LoggedMessage,
  type SippPeerOptions,
  type SippProtocol,
  type SippRun,
} from './support/sipp-peer.js';

if (!SIPP && process.env.CI !== undefined) throw new Error(`SIPp relay tests cannot run in CI: ${SIPP_SKIP_REASON}`);
if (!SIPP) console.warn(`SIPp relay tests skipped: ${SIPP_SKIP_REASON}`);
const suite = SIPP ? describe : describe.skip;
const title = 'the relay between SIPp peers' + (SIPP ? '' : ` — SKIPPED: ${SIPP_SKIP_REASON}`);

/** The SIPp application servers of each transport, by role. */
const ROLES = {
  /** Answers; serves wine, and is the winner of `race` and one of the two of `nocancel` and `both`. */
  shopA: { scenario: 'relay-uas-answer', service: 'wine' },
  /** Answers 300 ms after ringing; the other one of `nocancel` and `both` (see the scenario for why later). */
  shopB: { scenario: 'relay-uas-answer-late', service: 'wine2' },
  /** Rings until cancelled: the client's CANCEL target and the loser of `race`. */
  ringing: { scenario: 'relay-uas-ringing', service: 'slow' },
  busy: { scenario: 'relay-uas-reject', service: 'busy' },
  unavailable: { scenario: 'relay-uas-unavailable', service: 'unavailable' },
  hangsUp: { scenario: 'relay-uas-hangs-up', service: 'goodbye' },
  inDialog: { scenario: 'relay-uas-in-dialog', service: 'change' },
  identity: { scenario: 'relay-uas-check-identity', service: 'checked' },
} as const;
type Role = keyof typeof ROLES;

/** Services and the roles that serve them (static targets). */
const SERVICES: Array<{ name: string; fork?: 'race' | 'all' | 'balance'; allowNoCancel?: boolean; roles: Role[] }> = [
  { name: 'wine', roles: ['shopA'] },
  { name: 'slow', roles: ['ringing'] },
  { name: 'busy', roles: ['busy'] },
  { name: 'unavailable', roles: ['unavailable'] },
  { name: 'goodbye', roles: ['hangsUp'] },
  { name: 'change', roles: ['inDialog'] },
  { name: 'checked', roles: ['identity'] },
  { name: 'race', fork: 'race', roles: ['shopA', 'ringing'] },
  { name: 'nocancel', fork: 'race', allowNoCancel: true, roles: ['shopA', 'shopB'] },
  { name: 'both', fork: 'all', roles: ['shopA', 'shopB'] },
];

const ALICE: [string, string] = ['alice', 'alice-secret'];

suite(title, () => {
  describe.each(['UDP', 'TCP'] as const)('over %s', (protocol: SippProtocol) => {
    let t: TestRelay;
    const peers = {} as Record<Role, SippPeer>;
    let registered: SippPeer;
    /** Message counts of every application server when the test began. */
    let marks: Map<SippPeer, number>;
    let errorMarks: Map<SippPeer, number>;
    const transport = protocol.toLowerCase();

    beforeAll(async () => {
      const ports = {} as Record<Role, number>;
      for (const role of Object.keys(ROLES) as Role[]) {
        ports[role] = await freePort(protocol);
        peers[role] = await SippPeer.start({ ...ROLES[role], protocol, port: ports[role], autoAnswer: true });
      }
      t = await startTestRelay({
        users: [ALICE, ['bob', 'bob-secret'], ['carol', 'carol-secret']],
        appServers: [{ name: 'cellar', password: 'cellar-secret', services: ['cellar'] }],
        config: {
          services: [
            ...SERVICES.map(({ roles: _roles, ...s }) => s),
            { name: 'cellar', description: 'registers itself' },
            { name: 'empty', description: 'no application server at all' },
          ],
          staticTargets: SERVICES.flatMap((s) =>
            s.roles.map((role) => ({ service: s.name, uri: `sip:127.0.0.1:${ports[role]};transport=${transport}`, appServer: `shop-${role}` })),
          ),
          directory: { probeRetryIntervalSeconds: 1 },
          auth: { throttle: { perUserAndAddress: { slowAfter: 2, slowDelayMs: 50, blockAfter: 3, blockSeconds: 60 } } },
        },
      });
      // The application server that logs in and registers its service (over UDP or TCP);
      // requests for it arrive out of its REGISTER call and are answered by relay-uas-answer.
      registered = await SippPeer.start({
        scenario: 'relay-appserver-register',
        port: await freePort(protocol),
        outOfCallScenario: 'relay-uas-answer',
        protocol,
        remote: relayAddress(),
        service: 'cellar',
        inject: [['cellar', t.domain, 'cellar-secret']],
        pauseMs: 600_000,
        timeoutS: 0,
      });
      await until(() => SERVICES.every((s) => t.relay.directory.lookup(s.name).targets.length === s.roles.length), 'static targets up');
      await until(() => t.relay.directory.lookup('cellar').targets.length === 1, 'cellar registered');
    });

    afterAll(async () => {
      for (const p of [...Object.values(peers), registered]) {
        if (!p) continue;
        await p.stop();
        p.cleanup();
      }
      await t?.stop();
    });

    beforeEach(() => {
      marks = new Map([...Object.values(peers), registered].map((p) => [p, p.messages().length]));
      errorMarks = new Map([...Object.values(peers), registered].map((p) => [p, p.errors().length]));
    });

    afterEach(() => {
      // No application server may have seen an unexpected message or failed a check.
      for (const p of [...Object.values(peers), registered]) {
        const errors = p.errors().slice(errorMarks.get(p) ?? 0);
        expect(errors, p.describe(marks.get(p))).toEqual([]);
      }
    });

    function relayAddress(): { host: string; port: number } {
      return protocol === 'UDP' ? t.udp : t.tcp;
    }

    /** What an application server logged since the test began. */
    /** What an application server logged since the test began, without the relay's OPTIONS probes (they come on their own schedule). */
    function seen(p: SippPeer): LoggedMessage[] {
      return p.since(marks.get(p) ?? 0).filter((m) => m.cseqMethod !== 'OPTIONS');
    }

    function client(scenario: string, service: string, user: [string, string] = ALICE, more: Partial<SippPeerOptions> = {}): Promise<SippRun> {
      return SippPeer.run({
        scenario,
        protocol,
        remote: relayAddress(),
        service,
        inject: [[user[0], t.domain, user[1]]],
        keys: { extra: 'Subject: siprelay relay test', disposition: 'Subject: no disposition' },
        // Hold each call 50 ms: the relay relays an ACK once the session start is stored, and a
        // BYE sent at once could overtake it (the application servers accept that too).
        pauseMs: 50,
        ...more,
      });
    }

    async function sessionsOf(callId: string): Promise<SessionRecord[]> {
      await t.relay.accounting.recorder.flush();
      return (await t.store.sessions.list({ limit: 1000 })).filter((s) => s.callId === callId);
    }

    function callIdOf(run: SippRun): string {
      const invite = run.messages.find((m) => m.method === 'INVITE');
      if (!invite) throw new Error(`no INVITE sent\n${run.report}`);
      return invite.header('Call-ID') as string;
    }

    describe('authentication', () => {
      it('challenges the first INVITE (MD5 first, then SHA-256) and relays the authenticated one to the service (static target)', async () => {
        const run = await client('relay-uac-call', 'wine');
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 200]);
        const challenge = run.messages.find((m) => m.status === 401)!;
        const offers = challenge.headers('WWW-Authenticate');
        // MD5 first (JsSIP and SIP.js read only the first), SHA-256 offered too (docs/authentication.md).
        const algorithms = offers.map((h) => /algorithm=([^,\s]+)/.exec(h)?.[1]);
        expect(algorithms[0]).toBe('MD5');
        expect(algorithms).toContain('SHA-256');
        expect(offers[0]).toMatch(/realm="portal\.test"/);
        expect(offers[0]).toMatch(/qop="auth"/);
        // The session went through the relay: it record-routed, and ACK and BYE came back through it.
        const ok = run.messages.find((m) => m.status === 200 && m.cseqMethod === 'INVITE')!;
        expect(ok.header('Record-Route')).toMatch(new RegExp(`@127\\.0\\.0\\.1:${relayAddress().port};transport=${transport};lr>`));
        const app = seen(peers.shopA);
        expect(app.filter((m) => m.direction === 'received').map((m) => m.method)).toEqual(['INVITE', 'ACK', 'BYE']);
        expect(received(app, 'INVITE')[0].header('P-Asserted-Identity')).toBe('"Alice" <sip:alice@portal.test>');
        expect(received(app, 'INVITE')[0].header('Authorization')).toBeUndefined();
        // Accounting recorded the session, ended by the caller.
        const [session] = await sessionsOf(callIdOf(run));
        expect(session).toMatchObject({ state: 'ended', service: 'wine', appServer: 'shop-shopA', endedBy: 'caller' });
      });

      it('relays a call to an application server that registered its service, over the flow it registered on', async () => {
        const run = await client('relay-uac-call', 'cellar');
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 200]);
        const app = seen(registered);
        expect(app.filter((m) => m.direction === 'received').map((m) => m.method)).toEqual(['INVITE', 'ACK', 'BYE']);
        // The Request-URI is the Contact it registered.
        expect(received(app, 'INVITE')[0].startLine).toBe(`INVITE sip:cellar@127.0.0.1:${registered.port};transport=${protocol} SIP/2.0`);
        const [session] = await sessionsOf(callIdOf(run));
        expect(session).toMatchObject({ state: 'ended', service: 'cellar', appServer: 'cellar' });
      });

      it('challenges again after a wrong password, and nothing reaches the application server', async () => {
        const run = await client('relay-uac-rejected', 'wine', ['bob', 'not-bobs-password']);
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 401]);
        expect(seen(peers.shopA)).toEqual([]);
      });

      it('answers an unknown user exactly as a wrong password', async () => {
        const wrong = await client('relay-uac-rejected', 'wine', ['bob', 'still-not-bobs-password']);
        const unknown = await client('relay-uac-rejected', 'wine', ['nosuchuser', 'whatever']);
        expect(inviteFinals(unknown.messages)).toEqual([401, 401]);
        const last = (r: SippRun) => r.messages.filter((m) => m.status === 401).at(-1)!;
        expect(shape(last(unknown))).toEqual(shape(last(wrong)));
      });

      it('refuses with 403 and Retry-After after repeated failures of one user from one address, and still lets that user in from elsewhere', async () => {
        const finals: number[] = [];
        for (let i = 0; i < 3; i++) {
          const run = await client('relay-uac-rejected', 'wine', ['carol', `guess-${i}`]);
          expect(run.code, run.report).toBe(0);
          finals.push(inviteFinals(run.messages).at(-1)!);
        }
        // blockAfter 3: the third failure is answered 403 already.
        expect(finals).toEqual([401, 401, 403]);
        const blocked = await client('relay-uac-rejected', 'wine', ['carol', 'carol-secret']);
        const refusal = blocked.messages.filter((m) => m.status === 403).at(-1);
        expect(refusal?.startLine).toBe('SIP/2.0 403 Too Many Failed Authentications');
        expect(Number(refusal?.header('Retry-After'))).toBeGreaterThan(0);
        // Carol from another address (127.0.0.2) is not locked out by the guesses from 127.0.0.1.
        const elsewhere = await client('relay-uac-call', 'wine', ['carol', 'carol-secret'], { localIp: '127.0.0.2' });
        expect(elsewhere.code, elsewhere.report).toBe(0);
        expect(inviteFinals(elsewhere.messages)).toEqual([401, 200]);
      });
    });

    describe('routing and answers', () => {
      it('answers 404 for a service that does not exist (after authentication)', async () => {
        const run = await client('relay-uac-rejected', 'nosuch');
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 404]);
      });

      it('answers 480 with Retry-After for a service without any application server', async () => {
        const run = await client('relay-uac-rejected', 'empty');
        expect(inviteFinals(run.messages)).toEqual([401, 480]);
        expect(run.messages.find((m) => m.status === 480)?.header('Retry-After')).toMatch(/^\d+$/);
      });

      it("relays an application server's 486 to the client unchanged", async () => {
        const run = await client('relay-uac-rejected', 'busy');
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 486]);
        const busy = run.messages.find((m) => m.status === 486)!;
        expect(busy.startLine).toBe('SIP/2.0 486 Busy Here');
        expect(busy.header('Warning')).toBe('399 wine.example "closed for the night"');
        // The relay ACKed the 486 itself (hop by hop).
        await until(() => received(seen(peers.busy), 'ACK').length === 1, 'ACK of the 486');
        const [session] = await sessionsOf(callIdOf(run));
        expect(session).toMatchObject({ state: 'failed', sipStatus: 486 });
      });

      it("relays an application server's 503 to the client unchanged, with its Retry-After (docs/proxy.md, best response)", async () => {
        const run = await client('relay-uac-rejected', 'unavailable');
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 503]);
        const error = run.messages.find((m) => m.status === 503)!;
        expect(error.startLine).toBe('SIP/2.0 503 Service Unavailable');
        expect(error.header('Retry-After')).toBe('120');
        await until(() => received(seen(peers.unavailable), 'ACK').length === 1, 'ACK of the 503');
      });
    });

    describe('sessions', () => {
      it('cancels the ringing application server when the client sends CANCEL before the answer', async () => {
        const run = await client('relay-uac-cancel', 'slow');
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 487]);
        await until(() => received(seen(peers.ringing), 'ACK').length === 1, 'ACK of the 487');
        const app = seen(peers.ringing);
        expect(app.filter((m) => m.direction === 'received').map((m) => m.method)).toEqual(['INVITE', 'CANCEL', 'ACK']);
        const [session] = await sessionsOf(callIdOf(run));
        expect(session.state).toBe('cancelled');
      });

      it('ends the session when the application server sends BYE, and the client gets it through the relay', async () => {
        const run = await client('relay-uac-callee-hangs-up', 'goodbye');
        expect(run.code, run.report).toBe(0);
        const bye = received(run.messages, 'BYE')[0];
        expect(bye.header('Via')).toMatch(new RegExp(`^SIP/2\\.0/${protocol} 127\\.0\\.0\\.1:${relayAddress().port};branch=z9hG4bKsr`));
        await until(() => seen(peers.hangsUp).some((m) => m.direction === 'received' && m.status === 200 && m.cseqMethod === 'BYE'), '200 to BYE');
        const [session] = await sessionsOf(callIdOf(run));
        expect(session).toMatchObject({ state: 'ended', endedBy: 'callee' });
      });

      it('passes re-INVITE, UPDATE and INFO through the dialog both ways, and records the changes', async () => {
        const run = await client('relay-uac-in-dialog', 'change');
        expect(run.code, run.report).toBe(0);
        const app = seen(peers.inDialog);
        expect(app.filter((m) => m.direction === 'received').map((m) => m.method ?? m.status)).toEqual([
          'INVITE', 'ACK', 'INVITE', 'ACK', 'UPDATE', 'INFO', 200, 'BYE',
        ]);
        expect(received(app, 'INVITE')[1].text).toContain('{"want":"beer"}');
        expect(received(app, 'UPDATE')[0].text).toContain('{"want":"white"}');
        expect(received(run.messages, 'INFO')[0].text).toContain('from the shop');
        const [session] = await sessionsOf(callIdOf(run));
        expect(session.state).toBe('ended');
        const segments = await t.store.sessions.segments(session.id);
        // One segment per change after the first: the re-INVITE's and the UPDATE's service details.
        expect(segments.slice(1).map((s) => s.details)).toEqual([
          { method: 'INVITE', by: 'caller', contentType: 'application/vnd.siprelay.request+json', details: { want: 'beer' } },
          { method: 'UPDATE', by: 'caller', contentType: 'application/vnd.siprelay.request+json', details: { want: 'white' } },
        ]);
      });

      it("strips the identity a client claims and asserts the relay's (the application server checks it with ereg)", async () => {
        const run = await client('relay-uac-spoof-identity', 'checked');
        // A failed check_it fails the application server's call: no 200 would come.
        expect(run.code, run.report).toBe(0);
        const invite = received(seen(peers.identity), 'INVITE')[0];
        expect(invite.headers('Siprelay-Token')).toHaveLength(1);
        expect(invite.headers('P-Preferred-Identity')).toEqual([]);
        expect(invite.headers('Remote-Party-ID')).toEqual([]);
        expect(invite.headers('Identity')).toEqual([]);
      });
    });

    describe('forking', () => {
      it('race: relays the first 2xx and CANCELs the application server still ringing', async () => {
        const run = await client('relay-uac-call', 'race');
        expect(run.code, run.report).toBe(0);
        expect(inviteFinals(run.messages)).toEqual([401, 200]);
        await until(() => received(seen(peers.ringing), 'ACK').length === 1, 'the loser ACKed');
        const loser = seen(peers.ringing);
        expect(loser.filter((m) => m.direction === 'received').map((m) => m.method)).toEqual(['INVITE', 'CANCEL', 'ACK']);
        expect(received(loser, 'CANCEL')[0].header('Reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
        expect(received(seen(peers.shopA), 'BYE')).toHaveLength(1);
        const sessions = await sessionsOf(callIdOf(run));
        expect(sessions.map((s) => s.state).sort()).toEqual(['cancelled', 'ended']);
      });

      it('Request-Disposition: no-cancel on a service that allows it: both 2xx relayed, both ACKed, both ended by BYE', async () => {
        const run = await client('relay-uac-two-answers', 'nocancel', ALICE, { keys: { disposition: 'Request-Disposition: no-cancel' } });
        expectTwoSessions(run);
        expect(new Set((await sessionsOf(callIdOf(run))).map((s) => `${s.appServer} ${s.state}`))).toEqual(
          new Set(['shop-shopA ended', 'shop-shopB ended']),
        );
      });

      it('fork: all: both 2xx relayed, both ACKed, both ended by BYE', async () => {
        const run = await client('relay-uac-two-answers', 'both');
        expectTwoSessions(run);
        expect(await sessionsOf(callIdOf(run))).toHaveLength(2);
      });

      function expectTwoSessions(run: SippRun): void {
        expect(run.code, run.report).toBe(0);
        const oks = run.messages.filter((m) => m.direction === 'received' && m.status === 200 && m.cseqMethod === 'INVITE');
        expect(new Set(oks.map((m) => /tag=([^;>\s]+)/.exec(m.header('To') ?? '')?.[1])).size).toBe(2);
        for (const shop of [peers.shopA, peers.shopB]) {
          const app = seen(shop);
          expect(app.filter((m) => m.direction === 'received').map((m) => m.method), shop.describe(marks.get(shop))).toEqual(['INVITE', 'ACK', 'BYE']);
          expect(app.filter((m) => m.direction === 'sent').map((m) => m.status)).toEqual([180, 200, 200]);
        }
      }
    });
  });
});

/** What must not tell an unknown user from a wrong password: status, header names, challenge parameters but the nonce. */
function shape(m: LoggedMessage): unknown {
  const lines = m.text.split(/\r?\n/).slice(1).filter((l) => l.includes(':'));
  return {
    startLine: m.startLine,
    names: lines.map((l) => l.slice(0, l.indexOf(':')).trim().toLowerCase()),
    challenges: m.headers('WWW-Authenticate').map((h) => h.replace(/nonce="[^"]*"/, 'nonce="…"')),
    length: m.header('Content-Length'),
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(25);
  }
}
