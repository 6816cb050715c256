import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppServerError, appServerError } from './app-server-error.js';
import type { AppSession } from './app-session.js';
import { refusalPage } from './refusal-page.js';
import type { RelayTokenClaims, RelayTokenVerifier, RelayUser } from './relay-token-verifier.js';

/**
 * What the middleware puts on `req.siprelay` for a request with a valid
 * relay token.
 *
 * @example
 * ```ts
 * app.get('/', (req, res) => res.send(`Hello ${req.siprelay!.user.displayName}`));
 * ```
 */
export interface SiprelayRequestContext {
  user: RelayUser;
  service: string;
  /** The relay's session id: the key to the SIP session (`app.session(id)`). */
  sessionId: string;
  facts: Readonly<Record<string, string | number | boolean>>;
  /** The token itself, to carry on in links and API calls. */
  token: string;
  claims: RelayTokenClaims;
  /** The live session on this application server, if there is one. */
  session: AppSession | undefined;
  /** Where the token came from. */
  source: 'query' | 'header' | 'cookie';
}

declare global {
  // Express's documented way to type what middleware adds to a request.
  namespace Express {
    interface Request {
      /** Set by the siprelay middleware for a request with a valid relay token. */
      siprelay?: SiprelayRequestContext;
    }
  }
}

/**
 * The cookie the middleware sets after the first valid token, so later page loads need no `?token=`.
 *
 * @example
 * ```ts
 * web.use(app.middleware({ cookie: { sameSite: 'None', secure: true } }));
 * ```
 */
export interface TokenCookieOptions {
  /** Default `siprelay_<account name>` (cookies ignore ports, so each app server needs its own name). */
  name?: string;
  path?: string;
  /** Default `Lax`. `None` needs `secure`. */
  sameSite?: 'Lax' | 'Strict' | 'None';
  /** Default: true when the request came over HTTPS. */
  secure?: boolean;
}

/**
 * Options of {@link relayTokenMiddleware}.
 *
 * @example
 * ```ts
 * relayTokenMiddleware({ verifier, portalUrl: 'https://portal.example/', requireLiveSession: true });
 * ```
 */
export interface RelayTokenMiddlewareOptions {
  verifier: RelayTokenVerifier;
  /** Finds the live session of a session id; puts it on `req.siprelay.session`. */
  findSession?: (sessionId: string) => AppSession | undefined;
  /** The query parameter that carries the token; false to accept none. Default `token`. */
  queryParameter?: string | false;
  /** The token cookie; false for none. Default: on, see {@link TokenCookieOptions}. */
  cookie?: TokenCookieOptions | false;
  /** Refuse tokens whose session is not live on this application server (409). Default false. */
  requireLiveSession?: boolean;
  /** A link to the portal on the refusal page. */
  portalUrl?: string;
  /** The service's name on the refusal page. */
  serviceName?: string;
  /** Renders a refusal yourself (status already chosen in `error.httpStatus`). */
  render?: (error: AppServerError, req: Request, res: Response) => void;
}

/**
 * Express middleware that lets through only requests carrying a valid
 * token from the relay — so a service reached without the relay gets an
 * error (design brief, wire contracts). The token comes from `?token=`,
 * `Authorization: Bearer …`, or the cookie this middleware sets after the
 * first valid one. It is verified against the relay's JWKS (cached,
 * refetched on an unknown `kid`); `req.siprelay` gets the user, service,
 * session id and facts.
 *
 * Refusals: 401 without a token, 403 for an invalid, expired or foreign
 * one, 503 when the relay's keys cannot be fetched, 409 with
 * `requireLiveSession` when the session is over. A browser (`Accept:
 * text/html`) gets a page that says to open the service through the
 * portal; anything else gets JSON `{"error":{"code","message"}}`.
 *
 * @example
 * ```ts
 * const web = express();
 * web.use(relayTokenMiddleware({ verifier, portalUrl: 'http://localhost:8080/' }));
 * web.get('/', (req, res) => res.send(`Hello ${req.siprelay!.user.username}`));
 * ```
 */
