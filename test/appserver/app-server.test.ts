import { describe, expect, it } from 'vitest';
import type { InviteHandler } from '../../appserver/app-server.js';
import type { AppSession } from '../../appserver/app-session.js';
import { isAppServerError } from '../../appserver/app-server-error.js';
import type { ServiceRequest } from '../../appserver/service-request.js';
import { parseMultipart } from '../../sip/message/multipart.js';
import { utf8Decode } from '../../sip/util/bytes.js';
import { appFor, fakeRelay, token, until } from './support/app-harness.js';
import { makeKey, newSid, signToken } from './support/relay-keys.js';

const REQUEST_JSON = 'application/vnd.siprelay.request+json';
const SERVICE_JSON = 'application/vnd.siprelay.service+json';

describe('createAppServer', () => {
  describe('listen()', () => {
    it('logs in with digest and registers each service as sip:<service>@<domain> with its own Contact', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      app.invite('wine', (_req, res) => res.reject(486));
      app.invite('beer', (_req, res) => res.reject(486));
      const ready: string[][] = [];
      app.on('ready', ({ services }) => ready.push([...services]));
      await app.listen();
      expect(app.state).toBe('listening');
      expect(ready).toEqual([['wine', 'beer']]);
      const wineRegisters = relay.registers.filter((r) => r.to.uri.toString() === 'sip:wine@portal.test');
      expect(wineRegisters[0].header('authorization')).toBeUndefined();
      expect(wineRegisters[1].header('authorization')).toMatch(/^Digest .*username="wineshop"/);
      expect(wineRegisters[1].from.uri.toString()).toBe('sip:wineshop@portal.test');
      expect(wineRegisters[1].uri.toString()).toBe('sip:portal.test');
      const local = app.connection.localAddress()!;
      expect(relay.bindings.get('wine@portal.test')).toBe(`sip:wineshop@127.0.0.1:${local.port};transport=tcp`);
      expect(relay.bindings.get('beer@portal.test')).toBe(`sip:wineshop@127.0.0.1:${local.port};transport=tcp`);
    });

    it('rejects with APPSERVER_ERR_REGISTRATION_REFUSED for a wrong password, and closes', async () => {
      const relay = await fakeRelay({ accounts: { wineshop: 'another-password' } });
      const app = await appFor(relay);
      app.invite('wine', (_req, res) => res.reject(486));
      await expect(app.listen()).rejects.toMatchObject({ code: 'APPSERVER_ERR_REGISTRATION_REFUSED', status: 401 });
      expect(app.state).toBe('closed');
    });

    it('rejects with APPSERVER_ERR_REGISTRATION_REFUSED for a service the account may not provide', async () => {
      const relay = await fakeRelay({ allowed: { wineshop: ['wine'] } });
      const app = await appFor(relay);
      app.invite('wine', (_req, res) => res.reject(486));
      app.invite('lesson', (_req, res) => res.reject(486));
      const refused: unknown[] = [];
      app.on('refused', (e) => refused.push(e));
      await expect(app.listen()).rejects.toMatchObject({ code: 'APPSERVER_ERR_REGISTRATION_REFUSED', status: 403 });
      expect(refused).toEqual([{ service: 'lesson', status: 403, reason: 'Not a Service of This Application Server' }]);
    });

    it('keeps trying while the relay is not up yet, and gives up after startTimeoutMs', async () => {
      const relay = await fakeRelay();
      const port = relay.port('TCP');
      const address = relay.address('TCP');
      await relay.close();
      const app = await appFor(relay, 'TCP', { relay: address, startTimeoutMs: 600, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
      app.invite('wine', (_req, res) => res.reject(486));
      const started = Date.now();
      await expect(app.listen()).rejects.toMatchObject({ code: 'APPSERVER_ERR_RELAY_UNREACHABLE' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(550);
      expect(port).toBeGreaterThan(0);
    });

    it('comes up once a late relay starts', async () => {
      const first = await fakeRelay();
      const tcpPort = first.port('TCP');
      const address = first.address('TCP');
      await first.close();
      const app = await appFor(first, 'TCP', { relay: address, reconnect: { initialDelayMs: 50, maxDelayMs: 100 } });
      app.invite('wine', (_req, res) => res.reject(486));
      const listening = app.listen();
      await new Promise((r) => setTimeout(r, 200));
      const late = await fakeRelay({ tcpPort });
      await listening;
      expect(late.bindings.has('wine@portal.test')).toBe(true);
    });

    it('answers the relay\'s OPTIONS probes with 200', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      app.invite('wine', (_req, res) => res.reject(486));
      await app.listen();
      const contact = relay.bindings.get('wine@portal.test')!;
      const response = await relay.core.request('OPTIONS', contact);
      expect(response.status).toBe(200);
      expect(app.connection.probesFromRelay).toBe(1);
    });

    it('refuses to declare a service after listen(), or twice, or with a bad name', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      app.invite('wine', (_req, res) => res.reject(486));
      expect(() => app.invite('wine', (_req, res) => res.reject(486))).toThrow(TypeError);
      expect(() => app.invite('no spaces', (_req, res) => res.reject(486))).toThrow(TypeError);
      expect(() => app.invite('beer', { whenFull: 500 as 486 }, (_req, res) => res.reject(486))).toThrow(TypeError);
      await app.listen();
      expect(() => app.invite('beer', (_req, res) => res.reject(486))).toThrow(TypeError);
    });
  });

  describe('construction', () => {
    it('throws TypeError naming a bad option', async () => {
      const relay = await fakeRelay();
      await expect(appFor(relay, 'TCP', { relay: 'http://nope' })).rejects.toThrow(/relay/);
      await expect(appFor(relay, 'TCP', { credentials: { username: '', password: 'x' } })).rejects.toThrow(/credentials/);
      await expect(appFor(relay, 'TCP', { domain: 'bad domain' })).rejects.toThrow(/domain/);
      await expect(appFor(relay, 'TCP', { jwks: undefined })).rejects.toThrow(/jwksUrl/);
      await expect(appFor(relay, 'TCP', { sdpAnswer: 'sometimes' as 'auto' })).rejects.toThrow(/sdpAnswer/);
      await expect(appFor(relay, 'TCP', { defaultCurrency: 'euro' })).rejects.toThrow(/defaultCurrency/);
    });
  });

  describe('app.invite() handlers', () => {
    async function listening(service = 'wine', handler?: InviteHandler) {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      const seen: ServiceRequest[] = [];
      app.invite(
        service,
        handler ??
          ((req, res) => {
            seen.push(req);
            res.accept({ url: `http://localhost:8081/?token=${req.token}`, title: 'The Wine Cellar' });
          }),
      );
      await app.listen();
      return { relay, app, seen };
    }

    it('accepts: the handler sees the verified user, service, session id, facts, details and token; the 2xx carries the descriptor', async () => {
      const { relay, app, seen } = await listening();
      const sid = newSid();
      const jwt = await token({ sid, name: 'Alice A.', facts: { plan: 'gold' } });
      const sessions: AppSession[] = [];
      app.on('session', (s) => sessions.push(s));
      const session = await relay.session('wine', { token: jwt, details: { category: 'red' } });
      const req = seen[0];
      expect(req.user).toEqual({ aor: 'sip:alice@portal.test', username: 'alice', domain: 'portal.test', displayName: 'Alice A.' });
      expect(req.service).toBe('wine');
      expect(req.sessionId).toBe(sid);
      expect(req.facts).toEqual({ plan: 'gold' });
      expect(req.details).toEqual({ category: 'red' });
      expect(req.token).toBe(jwt);
      expect(req.forkGroup).toBe('fork-1');
      const ok = session.inviteResponse!;
      expect(ok.status).toBe(200);
      expect(ok.contentType).toBe(SERVICE_JSON);
      expect(JSON.parse(ok.bodyText)).toEqual({ url: `http://localhost:8081/?token=${jwt}`, title: 'The Wine Cellar' });
      expect(sessions.map((s) => s.id)).toEqual([sid]);
      expect(app.session(sid)).toBe(sessions[0]);
      await until(() => sessions[0].state === 'started', 2000, 'ACK');
      expect(sessions[0].startedAt).toBeGreaterThan(0);
    });

    it('takes the user from the token, never from P-Asserted-Identity', async () => {
      const { relay, seen } = await listening();
      await relay.session('wine', { token: await token({ sub: 'sip:bob@portal.test' }), headers: [['X-Ignored', '1']] });
      expect(seen[0].user.aor).toBe('sip:bob@portal.test');
      expect(seen[0].user.displayName).toBeUndefined();
    });

    it('reads the details from the JSON part of multipart/mixed', async () => {
      const { relay, seen } = await listening();
      await relay.session('wine', {
        token: await token(),
        multipart: [
          { contentType: 'text/plain', body: 'hello' },
          { contentType: REQUEST_JSON, body: '{"category":"white"}' },
        ],
      });
      expect(seen[0].details).toEqual({ category: 'white' });
    });

    it('gives {} for an INVITE without details, and refuses malformed ones with 400', async () => {
      const { relay, seen } = await listening();
      await relay.session('wine', { token: await token() });
      expect(seen[0].details).toEqual({});
      const call = relay.invite('wine', { token: await token(), body: '{not json' });
      const r = await call.finalResponse;
      expect([r.status, r.reason]).toEqual([400, 'Bad Service Details']);
      const arr = await relay.invite('wine', { token: await token(), body: '[1,2]' }).finalResponse;
      expect(arr.status).toBe(400);
      expect(seen).toHaveLength(1);
    });

    it('rejects: the client gets the status and reason the handler chose, with Retry-After', async () => {
      const { relay } = await listening('wine', (_req, res) => res.reject(503, 'Cellar Closed', { retryAfter: 60 }));
      const r = await relay.invite('wine', { token: await token() }).finalResponse;
      expect([r.status, r.reason, r.header('retry-after')]).toEqual([503, 'Cellar Closed', '60']);
    });

    it('answers 500 when the handler throws or returns without answering', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      app.invite('wine', () => {
        throw new Error('boom');
      });
      app.invite('beer', async () => undefined);
      await app.listen();
      expect((await relay.invite('wine', { token: await token({ svc: 'wine' }) }).finalResponse).status).toBe(500);
      expect((await relay.invite('beer', { token: await token({ svc: 'beer' }) }).finalResponse).status).toBe(500);
    });

    it('answers 404 when the token names a service this server does not route', async () => {
      const { relay, seen } = await listening();
      const r = await relay.invite('wine', { token: await token({ svc: 'spirits' }) }).finalResponse;
      expect([r.status, r.reason]).toEqual([404, 'Service Not Provided Here']);
      expect(seen).toHaveLength(0);
    });

    it('aborts req.signal when the client cancels, and the late accept throws APPSERVER_ERR_CANCELLED', async () => {
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let signalAborted = false;
      let lateError: unknown;
      const { relay, app } = await listening('wine', async (req, res) => {
        await gate;
        signalAborted = req.signal.aborted;
        try {
          res.accept({ url: 'http://localhost:8081/' });
        } catch (e) {
          lateError = e;
        }
      });
      const call = relay.invite('wine', { token: await token() });
      await until(() => app.activeSessions('wine') === 1, 2000, 'handler');
      call.cancel();
      const r = await call.finalResponse;
      expect(r.status).toBe(487);
      release();
      await until(() => lateError !== undefined, 2000, 'late accept');
      expect(signalAborted).toBe(true);
      expect(isAppServerError(lateError, 'APPSERVER_ERR_CANCELLED')).toBe(true);
      expect(app.activeSessions('wine')).toBe(0);
    });
  });

  describe('relay tokens on INVITE', () => {
    async function refusalOf(jwt: string | undefined): Promise<[number, string, number]> {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      let calls = 0;
      app.invite('wine', (_req, res) => {
        calls++;
        res.accept({ url: 'http://localhost:8081/' });
      });
      await app.listen();
      const r = await relay.invite('wine', { token: jwt }).finalResponse;
      return [r.status, r.reason, calls];
    }

    it('accepts a valid token', async () => {
      expect((await refusalOf(await token()))[0]).toBe(200);
    });

    it('refuses a missing token with 403 before the handler', async () => {
      expect(await refusalOf(undefined)).toEqual([403, 'Missing Relay Token', 0]);
    });

    it('refuses an expired token with 403', async () => {
      expect(await refusalOf(await token({ expiresIn: -300 }))).toEqual([403, 'Expired Relay Token', 0]);
    });

    it('refuses a token for another application server with 403', async () => {
      expect(await refusalOf(await token({ aud: 'beershop' }))).toEqual([403, 'Relay Token For Another Server', 0]);
    });

    it('refuses a forged signature with 403', async () => {
      const forger = await makeKey('relay-key-1');
      expect(await refusalOf(await signToken(forger))).toEqual([403, 'Invalid Relay Token', 0]);
    });

    it('refuses a token that already came in an INVITE (taken from a service URL and replayed)', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      app.invite('wine', (_req, res) => res.accept({ url: 'http://localhost:8081/' }));
      await app.listen();
      const jwt = await token();
      expect((await relay.invite('wine', { token: jwt }).finalResponse).status).toBe(200);
      const replay = await relay.invite('wine', { token: jwt }).finalResponse;
      expect([replay.status, replay.reason]).toEqual([403, 'Relay Token Already Used']);
    });

    it('refuses a token whose sid is not the request\'s Session-ID, and accepts a matching one', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      app.invite('wine', (_req, res) => res.accept({ url: 'http://localhost:8081/' }));
      await app.listen();
      const sid = newSid();
      const other = await relay.invite('wine', { token: await token({ sid }), headers: [['Session-ID', `${newSid()};remote=00000000000000000000000000000000`]] }).finalResponse;
      expect([other.status, other.reason]).toEqual([403, 'Relay Token For Another Session']);
      const same = await relay.invite('wine', { token: await token({ sid }), headers: [['Session-ID', `${sid};remote=00000000000000000000000000000000`]] }).finalResponse;
      expect(same.status).toBe(200);
    });
  });

  describe('SDP offers (JsSIP-style clients)', () => {
    const offer = ['v=0', 'o=- 1 2 IN IP4 127.0.0.1', 's=-', 't=0 0', 'a=group:BUNDLE 0', 'm=audio 9 UDP/TLS/RTP/SAVPF 111 0', 'c=IN IP4 0.0.0.0', 'a=mid:0', 'a=sendrecv', ''].join('\r\n');

    async function answerTo(body: Parameters<import('./support/fake-relay.js').FakeRelay['invite']>[1], sdpAnswer?: 'auto' | 'multipart' | 'call-info' | 'none') {
      const relay = await fakeRelay();
      const app = await appFor(relay, 'TCP', sdpAnswer ? { sdpAnswer } : {});
      app.invite('wine', (req, res) => res.accept({ url: `http://localhost:8081/?token=${req.token}` }));
      await app.listen();
      const session = await relay.session('wine', { token: await token(), ...body });
      return session.inviteResponse!;
    }

    it('auto: an SDP-only offer gets an SDP answer declining the media, and the URL in Call-Info', async () => {
      const ok = await answerTo({ body: offer, contentType: 'application/sdp' });
      expect(ok.contentType).toBe('application/sdp');
      expect(ok.bodyText).toContain('m=audio 0 UDP/TLS/RTP/SAVPF 111');
      expect(ok.bodyText).toContain('a=mid:0');
      expect(ok.header('call-info')).toMatch(/^<http:\/\/localhost:8081\/\?token=.+>;purpose=info$/);
    });

    it('auto: SDP inside multipart/mixed gets SDP and the descriptor in multipart/mixed', async () => {
      const ok = await answerTo({ multipart: [{ contentType: 'application/sdp', body: offer }, { contentType: REQUEST_JSON, body: '{}' }] });
      const parts = parseMultipart(ok.header('content-type')!, ok.body);
      expect(parts.map((p) => p.contentType)).toEqual(['application/sdp', SERVICE_JSON]);
      expect(JSON.parse(utf8Decode(parts[1].body)).url).toMatch(/^http:\/\/localhost:8081\//);
    });

    it('none: SDP is ignored and the answer is the JSON descriptor', async () => {
      const ok = await answerTo({ body: offer, contentType: 'application/sdp' }, 'none');
      expect(ok.contentType).toBe(SERVICE_JSON);
    });
  });

  describe('admission control', () => {
    it('refuses with whenFull and Retry-After beyond maxSessions, and admits again after a session ends', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      app.invite('wine', { maxSessions: 1, whenFull: 503, retryAfter: 30 }, (req, res) => res.accept({ url: `http://localhost:8081/?token=${req.token}` }));
      await app.listen();
      const first = await relay.session('wine', { token: await token() });
      const r = await relay.invite('wine', { token: await token() }).finalResponse;
      expect([r.status, r.header('retry-after')]).toEqual([503, '30']);
      expect(app.activeSessions('wine')).toBe(1);
      await first.bye();
      await until(() => app.activeSessions('wine') === 0, 2000, 'slot release');
      expect((await relay.invite('wine', { token: await token() }).finalResponse).status).toBe(200);
    });

    it('counts INVITEs being decided, defaults to 486, and frees the slot of a refused one', async () => {
      const relay = await fakeRelay();
      const app = await appFor(relay);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let n = 0;
      app.invite('wine', { maxSessions: 1 }, async (req, res) => {
        if (n++ === 0) {
          await held;
          return res.reject(480);
        }
        res.accept({ url: `http://localhost:8081/?token=${req.token}` });
      });
      await app.listen();
      const pending = relay.invite('wine', { token: await token() });
      await until(() => app.activeSessions('wine') === 1, 2000, 'first INVITE admitted');
      expect((await relay.invite('wine', { token: await token() }).finalResponse).status).toBe(486);
      release();
      expect((await pending.finalResponse).status).toBe(480);
      expect((await relay.invite('wine', { token: await token() }).finalResponse).status).toBe(200);
    });
  });
});
