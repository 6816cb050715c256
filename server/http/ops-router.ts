import { Router } from 'express';
import { route } from './method-not-allowed.js';
import { sql } from 'kysely';
import type { Store } from '../store/store.js';
import type { ErrorBody } from './http-api-error.js';
import type { RelayMetrics } from './relay-metrics.js';

/** A named readiness check: resolves when the dependency answers. */
export type ReadinessCheck = () => Promise<unknown>;

/** Options of {@link opsRouter}. */
export interface OpsRouterOptions {
  store: Pick<Store, 'db'>;
  metrics: RelayMetrics;
  /** More checks for /readyz besides the store (e.g. `redis: () => redis.ping()`). */
  readinessChecks?: Record<string, ReadinessCheck>;
  /** How long a readiness check may take before it counts as failed. Default 2000 ms. */
  readinessTimeoutMs?: number;
}

/**
 * Operations endpoints:
 *
 * - `GET /healthz`: liveness. 200 `{"status":"ok"}` while the process can
 *   answer HTTP at all; restart it when this fails.
 * - `GET /readyz`: readiness. 200 when the store (and any other configured
 *   dependency) answers within the timeout, else 503 naming the failed
 *   check; send no traffic to it meanwhile.
 * - `GET /metrics`: the Prometheus registry in text exposition format.
 */
export function opsRouter(options: OpsRouterOptions): Router {
  const router = Router();
  const timeoutMs = options.readinessTimeoutMs ?? 2000;
  const checks: Record<string, ReadinessCheck> = {
    store: () => sql`select 1`.execute(options.store.db),
    ...options.readinessChecks,
  };

  route(router, '/healthz', {
    get: (_req, res) => {
      res.set('Cache-Control', 'no-store').json({ status: 'ok' });
    },
  });

  route(router, '/readyz', {
    get: async (_req, res) => {
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => [name, await withTimeout(check, timeoutMs)] as const),
      );
      const failed = results.filter(([, r]) => r !== 'ok');
      const body: { status: string; checks: Record<string, string> } & Partial<ErrorBody> = {
        status: failed.length ? 'unavailable' : 'ready',
        checks: Object.fromEntries(results),
      };
      if (failed.length) {
        body.error = { code: 'HTTP_ERR_NOT_READY', message: failed.map(([n, r]) => `${n}: ${r}`).join('; ') };
      }
      res.status(failed.length ? 503 : 200).set('Cache-Control', 'no-store').json(body);
    },
  });

  route(router, '/metrics', {
    get: async (_req, res) => {
      const text = await options.metrics.registry.metrics();
      res.set('Content-Type', options.metrics.registry.contentType).set('Cache-Control', 'no-store').send(text);
    },
  });
  return router;
}

/** `ok`, or why not. */
async function withTimeout(check: ReadinessCheck, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${ms} ms`), ms);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(check)
        .then(
          () => 'ok',
          (e: unknown) => (e instanceof Error ? e.message : String(e)) || 'failed',
        ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