export function relayTokenMiddleware(options: RelayTokenMiddlewareOptions): RequestHandler {
  if (options === null || typeof options !== 'object' || !options.verifier) throw new TypeError('relayTokenMiddleware needs a verifier');
  const param = options.queryParameter === undefined ? 'token' : options.queryParameter;
  if (param !== false && (typeof param !== 'string' || param === '')) throw new TypeError('queryParameter must be a name or false');
  const cookie = options.cookie === false ? undefined : { ...options.cookie };
  const cookieName = cookie?.name ?? `siprelay_${options.verifier.audience.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  if (cookie && !/^[A-Za-z0-9_-]+$/.test(cookieName)) throw new TypeError('cookie.name must be letters, digits, _ and -');
  if (cookie?.sameSite === 'None' && cookie.secure === false) throw new TypeError('a SameSite=None cookie must be secure');
  const { verifier, findSession } = options;

  return async function siprelayTokenGuard(req: Request, res: Response, next: NextFunction): Promise<void> {
    const found = findToken(req, param, cookie ? cookieName : undefined);
    try {
      if (!found) throw appServerError('APPSERVER_ERR_TOKEN_MISSING', 'this page must be opened through the portal: no relay token');
      const { claims, user, token } = await verifier.verify(found.token);
      const session = findSession?.(claims.sid);
      if (options.requireLiveSession && (!session || session.state === 'ended')) {
        throw appServerError('APPSERVER_ERR_SESSION_ENDED', `session ${claims.sid} is not live on this application server`);
      }
      req.siprelay = { user, service: claims.svc, sessionId: claims.sid, facts: claims.facts, token, claims, session, source: found.source };
      if (found.source === 'query') {
        // The token is in the URL: keep it out of Referer headers sent to other sites.
        res.setHeader('Referrer-Policy', 'same-origin');
      }
      if (cookie && found.source !== 'cookie') {
        const maxAge = Math.max(0, claims.exp - Math.floor(Date.now() / 1000));
        const secure = cookie.secure ?? req.secure;
        const parts = [`${cookieName}=${token}`, `Path=${cookie.path ?? '/'}`, `Max-Age=${maxAge}`, 'HttpOnly', `SameSite=${cookie.sameSite ?? 'Lax'}`];
        if (secure) parts.push('Secure');
        res.append('Set-Cookie', parts.join('; '));
      }
      next();
    } catch (e) {
      if (!(e instanceof AppServerError)) {
        next(e);
        return;
      }
      refuse(e, req, res, options);
    }
  };
}

function refuse(error: AppServerError, req: Request, res: Response, options: RelayTokenMiddlewareOptions): void {
  res.status(error.httpStatus);
  res.setHeader('Cache-Control', 'no-store');
  if (error.code === 'APPSERVER_ERR_TOKEN_MISSING') res.setHeader('WWW-Authenticate', 'Bearer realm="siprelay"');
  else if (error.httpStatus === 403) res.setHeader('WWW-Authenticate', 'Bearer realm="siprelay", error="invalid_token"');
  if (options.render) {
    options.render(error, req, res);
    return;
  }
  if (req.accepts(['json', 'html']) === 'html') {
    res.type('html').send(refusalPage(error, { portalUrl: options.portalUrl, serviceName: options.serviceName }));
  } else {
    res.json({ error: { code: error.code, message: error.message } });
  }
}

function findToken(req: Request, param: string | false, cookieName: string | undefined): { token: string; source: SiprelayRequestContext['source'] } | undefined {
  if (param !== false) {
    const q = (req.query as Record<string, unknown> | undefined)?.[param];
    if (typeof q === 'string' && q !== '') return { token: q, source: 'query' };
  }
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return { token: m[1], source: 'header' };
  }
  if (cookieName !== undefined) {
    const header = req.headers.cookie;
    if (typeof header === 'string') {
      for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0 && part.slice(0, eq).trim() === cookieName) {
          const v = part.slice(eq + 1).trim();
          if (v !== '') return { token: v, source: 'cookie' };
        }
      }
    }
  }
  return undefined;
}
