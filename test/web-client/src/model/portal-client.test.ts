import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PortalClient } from '../../../../web-client/src/model/portal-client.js';
import { OpeningRequest } from '../../../../web-client/src/model/opening-request.js';
import { ServiceSession } from '../../../../web-client/src/model/service-session.js';
import { startPortalStack, type PortalStack } from '../../../browser/support/portal-stack.js';

/** `ws`'s WebSocket, remembering every socket so a test can drop the connection. */
class TrackedWebSocket extends WebSocket {
  static readonly all: TrackedWebSocket[] = [];
  constructor(url: string, protocols?: string | string[]) {
    super(url, protocols);
    TrackedWebSocket.all.push(this);
  }
}

function until(cond: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(tick, 20);
    };
    tick();
  });
}

/**
 * The portal's model in Node, against the real relay, demo application
 * servers and store (the browser tests drive the same through the page).
 */
describe('PortalClient', () => {
  let stack: PortalStack;
  const clients: PortalClient[] = [];
  const client = (wsUrl = stack.relay.wsUrl) => {
    const c = new PortalClient({
      wsUrl,
      httpBase: stack.relay.httpUrl,
      domain: 'portal.test',
      WebSocket: TrackedWebSocket as never,
      reconnect: { initialDelayMs: 100, maxDelayMs: 200 },
    });
    clients.push(c);
    return c;
  };
  const sessions = (c: PortalClient) => c.items.filter((i): i is ServiceSession => i instanceof ServiceSession);

  beforeAll(async () => {
    stack = await startPortalStack({ portalDir: '/nonexistent' });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.signOut()));
    await stack?.stop();
  });

  describe('signing in', () => {
    it('says a wrong password plainly and stays signed out', async () => {
      const c = client();
      expect(await c.signIn('alice', 'not-her-password')).toBe(false);
      expect(c.state).toBe('signed-out');
      expect(c.problem?.code).toBe('wrong-credentials');
    });

    it('says when the relay cannot be reached', async () => {
      const c = client('ws://127.0.0.1:9/sip');
      expect(await c.signIn('alice', 'alice-secret')).toBe(false);
      expect(c.problem?.code).toBe('relay-unreachable');
    });

    it('registers, keeps the user token for the HTTP API and loads the catalogue', async () => {
      const c = client();
      expect(await c.signIn('alice', 'alice-secret')).toBe(true);
      expect(c.state).toBe('online');
      expect(c.user?.aor).toBe('sip:alice@portal.test');
      expect(c.token).toMatch(/^ey/);
      await until(() => c.catalogue !== undefined);
      expect(c.catalogue?.map((s) => s.name)).toEqual(['wine', 'beer', 'bookstore', 'lesson']);
      expect(c.catalogue?.find((s) => s.name === 'lesson')?.tariff?.pricePerMinute).toBe(120);
      const me = await c.http.getJson<{ sessions: unknown[] }>('/api/v1/me/sessions', c.token);
      expect(Array.isArray(me.sessions)).toBe(true);
      await c.signOut();
      expect(c.token).toBeUndefined();
    });
  });

  describe('sessions', () => {
    let c: PortalClient;
    beforeAll(async () => {
      c = client();
      await c.signIn('bob', 'bob-secret');
      await until(() => c.catalogue !== undefined);
    });

    it('opens a service and shows the URL of its 2xx', async () => {
      const opening = c.open('wine', { category: 'wine' });
      expect(opening).toBeInstanceOf(OpeningRequest);
      await until(() => sessions(c).some((s) => s.service === 'wine'));
      const s = sessions(c).find((x) => x.service === 'wine')!;
      expect(s.descriptor?.url).toMatch(/^http:\/\/localhost:\d+\/\?token=ey/);
      expect(s.descriptor?.title).toBe('The Wine Cellar — Wines');
      expect(c.items.includes(opening!)).toBe(false);
    });

    it('changes the details in place and follows the new descriptor', async () => {
      const s = sessions(c).find((x) => x.service === 'wine' && x.live)!;
      await c.change(s.key, { category: 'beer' }, 'UPDATE');
      expect(s.descriptor?.title).toBe('The Wine Cellar — Beers & ciders');
      expect(s.frameRevision).toBe(1);
      await c.change(s.key, { category: 'spirits' });
      expect(s.changeProblem?.title).toBe('Change refused');
      expect(s.descriptor?.title).toBe('The Wine Cellar — Beers & ciders');
    });

    it('keeps every answer of a compared fork as its own session', async () => {
      c.open('bookstore', { query: 'dune' }, { compare: true });
      await until(() => sessions(c).filter((s) => s.service === 'bookstore').length === 2);
      const books = sessions(c).filter((s) => s.service === 'bookstore');
      expect(new Set(books.map((b) => b.group)).size).toBe(1);
      expect(books.map((b) => b.descriptor?.fields.store).sort()).toEqual(['Alder Books', 'Birch & Quill']);
    });

    it('says “no such service” for a service the relay does not know', async () => {
      const o = c.open('nosuch', undefined)!;
      await until(() => o.state === 'failed');
      expect(o.problem).toMatchObject({ code: 'no-such-service', status: 404 });
    });

    it('follows an application server’s REFER: the new session is linked, the old one ended by the service', async () => {
      c.open('lesson', { topic: 'Riesling' });
      await until(() => sessions(c).some((s) => s.service === 'lesson'));
      const lesson = sessions(c).find((s) => s.service === 'lesson')!;
      const url = new URL(lesson.descriptor!.url);
      await new Promise((r) => setTimeout(r, 200));
      const r = await fetch(`${url.origin}/transfer?token=${url.searchParams.get('token')}`, { method: 'POST', headers: { accept: 'application/json' } });
      expect(r.status).toBe(200);
      await until(() => !lesson.live);
      const wine = lesson.linkedTo[0];
      expect(wine.service).toBe('wine');
      expect(wine.linkedFrom).toBe(lesson);
      expect(lesson.end?.by).toBe('service');
      const stored = await stack.relay.store.sessions.list({ limit: 50 });
      expect(stored.find((x) => x.service === 'wine' && x.linkedFrom !== null)?.linkedFrom).toBe(stored.find((x) => x.service === 'lesson')?.id);
    });

    it('hangs up with BYE; the relay records the end by the caller', async () => {
      c.open('beer', undefined);
      await until(() => sessions(c).some((x) => x.service === 'beer' && x.live));
      const s = sessions(c).find((x) => x.service === 'beer' && x.live)!;
      await new Promise((r) => setTimeout(r, 100));
      await c.hangUp(s.key);
      expect(s.end?.by).toBe('you');
      const stored = (await stack.relay.store.sessions.list({ limit: 50 })).filter((x) => x.service === 'beer');
      expect(stored.some((x) => x.state === 'ended' && x.endedBy === 'caller')).toBe(true);
    });
  });

  describe('reconnection', () => {
    it('registers again after the WebSocket drops and says what became of the live sessions', async () => {
      const c = client();
      await c.signIn('alice', 'alice-secret');
      c.open('beer', undefined);
      await until(() => sessions(c).some((s) => s.live));
      const s = sessions(c)[0];
      const socket = TrackedWebSocket.all[TrackedWebSocket.all.length - 1];
      socket.terminate();
      await until(() => c.state === 'reconnecting' || c.state === 'restoring');
      await until(() => c.state === 'online', 10_000);
      // The portal's UPDATE over the new connection re-binds the dialog at the relay
      // (docs/sessions.md, caller flow loss), so the session carries on.
      expect(c.connectionNote).toBe('Reconnected; your session is still open.');
      expect(s.live).toBe(true);
      expect(s.recoveryNote).toMatch(/still open/);
      // …and the relay reaches the browser over the new connection: the hang-up works end to end.
      await c.hangUp(s.key);
      expect(s.end?.by).toBe('you');
      const stored = await stack.relay.store.sessions.list({ limit: 50 });
      const newest = stored.filter((x) => x.service === 'beer').sort((a, b) => (a.requestedAt < b.requestedAt ? 1 : -1))[0];
      expect(newest).toMatchObject({ state: 'ended', endedBy: 'caller' });
      // Signed in again over the new connection: new sessions work.
      c.open('wine', undefined);
      await until(() => sessions(c).some((x) => x.service === 'wine' && x.live));
    });
  });
});
