import express, { Router, type Request, type RequestHandler } from 'express';
import { systemClock, type Clock } from '../../../sip/util/clock.js';
import { API_KEY_PREFIX } from '../../store/api-key-repository.js';
import { billingUserId } from '../../store/account-repository.js';
import type { SessionRecord } from '../../store/session-repository.js';
import type { Store } from '../../store/store.js';
import type { BillingReports } from '../billing-reports.js';
import type { ChargeService } from '../charge-service.js';
import { chargeJson, sessionJson } from './accounting-json.js';
import { AccountingHttpError, accountingHttpErrors, bearerToken, notFound, unauthorized } from './http-errors.js';
import { instantQuery, intQuery, periodQuery, sendBill } from './query-params.js';
import type { AdminVerifier, UserAuthenticator } from './user-authenticator.js';

/** What {@link createAccountingApiRouter} needs. */
export interface AccountingApiRouterOptions {
  readonly store: Store;
  readonly charges: ChargeService;
  readonly reports: BillingReports;
  /** Users' bearer tokens (the JWT the relay issues to the portal). */
  readonly users: UserAuthenticator;
  /** The operator's token, which may read any session. */
  readonly verifyAdmin: AdminVerifier;
  /** Default the system clock (`wallNow` gives the current bill period). */
  readonly clock?: Pick<Clock, 'wallNow'>;
  /** Faults of the router (500s), for the log. */
  readonly onError?: (error: unknown) => void;
}

const CHARGE_TYPES = ['application/json', 'application/*+json'];
/** Longest Idempotency-Key header accepted (the charge's `id` is at most `maxIdLength`). */
const MAX_KEY_HEADER = 256;

/**
 * The accounting part of the public HTTP API, an Express 5 router to mount
 * at `/api/v1`:
 *
 * - `POST /sessions/:id/charges` — an application server charges a session
 *   (`Authorization: Bearer <its API key>`, `Idempotency-Key` required,
 *   body `application/vnd.siprelay.charge+json` or `application/json`).
 *   201 with the stored charge; 200 with the same body when the key was
 *   used before for the same charge; errors name the field.
 * - `GET /sessions/:id` — the session with its segments and charges, for
 *   its application server (API key), its user (user token) or the
 *   operator (admin token). Anyone else gets 404.
 * - `GET /me/sessions?limit=&before=` — the calling user's sessions, newest first.
 * - `GET /me/bill?period=2026-11` — the calling user's bill (JSON; CSV with
 *   `Accept: text/csv` or `format=csv`). Default period: this month.
 *
 * @example
 * ```ts
 * http.mount('/api/v1', createAccountingApiRouter({ store, charges, reports, users, verifyAdmin }));
 * ```
 */
