import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSidecarConfig } from '../../../appserver/sidecar/sidecar-config.js';
import { runSidecarCli } from '../../../appserver/sidecar/sidecar-cli.js';
import { startSidecar, type RunningSidecar } from '../../../appserver/sidecar/sidecar.js';
import { fakeRelay, onCleanup, relayKey, token, until } from '../support/app-harness.js';
import { newSid } from '../support/relay-keys.js';

/** A stand-in application in "any language": plain HTTP endpoints the sidecar calls. */
class TestApp {
  readonly calls: Array<{ path: string; body: Record<string, unknown> }> = [];
  admit: (body: Record<string, unknown>) => { status?: number; json: unknown } = (b) => ({ json: { accept: { url: `http://localhost:3000/?token=${String(b.token)}`, title: 'Cellar' } } });
  change: (body: Record<string, unknown>) => { status?: number; json: unknown } = () => ({ status: 404, json: {} });
  end: (body: Record<string, unknown>) => { status?: number; json: unknown } = () => ({ json: {} });
  url = '';
  private server: Server | undefined;

  async start(): Promise<this> {
    const web = express();
    web.use(express.json());
    for (const name of ['admit', 'change', 'end'] as const) {
      web.post(`/siprelay/${name}`, (req, res) => {
        this.calls.push({ path: name, body: req.body });
        const a = this[name](req.body);
        res.status(a.status ?? 200).json(a.json);
      });
    }
    this.server = await new Promise<Server>((resolve) => {
      const s = web.listen(0, '127.0.0.1', () => resolve(s));
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    onCleanup(() => new Promise((r) => (this.server!.closeAllConnections(), this.server!.close(r))));
    return this;
  }
}

async function setup(extra: Record<string, unknown> = {}): Promise<{ relay: Awaited<ReturnType<typeof fakeRelay>>; app: TestApp; sidecar: RunningSidecar }> {
  const relay = await fakeRelay();
  const app = await new TestApp().start();
  const config = parseSidecarConfig({
    relay: relay.address('TCP'),
    domain: 'portal.test',
    credentials: { username: 'wineshop', password: 'wineshop-secret' },
    jwksUrl: 'http://127.0.0.1:9/unused',
    app: { url: app.url, timeoutMs: 1000 },
    api: { port: 0 },
    services: [{ name: 'wine', maxSessions: 5 }],
    defaultCurrency: 'EUR',
    ...extra,
  });
  const sidecar = await startSidecar(config, { appServerOptions: { jwks: { keys: [(await relayKey()).publicJwk] }, keepAliveIntervalMs: 0 } });
  onCleanup(() => sidecar.close());
  return { relay, app, sidecar };
}

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

describe('sidecar mode', () => {
  it('asks the application to admit: accept becomes the 2xx with its descriptor', async () => {
    const { relay, app } = await setup();
    const sid = newSid();
    const jwt = await token({ sid, name: 'Alice A.' });
    const client = await relay.session('wine', { token: jwt, details: { category: 'red' } });
    expect(JSON.parse(client.inviteResponse!.bodyText)).toEqual({ url: `http://localhost:3000/?token=${jwt}`, title: 'Cellar' });
    expect(app.calls[0]).toEqual({
      path: 'admit',
      body: {
        sessionId: sid,
        service: 'wine',
        user: { aor: 'sip:alice@portal.test', username: 'alice', domain: 'portal.test', displayName: 'Alice A.' },
        details: { category: 'red' },
        facts: {},
        token: jwt,
        forkGroup: 'fork-1',
      },
    });
  });

  it('a reject from the application reaches the client; no usable answer is 503', async () => {
    const { relay, app } = await setup();
    app.admit = () => ({ json: { reject: { status: 486, reason: 'Cellar Full', retryAfter: 20 } } });
    const r = await relay.invite('wine', { token: await token() }).finalResponse;
    expect([r.status, r.reason, r.header('retry-after')]).toEqual([486, 'Cellar Full', '20']);
    app.admit = () => ({ status: 500, json: { oops: true } });
    expect((await relay.invite('wine', { token: await token() }).finalResponse).status).toBe(503);
    app.admit = () => ({ json: { accept: { url: 'not-a-url' } } });
    expect((await relay.invite('wine', { token: await token() }).finalResponse).status).toBe(500);
  });

  it('charges through the local API; the relay\'s refusal comes back with its status', async () => {
    const { relay, sidecar } = await setup();
    const sid = newSid();
    await relay.session('wine', { token: await token({ sid }) });
    const item = { sku: 'BDX', description: 'Bordeaux', unitPrice: 2450, quantity: 2 };
    const ok = await post(`${sidecar.apiUrl}/sessions/${sid}/charges`, { items: [item] }, { 'idempotency-key': 'order-1' });
    expect(ok.status).toBe(200);
    expect((await ok.json()).receipt).toMatchObject({ id: 'order-1', key: 'order-1', total: { amount: 4900, currency: 'EUR' } });
    relay.chargeAnswer = () => ({ status: 402, reason: 'no credit' });
    const refused = await post(`${sidecar.apiUrl}/sessions/${sid}/charges`, [item]);
    expect(refused.status).toBe(402);
    expect((await refused.json()).error).toMatchObject({ code: 'APPSERVER_ERR_CHARGE_REFUSED', status: 402, reason: 'no credit' });
    const bad = await post(`${sidecar.apiUrl}/sessions/${sid}/charges`, { items: [{ ...item, unitPrice: 1.5 }] });
    expect(bad.status).toBe(400);
    expect((await post(`${sidecar.apiUrl}/sessions/${newSid()}/charges`, [item])).status).toBe(404);
  });

  it('ends and transfers through the local API, and tells the application about the end', async () => {
    const { relay, app, sidecar } = await setup();
    const a = newSid();
    await relay.session('wine', { token: await token({ sid: a }) });
    const t = await post(`${sidecar.apiUrl}/sessions/${a}/transfer`, { service: 'beer', details: { category: 'stout' } });
    expect(await t.json()).toEqual({ transferred: true, status: 200 });
    expect(relay.refers[0].referTo.uri.toString()).toBe('sip:beer@portal.test');
    const e = await post(`${sidecar.apiUrl}/sessions/${a}/end`, { reason: 'done' });
    expect((await e.json()).outcome).toEqual({ by: 'app', reason: 'done' });
    await until(() => app.calls.some((c) => c.path === 'end'), 2000, 'end notice');
    expect(app.calls.find((c) => c.path === 'end')!.body).toMatchObject({ sessionId: a, by: 'app', reason: 'done' });
  });

  it('asks the application for final charges when the user hangs up, and puts them in the 2xx to BYE', async () => {
    const { relay, app } = await setup();
    app.end = () => ({ json: { charges: { items: [{ sku: 'TIP', description: 'Tip', unitPrice: 100 }] } } });
    const client = await relay.session('wine', { token: await token() });
    const r = await client.bye();
    expect(JSON.parse(r.bodyText).items).toEqual([{ sku: 'TIP', description: 'Tip', unitPrice: 100, quantity: 1, currency: 'EUR' }]);
    expect(app.calls.filter((c) => c.path === 'end')).toHaveLength(1);
    expect(app.calls.find((c) => c.path === 'end')!.body).toMatchObject({ by: 'user', reason: 'bye' });
  });

  it('relays change requests to the application: accept, reject, and 488 when it has no endpoint', async () => {
    const { relay, app } = await setup();
    const client = await relay.session('wine', { token: await token() });
    expect((await client.update({ body: '{"category":"beer"}', contentType: 'application/vnd.siprelay.request+json' })).status).toBe(488);
    app.change = (b) => ({ json: { accept: { url: 'http://localhost:3000/beer', title: `now ${String((b.details as { category: string }).category)}` } } });
    const ok = await client.update({ body: '{"category":"beer"}', contentType: 'application/vnd.siprelay.request+json' });
    expect(JSON.parse(ok.bodyText).title).toBe('now beer');
    app.change = () => ({ json: { reject: { status: 606, reason: 'Not Today' } } });
    const no = await client.update({ body: '{"category":"gin"}', contentType: 'application/vnd.siprelay.request+json' });
    expect([no.status, no.reason]).toEqual([606, 'Not Today']);
  });

  it('verifies tokens for the application\'s own pages', async () => {
    const { sidecar } = await setup();
    const ok = await post(`${sidecar.apiUrl}/tokens/verify`, { token: await token({ svc: 'wine' }) });
    expect(ok.status).toBe(200);
    expect((await ok.json()).user.username).toBe('alice');
    const expired = await post(`${sidecar.apiUrl}/tokens/verify`, { token: await token({ expiresIn: -600 }) });
    expect([expired.status, (await expired.json()).error.code]).toEqual([403, 'APPSERVER_ERR_TOKEN_EXPIRED']);
    expect((await post(`${sidecar.apiUrl}/tokens/verify`, {})).status).toBe(401);
  });

  it('requires the API token when one is configured', async () => {
    const { sidecar } = await setup({ api: { port: 0, token: 'a-local-api-token-of-some-length' } });
    expect((await fetch(`${sidecar.apiUrl}/health`)).status).toBe(401);
    const ok = await fetch(`${sidecar.apiUrl}/health`, { headers: { authorization: 'Bearer a-local-api-token-of-some-length' } });
    expect(await ok.json()).toMatchObject({ state: 'listening', relay: 'ready', services: ['wine'], sessions: 0 });
  });
});

describe('sidecar configuration', () => {
  const base = {
    relay: 'sip:127.0.0.1:5060;transport=tcp',
    domain: 'portal.test',
    credentials: { username: 'wineshop', password: 'x' },
    jwksUrl: 'http://127.0.0.1:8080/.well-known/jwks.json',
    app: { url: 'http://127.0.0.1:3000' },
    services: [{ name: 'wine' }],
  };

  it('fills in defaults', () => {
    const c = parseSidecarConfig(base);
    expect(c.api).toEqual({ host: '127.0.0.1', port: 7070 });
    expect(c.app.timeoutMs).toBe(5000);
    expect(c.sdpAnswer).toBe('auto');
  });

  it('names every bad key', () => {
    expect(() => parseSidecarConfig({ ...base, app: { url: 'ftp://x' }, services: [{ name: 'wine', whenFull: 500 }], extra: 1 })).toThrow(
      /app\.url: expected an http\(s\) URL[\s\S]*services\.0\.whenFull: expected 486 or 503/,
    );
    expect(() => parseSidecarConfig({ ...base, extra: 1 })).toThrow(/extra/);
    expect(() => parseSidecarConfig({ ...base, jwksUrl: undefined })).toThrow(/jwksUrl: required/);
    expect(() => parseSidecarConfig({ ...base, services: [{ name: 'wine' }, { name: 'wine' }] })).toThrow(/wine is listed twice/);
  });

  it('takes the password from SIPRELAY_APPSERVER_PASSWORD when the file has none', () => {
    const c = parseSidecarConfig({ ...base, credentials: { username: 'wineshop' } }, { SIPRELAY_APPSERVER_PASSWORD: 'from-env' });
    expect(c.credentials.password).toBe('from-env');
    expect(() => parseSidecarConfig({ ...base, credentials: { username: 'wineshop' } })).toThrow(/credentials\.password/);
  });
});

describe('siprelay-appserver sidecar (the command)', () => {
  it('exits 2 with the bad key named for a wrong configuration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-'));
    const file = join(dir, 'sidecar.yaml');
    writeFileSync(file, 'relay: sip:127.0.0.1:5060;transport=tcp\ndomain: portal.test\n');
    let err = '';
    const status = await runSidecarCli(['sidecar', '--config', file], { stdout: { write: () => true }, stderr: { write: (s: string) => (err += s) }, env: {}, stopSignal: new Promise(() => undefined) });
    expect(status).toBe(2);
    expect(err).toMatch(/credentials: expected \{ username, password \}/);
  });

