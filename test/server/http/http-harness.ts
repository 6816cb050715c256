import { afterEach } from 'vitest';
import { relayConfigSchema, type RelayConfig } from '../../../server/config/relay-config-schema.js';
import { createHttpApp, type HttpApp, type HttpAppOptions } from '../../../server/http/create-http-app.js';
import { RelayMetrics } from '../../../server/http/relay-metrics.js';
import { startHttpServer, type RunningHttpServer } from '../../../server/http/start-http-server.js';
import type { Store } from '../../../server/store/store.js';
import { recordingLogger } from '../auth/auth-harness.js';

export const ADMIN_TOKEN = 'admin-token-for-the-tests-0123456789';

/** A configuration with services and an admin token, as the tests need it. */
export function testConfig(overrides: Record<string, unknown> = {}): RelayConfig {
  return relayConfigSchema.parse({
    domains: ['portal.test', 'shop.test'],
    admin: { token: ADMIN_TOKEN },
    services: [
      { name: 'wine', description: 'Wine shop', tariff: { perMinute: { amount: 5, currency: 'EUR' } } },
      { name: 'beer', description: 'Beer shop' },
    ],
    routing: { rules: [] },
    ...overrides,
  });
}

export interface TestServer {
  http: HttpApp;
  running: RunningHttpServer;
  url: string;
  logger: ReturnType<typeof recordingLogger>;
  /** fetch relative to the server, JSON bodies serialised, the admin token sent unless `token: null`. */
  call(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string | null; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; json: any; text: string }>;
}

/**
 * Starts the HTTP app on port 0 for one test and stops it afterwards.
 * (`json` is `any` because each test asserts the shape it expects.)
 */
export function useHttpServer(): (store: Store, options?: Partial<HttpAppOptions> & { config?: RelayConfig }) => Promise<TestServer> {
  const started: RunningHttpServer[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await s.close();
  });
  return async (store, options = {}) => {
    const logger = recordingLogger();
    const http = createHttpApp({
      store,
      config: options.config ?? testConfig(),
      logger,
      metrics: new RelayMetrics({ collectDefault: false }),
      ...options,
    });
    const running = await startHttpServer({ app: http.app, port: 0, closeGraceMs: 100 });
    started.push(running);
    const call: TestServer['call'] = async (method, path, o = {}) => {
      const headers: Record<string, string> = { ...o.headers };
      if (o.token !== null) headers.authorization = `Bearer ${o.token ?? ADMIN_TOKEN}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(running.url + path, { method, headers, body });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, json, text };
    };
    return { http, running, url: running.url, logger, call };
  };
}
