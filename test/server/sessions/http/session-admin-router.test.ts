import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRelay, type TestRelay } from '../../../support/test-relay.js';
import { cli } from '../../cli/cli-harness.js';
import { TestAppServer, TestClient } from '../support/relay-peers.js';

const TOKEN = 'test-admin-token-0123456789';

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** An operator ending live sessions through the running relay: `POST /admin/v1/sessions/:id/end` and `siprelay session end`. */
describe('ending a live session as the operator', () => {
  let t: TestRelay;
  let app: TestAppServer;
  let alice: TestClient;

  beforeAll(async () => {
    app = await TestAppServer.start();
    t = await startTestRelay({ config: { services: [{ name: 'wine' }], staticTargets: [app.staticTarget('wine')] } });
    alice = await TestClient.start(t.udp.port);
  });

  afterAll(async () => {
    await alice?.close();
    await app?.close();
    await t?.stop();
  });

  function end(id: string, body?: unknown, token: string | null = TOKEN) {
    return fetch(`${t.httpUrl}/admin/v1/sessions/${id}/end`, {
      method: 'POST',
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function live() {
    const client = await alice.call('wine');
    const server = await app.sessions.next();
    return { client, server };
  }

  describe('POST /admin/v1/sessions/:id/end', () => {
    it('sends BYE to both sides, records the session as ended by the operator with the reason, and answers 200 with the record and both BYE statuses', async () => {
      const { client, server } = await live();
      const response = await end(server.sessionId, { reason: 'fraud suspected' });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { session: Record<string, unknown>; byes: unknown };
      expect(body.session).toMatchObject({ id: server.sessionId, state: 'ended', endedBy: 'operator', endReason: 'fraud suspected' });
      expect(body.byes).toEqual({ caller: 200, callee: 200 });
      const [byClient, byServer] = await Promise.all([client.terminated, server.terminated]);
      expect(byClient).toMatchObject({ by: 'remote', reason: 'bye' });
      expect(byServer).toMatchObject({ by: 'remote', reason: 'bye' });
      expect(byClient.message?.header('reason')).toBe('SIP;cause=200;text="operator: fraud suspected"');
      const record = await t.store.sessions.get(server.sessionId);
      expect(record).toMatchObject({ state: 'ended', endedBy: 'operator', endReason: 'fraud suspected' });
      expect(t.relay.core.liveDialogs()).toEqual([]);
    });

    it('answers 404 naming the id for an unknown or finished session', async () => {
      const { server } = await live();
      expect((await end(server.sessionId)).status).toBe(200);
      await server.terminated;
      for (const id of [server.sessionId, 'f'.repeat(32)]) {
        const r = await end(id);
        expect(r.status).toBe(404);
        expect(await r.json()).toEqual({ error: { code: 'HTTP_ERR_NOT_FOUND', message: `no live session ${id}`, field: 'id' } });
      }
    });

    it('wants the admin token, a JSON object with at most a reason, and POST', async () => {
      const { server } = await live();
      expect((await end(server.sessionId, undefined, null)).status).toBe(401);
      expect((await end(server.sessionId, undefined, 'not-the-token-0123456789')).status).toBe(401);
      const bad = await end(server.sessionId, { reason: 42 });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('reason');
      expect((await end(server.sessionId, { why: 'x' })).status).toBe(400);
      const get = await fetch(`${t.httpUrl}/admin/v1/sessions/${server.sessionId}/end`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(get.status).toBe(405);
      expect(get.headers.get('allow')).toBe('POST');
      // Still live after all that.
      expect(t.relay.core.liveDialogs()).toHaveLength(1);
      expect((await end(server.sessionId)).status).toBe(200);
      expect((await t.store.sessions.get(server.sessionId))?.endReason).toBe('ended by the operator');
    });
  });

  describe('siprelay session end', () => {
    const env = { SIPRELAY_ADMIN__TOKEN: TOKEN };

    it('ends the session through the running relay and says how both sides answered', async () => {
      const { client, server } = await live();
      const r = await cli(['session', 'end', server.sessionId, '--reason', 'maintenance', '--url', t.httpUrl], { env });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`session ${server.sessionId} ended by the operator: maintenance\nBYE answered: caller 200, callee 200\n`);
      await client.terminated;
      expect((await t.store.sessions.get(server.sessionId))?.endedBy).toBe('operator');
    });

    it('prints the answer as JSON with --json', async () => {
      const { server } = await live();
      const r = await cli(['sessions', 'end', server.sessionId, '--url', t.httpUrl, '--json'], { env });
      expect(r.status).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ session: { id: server.sessionId, endedBy: 'operator' }, byes: { caller: 200, callee: 200 } });
    });

    it('reports an unknown session, an unreachable relay and a missing admin token clearly', async () => {
      const unknown = await cli(['session', 'end', 'f'.repeat(32), '--url', t.httpUrl], { env });
      expect(unknown.status).toBe(1);
      expect(unknown.stderr).toBe(`error: no live session ${'f'.repeat(32)} (unknown, not answered yet, or ended already)\n`);
      const closed = await closedPort();
      const down = await cli(['session', 'end', 'x', '--url', `http://127.0.0.1:${closed}`], { env });
      expect(down.status).toBe(1);
      expect(down.stderr).toBe(`error: the relay is not reachable at http://127.0.0.1:${closed} (ECONNREFUSED): is it running?\n`);
      const noToken = await cli(['session', 'end', 'x', '--url', t.httpUrl]);
      expect(noToken.status).toBe(2);
      expect(noToken.stderr).toMatch(/admin\.token is not configured/);
      const wrongToken = await cli(['session', 'end', 'x', '--url', t.httpUrl], { env: { SIPRELAY_ADMIN__TOKEN: 'wrong-token-0123456789' } });
      expect(wrongToken.status).toBe(1);
      expect(wrongToken.stderr).toMatch(/the relay refused: 401 .*HTTP_ERR_UNAUTHORIZED/);
    });

    it('reads the relay address from the configuration when --url is not given', async () => {
      const { server } = await live();
      const port = new URL(t.httpUrl).port;
      const r = await cli(['session', 'end', server.sessionId], { env: { ...env, SIPRELAY_HTTP__PORT: port } });
      expect(r.status).toBe(0);
    });
  });
});