export function createAccountingApiRouter(options: AccountingApiRouterOptions): Router {
  const { store, charges, reports, users } = options;
  const clock = options.clock ?? systemClock;
  const router = Router();

  const rawCharge = express.raw({ type: () => true, limit: charges.limits.maxBodyBytes });

  router.post('/sessions/:id/charges', requireChargeBody, rawCharge, async (req, res) => {
    const bearer = bearerToken(req);
    if (!bearer) throw unauthorized('send Authorization: Bearer <API key of the application server>');
    const identity = bearer.startsWith(API_KEY_PREFIX) ? await store.apiKeys.verify(bearer) : undefined;
    if (!identity || identity.kind !== 'app-server') throw unauthorized('the token is not the API key of an application server');
    const key = req.get('idempotency-key');
    if (key === undefined || key.trim() === '') {
      throw new AccountingHttpError(400, 'ACCT_ERR_IDEMPOTENCY_KEY', 'Idempotency-Key: the header is required', 'Idempotency-Key');
    }
    if (key.length > MAX_KEY_HEADER) {
      throw new AccountingHttpError(400, 'ACCT_ERR_IDEMPOTENCY_KEY', `Idempotency-Key: must be at most ${MAX_KEY_HEADER} characters`, 'Idempotency-Key');
    }
    // A JSON body parsed earlier by the application's own parser is taken as it is.
    const body: string | Uint8Array | object = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : (req.body ?? '');
    const result = await charges.charge({
      sessionId: String(req.params.id),
      appServer: identity.appServer,
      idempotencyKey: key.trim(),
      body,
      route: 'api',
    });
    if (result.status === 'refused') {
      throw new AccountingHttpError(result.httpStatus, result.code, result.reason, result.field);
    }
    res
      .status(result.status === 'accepted' ? 201 : 200)
      .set('Cache-Control', 'no-store')
      .json({ charge: chargeJson(result.charge) });
  });

  router.get('/sessions/:id', async (req, res) => {
    const bearer = bearerToken(req);
    if (!bearer) throw unauthorized('send Authorization: Bearer <API key, user token or admin token>');
    const session = await store.sessions.get(String(req.params.id));
    const viewer = await whoMaySee(bearer, session);
    if (!session || !viewer) {
      if (!viewer && !(await isAnyone(bearer))) throw unauthorized('the token is not valid');
      throw notFound(`no session ${String(req.params.id).slice(0, 64)}`);
    }
    const [segments, sessionCharges] = await Promise.all([
      store.sessions.segments(session.id),
      store.charges.list({ sessionId: session.id }),
    ]);
    res.set('Cache-Control', 'no-store').json({ session: sessionJson(session, { segments, charges: sessionCharges, internals: viewer === 'admin' }) });
  });

  router.get('/me/sessions', async (req, res) => {
    const userId = await userOf(req);
    const limit = intQuery(req, 'limit', 1, 1000) ?? 100;
    const before = instantQuery(req, 'before');
    const list = await store.sessions.list({ userId, limit, before });
    res.set('Cache-Control', 'no-store').json({ sessions: list.map((s) => sessionJson(s)) });
  });

  router.get('/me/bill', async (req, res) => {
    const userId = await userOf(req);
    const period = periodQuery(req, clock.wallNow());
    sendBill(req, res, await reports.bill(userId, period));
  });

  router.use(accountingHttpErrors(options.onError));
  return router;

  async function userOf(req: Request): Promise<string> {
    const bearer = bearerToken(req);
    if (!bearer) throw unauthorized('send Authorization: Bearer <user token>');
    const user = await users.verify(bearer);
    if (!user) throw unauthorized('the token is not a valid user token');
    return billingUserId(user.username, user.domain);
  }

  async function whoMaySee(bearer: string, session: SessionRecord | undefined): Promise<'admin' | 'app-server' | 'user' | undefined> {
    if (bearer.startsWith(API_KEY_PREFIX)) {
      const identity = await store.apiKeys.verify(bearer);
      if (identity?.kind === 'admin') return 'admin';
      if (identity?.kind === 'app-server' && session && identity.appServer === session.appServer) return 'app-server';
      return undefined;
    }
    if (await options.verifyAdmin(bearer)) return 'admin';
    const user = await users.verify(bearer);
    if (user && session && billingUserId(user.username, user.domain) === session.userId) return 'user';
    return undefined;
  }

  async function isAnyone(bearer: string): Promise<boolean> {
    if (bearer.startsWith(API_KEY_PREFIX)) return (await store.apiKeys.verify(bearer)) !== undefined;
    return (await options.verifyAdmin(bearer)) || (await users.verify(bearer)) !== undefined;
  }
}

/** 415 for a charge body that is not JSON: a form post is not read as an empty charge. */
const requireChargeBody: RequestHandler = function requireChargeBody(req, _res, next) {
  if (req.is(CHARGE_TYPES) === false) {
    return next(
      new AccountingHttpError(
        415,
        'HTTP_ERR_MEDIA_TYPE',
        `the body must be application/vnd.siprelay.charge+json or application/json, not ${req.get('content-type') ?? 'untyped'}`,
      ),
    );
  }
  next();
};

