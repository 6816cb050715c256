import { Router } from 'express';
import { route } from './method-not-allowed.js';
import type { RelayConfig } from '../config/relay-config-schema.js';
import type { Store } from '../store/store.js';

/** Options of {@link publicRouter}. */
export interface PublicRouterOptions {
  store: Pick<Store, 'signingKeys'>;
  config: Pick<RelayConfig, 'services' | 'tokens'>;
  /** `Cache-Control: max-age` of the JWKS. Default 300 s. */
  jwksMaxAgeSeconds?: number;
  /** `Cache-Control: max-age` of the service catalogue. Default 60 s. */
  servicesMaxAgeSeconds?: number;
}

/**
 * What anyone may read:
 *
 * - `GET /.well-known/jwks.json`: the public keys that verify the relay's
 *   tokens (RFC 7517 §5): the active key and keys retired less than
 *   `tokens.retiredKeyPublishSeconds` ago, newest first.
 * - `GET /api/v1/services`: the service catalogue for the portal.
 *
 * Both allow any origin (CORS `*`): they are public, and a browser app may
 * verify a token or list services itself.
 */
export function publicRouter(options: PublicRouterOptions): Router {
  const router = Router();
  const jwksMaxAge = options.jwksMaxAgeSeconds ?? 300;
  const servicesMaxAge = options.servicesMaxAgeSeconds ?? 60;
  const retiredForMs = options.config.tokens.retiredKeyPublishSeconds * 1000;
  const catalogue = {
    services: options.config.services.map((s) => ({ name: s.name, description: s.description, tariff: s.tariff ?? null })),
  };

  route(router, '/.well-known/jwks.json', {
    get: async (_req, res) => {
      const keys = await options.store.signingKeys.published({ retiredForMs });
      res.set('Cache-Control', `public, max-age=${jwksMaxAge}`).set('Access-Control-Allow-Origin', '*').json({ keys });
    },
  });

  route(router, '/api/v1/services', {
    get: (_req, res) => {
      res.set('Cache-Control', `public, max-age=${servicesMaxAge}`).set('Access-Control-Allow-Origin', '*').json(catalogue);
    },
  });
  return router;
}
