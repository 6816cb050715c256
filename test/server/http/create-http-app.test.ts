import { get } from 'node:http';
import { Router } from 'express';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { NodeTransport } from '../../../sip/node/node-transport.js';
import type { InboundMessage } from '../../../sip/transport/transport.js';
import { createHttpApp } from '../../../server/http/create-http-app.js';
import { RelayMetrics } from '../../../server/http/relay-metrics.js';
import { startHttpServer } from '../../../server/http/start-http-server.js';
import { useTestStore } from '../store/store-backends.js';
import { testConfig, useHttpServer } from './http-harness.js';
import { waitFor } from '../auth/auth-harness.js';

/** The status of a GET with exactly these headers. */
function statusOf(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

describe('HTTP app', () => {
  const t = useTestStore('sqlite');
  const serve = useHttpServer();

  describe('GET /healthz and /readyz', () => {
    it('reports liveness', async () => {
      const s = await serve(t.store);
      const r = await s.call('GET', '/healthz', { token: null });
      expect([r.status, r.json]).toEqual([200, { status: 'ok' }]);
      expect(r.headers.get('cache-control')).toBe('no-store');
    });

    it('is ready when the store answers', async () => {
      const s = await serve(t.store);
      const r = await s.call('GET', '/readyz', { token: null });
      expect([r.status, r.json]).toEqual([200, { status: 'ready', checks: { store: 'ok' } }]);
    });

    it('is not ready (503 naming the check) when a dependency fails or does not answer in time', async () => {
      const s = await serve(t.store, {
        readinessChecks: { redis: () => Promise.reject(new Error('ECONNREFUSED')), slow: () => new Promise(() => undefined) },
        readinessTimeoutMs: 50,
      });
      const r = await s.call('GET', '/readyz', { token: null });
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({
        status: 'unavailable',
        checks: { store: 'ok', redis: 'ECONNREFUSED', slow: 'no answer within 50 ms' },
        error: { code: 'HTTP_ERR_NOT_READY' },
      });
    });

    it('is not ready when the store is closed', async () => {
      const { openStore } = await import('../../../server/store/open-store.js');
      const closed = await openStore('sqlite::memory:');
      const s = await serve(t.store, { store: closed });
      await closed.close();
      const r = await s.call('GET', '/readyz', { token: null });
      expect(r.status).toBe(503);
      expect(r.json.checks.store).not.toBe('ok');
    });
  });

  describe('GET /metrics', () => {
    it('serves the registry in Prometheus text format, counting requests by route pattern', async () => {
      const s = await serve(t.store);
      await s.call('GET', '/admin/v1/subscribers/alice');
      await s.call('GET', '/admin/v1/subscribers/bob');
      await s.call('GET', '/no/such/path', { token: null });
      s.http.metrics.authOutcomes.inc({ outcome: 'authenticated' });
      const r = await s.call('GET', '/metrics', { token: null });
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toContain('text/plain');
      expect(r.text).toContain('siprelay_http_requests_total{method="GET",route="/admin/v1/subscribers/:user",status="404"} 2');
      expect(r.text).toContain('siprelay_http_requests_total{method="GET",route="unmatched",status="404"} 1');
      expect(r.text).toContain('siprelay_auth_outcomes_total{outcome="authenticated"} 1');
      expect(r.text).toContain('siprelay_tokens_signed_total 0');
    });

    it('includes the process metrics by default', async () => {
      const metrics = new RelayMetrics();
      expect(await metrics.registry.metrics()).toContain('process_cpu_seconds_total');
    });
  });

  describe('GET /.well-known/jwks.json', () => {
    it('publishes the active key and keys retired within tokens.retiredKeyPublishSeconds, cacheable, for any origin', async () => {
      const first = await t.store.signingKeys.ensureActive();
      t.clock.advance(1000);
      const second = await t.store.signingKeys.rotate();
      const s = await serve(t.store, { config: testConfig({ tokens: { lifetimeSeconds: 60, retiredKeyPublishSeconds: 120 } }) });
      const r = await s.call('GET', '/.well-known/jwks.json', { token: null });
      expect(r.status).toBe(200);
      expect(r.json.keys.map((k: { kid: string }) => k.kid)).toEqual([second.kid, first.kid]);
      expect(r.text).not.toContain('"d"');
      expect(r.headers.get('cache-control')).toBe('public, max-age=300');
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
      const etag = r.headers.get('etag');
      expect(etag).toBeTruthy();
      // Not fetch(): it adds Cache-Control: no-cache to conditional requests, which rightly defeats them.
      expect(await statusOf(s.url + '/.well-known/jwks.json', { 'if-none-match': etag! })).toBe(304);

      t.clock.advance(120_000);
      const later = await s.call('GET', '/.well-known/jwks.json', { token: null });
      expect(later.json.keys.map((k: { kid: string }) => k.kid)).toEqual([second.kid]);
    });
  });

  describe('GET /api/v1/services', () => {
    it('lists the configured services with description and tariff, without authentication', async () => {
      const s = await serve(t.store);
      const r = await s.call('GET', '/api/v1/services', { token: null });
      expect(r.status).toBe(200);
      expect(r.json).toEqual({
        services: [
          { name: 'wine', description: 'Wine shop', tariff: { perMinute: { amount: 5, currency: 'EUR' } } },
          { name: 'beer', description: 'Beer shop', tariff: null },
        ],
      });
      expect(r.headers.get('access-control-allow-origin')).toBe('*');
    });
  });

  describe('errors and extensions', () => {
    it('answers unknown paths with 404 JSON and wrong methods with 405', async () => {
      const s = await serve(t.store);
      const r = await s.call('GET', '/nothing', { token: null });
      expect(r.status).toBe(404);
      expect(r.json).toEqual({ error: { code: 'HTTP_ERR_NOT_FOUND', message: 'nothing at GET /nothing' } });
      const post = await s.call('POST', '/healthz', { token: null });
      expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    });

    it('mounts routers after start, ahead of the 404, and turns their faults into 500 JSON without details', async () => {
      const s = await serve(t.store);
      const charges = Router();
      charges.get('/', (_req, res) => {
        res.json({ charges: [] });
      });
      charges.get('/boom', async () => {
        throw new Error('secret detail');
      });
      s.http.mount('/api/v1/charges', charges);
      expect((await s.call('GET', '/api/v1/charges', { token: null })).json).toEqual({ charges: [] });
      const boom = await s.call('GET', '/api/v1/charges/boom', { token: null });
      expect(boom.status).toBe(500);
      expect(boom.json.error.code).toBe('HTTP_ERR_INTERNAL');
      expect(boom.text).not.toContain('secret detail');
      expect(s.logger.lines).toContainEqual(expect.objectContaining({ level: 'error', msg: 'HTTP request failed' }));
    });

    it('logs each request without its credentials', async () => {
      const s = await serve(t.store);
      await s.call('GET', '/admin/v1/subscribers?domain=portal.test');
      await s.call('GET', '/healthz', { token: null });
      const lines = s.logger.lines.filter((l) => l.msg === 'http request');
      expect(lines).toEqual([
        { level: 'info', msg: 'http request', obj: expect.objectContaining({ method: 'GET', path: '/admin/v1/subscribers', status: 200, actor: 'token' }) },
        { level: 'debug', msg: 'http request', obj: expect.objectContaining({ path: '/healthz', status: 200 }) },
      ]);
      expect(JSON.stringify(s.logger.lines)).not.toMatch(/Bearer|admin-token/);
    });

    it('throws TypeError for bad options', () => {
      expect(() => createHttpApp({ store: t.store, config: testConfig({}), bodyLimitBytes: 0 })).toThrow(TypeError);
      expect(() => createHttpApp({ store: t.store, config: { ...testConfig(), domains: [] } })).toThrow(TypeError);
    });
  });
});

describe('startHttpServer', () => {
  const t = useTestStore('sqlite');

  it('listens on a free port, and close() ends keep-alive connections and is idempotent', async () => {
    const http = createHttpApp({ store: t.store, config: testConfig(), metrics: new RelayMetrics({ collectDefault: false }) });
    const running = await startHttpServer({ app: http.app, port: 0, closeGraceMs: 100 });
    expect(running.port).toBeGreaterThan(0);
    expect(running.url).toBe(`http://127.0.0.1:${running.port}`);
    const r = await fetch(running.url + '/healthz', { headers: { connection: 'keep-alive' } });
    expect(r.status).toBe(200);
    await Promise.all([running.close(), running.close()]);
    expect(running.server.listening).toBe(false);
    await expect(fetch(running.url + '/healthz')).rejects.toThrow();
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    const http = createHttpApp({ store: t.store, config: testConfig(), metrics: new RelayMetrics({ collectDefault: false }) });
    const first = await startHttpServer({ app: http.app, port: 0 });
    await expect(startHttpServer({ app: http.app, port: first.port })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    await first.close();
  });

  it('shares its port with the SIP WebSocket listener at /sip', async () => {
    const http = createHttpApp({ store: t.store, config: testConfig(), metrics: new RelayMetrics({ collectDefault: false }) });
    const running = await startHttpServer({ app: http.app, port: 0, closeGraceMs: 100 });
    const transport = new NodeTransport({ listeners: [{ protocol: 'WS', server: running.server, path: '/sip' }] });
    const received: InboundMessage[] = [];
    transport.listen({ onMessage: (m) => received.push(m) });
    await transport.start();
    try {
      const ws = new WebSocket(running.url.replace('http', 'ws') + '/sip', 'sip');
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.send(
        'OPTIONS sip:portal.test SIP/2.0\r\nVia: SIP/2.0/WS abc.invalid;branch=z9hG4bKws1\r\nMax-Forwards: 70\r\n' +
          'From: <sip:alice@portal.test>;tag=1\r\nTo: <sip:portal.test>\r\nCall-ID: ws-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n',
      );
      await waitFor(() => received.length > 0);
      expect(received[0]?.message.isRequest && received[0].flow.protocol).toBe('WS');
      // Plain HTTP on the same port still reaches the app.
      expect((await fetch(running.url + '/healthz')).status).toBe(200);
      ws.close();
    } finally {
      await transport.close();
      await running.close();
    }
  });
});
