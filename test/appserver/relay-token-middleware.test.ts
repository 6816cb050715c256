import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JwksKeySource } from '../../appserver/jwks-key-source.js';
import { relayTokenMiddleware, type RelayTokenMiddlewareOptions } from '../../appserver/relay-token-middleware.js';
import { RelayTokenVerifier } from '../../appserver/relay-token-verifier.js';
import { JwksServer, makeKey, newSid, signToken, type TestKey } from './support/relay-keys.js';

let key: TestKey;
let jwks: JwksServer;
const servers: Server[] = [];

beforeAll(async () => {
  key = await makeKey('k1');
});

afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  await jwks?.close();
});

/** A web app behind the middleware, with the relay's keys served by a JWKS endpoint. */
async function webApp(options: Partial<RelayTokenMiddlewareOptions> = {}): Promise<string> {
  jwks = await new JwksServer([key]).start();
  const verifier = new RelayTokenVerifier({ audience: 'wineshop', keys: new JwksKeySource({ url: jwks.url }) });
  const web = express();
  web.use(relayTokenMiddleware({ verifier, portalUrl: 'http://localhost:8080/', serviceName: 'Wine shop', ...options }));
  web.get('/', (req, res) => {
    const s = req.siprelay!;
    res.json({ user: s.user, service: s.service, sessionId: s.sessionId, facts: s.facts, source: s.source });
  });
  const server = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const html = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };

describe('relayTokenMiddleware', () => {
  it('lets a request with a valid ?token= through and puts user, service, session and facts on req.siprelay', async () => {
    const base = await webApp();
    const sid = newSid();
    const t = await signToken(key, { sid, name: 'Alice A.', facts: { plan: 'gold' } });
    const r = await fetch(`${base}/?token=${t}`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      user: { aor: 'sip:alice@portal.test', username: 'alice', domain: 'portal.test', displayName: 'Alice A.' },
      service: 'wine',
      sessionId: sid,
      facts: { plan: 'gold' },
      source: 'query',
    });
    expect(r.headers.get('referrer-policy')).toBe('same-origin');
  });

  it('takes the token from Authorization: Bearer', async () => {
    const base = await webApp();
    const r = await fetch(base, { headers: { authorization: `Bearer ${await signToken(key)}` } });
    expect(r.status).toBe(200);
    expect((await r.json()).source).toBe('header');
  });

  it('sets an HttpOnly cookie after the first valid token, and accepts it on later requests', async () => {
    const base = await webApp();
    const first = await fetch(`${base}/?token=${await signToken(key)}`);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^siprelay_wineshop=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/);
    const later = await fetch(base, { headers: { cookie: cookie.split(';')[0] } });
    expect(later.status).toBe(200);
    expect((await later.json()).source).toBe('cookie');
  });

  it('refuses a request without a token with 401: a page for a browser, JSON for an API call', async () => {
    const base = await webApp();
    const page = await fetch(base, { headers: html });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('www-authenticate')).toBe('Bearer realm="siprelay"');
    const text = await page.text();
    expect(text).toContain('Open this service through the portal');
    expect(text).toContain('href="http://localhost:8080/"');
    const api = await fetch(base, { headers: { accept: 'application/json' } });
    expect(api.status).toBe(401);
    expect(await api.json()).toEqual({ error: { code: 'APPSERVER_ERR_TOKEN_MISSING', message: expect.any(String) } });
  });

  it('refuses an expired token with 403', async () => {
    const base = await webApp();
    const r = await fetch(`${base}/?token=${await signToken(key, { expiresIn: -300 })}`, { headers: html });
    expect(r.status).toBe(403);
    expect(await r.text()).toContain('Your pass for this page has expired');
  });

  it('refuses a token for another application server with 403', async () => {
    const base = await webApp();
    const r = await fetch(`${base}/?token=${await signToken(key, { aud: 'beershop' })}`);
    expect(r.status).toBe(403);
    expect((await r.json()).error.code).toBe('APPSERVER_ERR_TOKEN_AUDIENCE');
  });

  it('refuses a forged signature with 403', async () => {
    const base = await webApp();
    const forger = await makeKey('k1');
    const r = await fetch(`${base}/?token=${await signToken(forger)}`);
    expect(r.status).toBe(403);
    expect((await r.json()).error.code).toBe('APPSERVER_ERR_TOKEN_INVALID');
  });

  it('follows a key rotation on the relay: a token signed with the new key verifies', async () => {
    const base = await webApp();
    expect((await fetch(`${base}/?token=${await signToken(key)}`)).status).toBe(200);
    const rotated = await makeKey('k2');
    jwks.keys = [rotated.publicJwk, key.publicJwk];
    expect((await fetch(`${base}/?token=${await signToken(rotated)}`)).status).toBe(200);
  });

  it('answers 503 when the relay\'s keys cannot be fetched', async () => {
    const base = await webApp();
    jwks.failWith = 503;
    const r = await fetch(`${base}/?token=${await signToken(key)}`);
    expect(r.status).toBe(503);
    expect((await r.json()).error.code).toBe('APPSERVER_ERR_JWKS_UNAVAILABLE');
  });

  it('with requireLiveSession refuses tokens of sessions that are not live here (409)', async () => {
    const base = await webApp({ requireLiveSession: true, findSession: () => undefined });
    const r = await fetch(`${base}/?token=${await signToken(key)}`);
    expect(r.status).toBe(409);
  });

  it('throws TypeError for bad options', () => {
    expect(() => relayTokenMiddleware({} as RelayTokenMiddlewareOptions)).toThrow(TypeError);
    const verifier = new RelayTokenVerifier({ audience: 'wineshop', keys: { keys: [] } });
    expect(() => relayTokenMiddleware({ verifier, queryParameter: '' })).toThrow(TypeError);
    expect(() => relayTokenMiddleware({ verifier, cookie: { sameSite: 'None', secure: false } })).toThrow(TypeError);
  });
});
