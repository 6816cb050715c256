import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { ApiKeyRepository } from '../store/api-key-repository.js';
import { API_KEY_PREFIX } from '../store/api-key-repository.js';
import { httpApiError } from './http-api-error.js';

/** Options of {@link adminAuth}. */
export interface AdminAuthOptions {
  /** `admin.token`; without it the admin API is off. */
  token: string | undefined;
  /** Admin API keys (`siprelay apikey create --admin`) are accepted too. */
  apiKeys: Pick<ApiKeyRepository, 'verify'>;
}

/**
 * Guards the admin API: `Authorization: Bearer <admin.token>` or
 * `Bearer <admin API key>` (RFC 6750 §2.1).
 *
 * - No `admin.token` configured: the admin API is off, every request gets
 *   404 `HTTP_ERR_ADMIN_DISABLED` (admin API keys do not turn it on: the
 *   token is the operator's switch).
 * - Missing or wrong credentials: 401 `HTTP_ERR_UNAUTHORIZED` with
 *   `WWW-Authenticate: Bearer realm="siprelay-admin"` (RFC 6750 §3).
 *
 * The token is compared in constant time (through SHA-256, so that lengths
 * do not matter). `res.locals.adminActor` says who it was (`token` or
 * `api-key:<id>`), for the log.
 */
export function adminAuth(options: AdminAuthOptions): RequestHandler {
  const verify = adminBearerVerifier(options);
  return async function adminAuthentication(req, res, next) {
    if (options.token === undefined) {
      return next(httpApiError('HTTP_ERR_ADMIN_DISABLED', 'the admin API is off: configure admin.token (SIPRELAY_ADMIN__TOKEN) to turn it on'));
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
    const presented = match?.[1];
    if (presented !== undefined) {
      const actor = await verify(presented);
      if (actor !== undefined) {
        res.locals.adminActor = actor;
        return next();
      }
    }
    res.setHeader('WWW-Authenticate', presented === undefined ? 'Bearer realm="siprelay-admin"' : 'Bearer realm="siprelay-admin", error="invalid_token"');
    next(
      httpApiError(
        'HTTP_ERR_UNAUTHORIZED',
        presented === undefined ? 'send Authorization: Bearer <admin token or admin API key>' : 'the token is not the admin token or an admin API key',
      ),
    );
  };
}

/**
 * The admin check alone, for other routers that guard operator endpoints
 * (`AdminVerifier` of the accounting API): who the bearer token is
 * (`token` or `api-key:<id>`), or undefined when it is neither the admin
 * token nor an admin API key, or when no admin token is configured.
 */
export function adminBearerVerifier(options: AdminAuthOptions): (bearer: string) => Promise<string | undefined> {
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async (bearer) => {
    if (expected === undefined || typeof bearer !== 'string') return undefined;
    if (timingSafeEqual(digest(bearer), expected)) return 'token';
    if (!bearer.startsWith(API_KEY_PREFIX)) return undefined;
    const identity = await options.apiKeys.verify(bearer);
    return identity?.kind === 'admin' ? `api-key:${identity.keyId}` : undefined;
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