  it('runs until stopped, with the API up', async () => {
    const relay = await fakeRelay();
    const app = await new TestApp().start();
    const dir = mkdtempSync(join(tmpdir(), 'sidecar-'));
    const file = join(dir, 'sidecar.yaml');
    // The CLI fetches the relay's keys; serve them from a JWKS endpoint.
    const { JwksServer } = await import('../support/relay-keys.js');
    const jwks = await new JwksServer([await relayKey()]).start();
    onCleanup(() => jwks.close());
    writeFileSync(
      file,
      [
        `relay: "${relay.address('TCP')}"`,
        'domain: portal.test',
        'credentials: { username: wineshop }',
        `jwksUrl: ${jwks.url}`,
        `app: { url: "${app.url}" }`,
        'api: { port: 0 }',
        'services: [{ name: wine }]',
        'log: { level: silent }',
      ].join('\n'),
    );
    let stop!: () => void;
    let apiUrl = '';
    const running = runSidecarCli(['sidecar', '-c', file], {
      stdout: { write: () => true },
      stderr: { write: () => true },
      env: { SIPRELAY_APPSERVER_PASSWORD: 'wineshop-secret' },
      stopSignal: new Promise<void>((r) => (stop = r)),
      onStarted: (s) => (apiUrl = s.apiUrl),
    });
    await until(() => apiUrl !== '', 5000, 'sidecar start');
    const client = await relay.session('wine', { token: await token() });
    expect(client.inviteResponse!.status).toBe(200);
    expect((await (await fetch(`${apiUrl}/sessions`)).json()).sessions).toHaveLength(1);
    stop();
    expect(await running).toBe(0);
  });
});
