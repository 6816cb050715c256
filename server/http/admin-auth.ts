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
  const expected = options.token === undefined ? undefined : digest(options.token);
  return async function adminAuthentication(req, res, next) {
    if (expected === undefined) {
      return next(httpApiError('HTTP_ERR_ADMIN_DISABLED', 'the admin API is off: configure admin.token (SIPRELAY_ADMIN__TOKEN) to turn it on'));
    }
    const header = req.get('authorization') ?? '';
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
    const presented = match?.[1];
    if (presented !== undefined) {
      if (timingSafeEqual(digest(presented), expected)) {
        res.locals.adminActor = 'token';
        return next();
      }
      if (presented.startsWith(API_KEY_PREFIX)) {
        const identity = await options.apiKeys.verify(presented);
        if (identity?.kind === 'admin') {
          res.locals.adminActor = `api-key:${identity.keyId}`;
          return next();
        }
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

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}
