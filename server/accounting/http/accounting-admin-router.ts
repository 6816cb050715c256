import express, { Router, type Request, type RequestHandler } from 'express';
import { systemClock, type Clock } from '../../../sip/util/clock.js';
import { settlementToCsv, settlementToJson } from '../../billing/settlement.js';
import { isCurrencyCode, type CurrencyCode } from '../../billing/currency.js';
import { billingUserId } from '../../store/account-repository.js';
import { OPEN_SESSION_STATES, type SessionState } from '../../store/session-repository.js';
import type { Store } from '../../store/store.js';
import type { BillingReports } from '../billing-reports.js';
import { accountJson, chargeJson, sessionJson } from './accounting-json.js';
import { instantQuery, intQuery, periodQuery, sendBill, wantsCsv } from './query-params.js';
import { AccountingHttpError, accountingHttpErrors, bearerToken, notFound, unauthorized, validationError } from './http-errors.js';
import type { AdminVerifier } from './user-authenticator.js';

/** What {@link createAccountingAdminRouter} needs. */
export interface AccountingAdminRouterOptions {
  readonly store: Store;
  readonly reports: BillingReports;
  /** The admin API's check of `Authorization: Bearer …` (admin token or admin API key). */
  readonly verifyAdmin: AdminVerifier;
  /** The domain of users named without one (`alice` → `alice@<domain>`). */
  readonly defaultDomain: string;
  /** Told when an operator changed a user's credit (so live sessions' cut-offs are recomputed). */
  readonly onAccountChange?: (userId: string) => void;
  /** Default the system clock. */
  readonly clock?: Pick<Clock, 'wallNow'>;
  readonly onError?: (error: unknown) => void;
}

const STATES: readonly SessionState[] = ['attempt', 'answered', 'established', 'ended', 'failed', 'cancelled'];

/**
 * The operator's accounting API, an Express 5 router to mount at
 * `/admin/v1` (behind or beside the relay's admin router; it checks the
 * bearer itself with `verifyAdmin`):
 *
 * - `GET /sessions?user=&operator=&appServer=&service=&state=&live=true&from=&to=&before=&limit=`
 * - `GET /sessions/:id` — with segments and charges, and SIP internals
 * - `GET /bills?user=alice&period=2026-11[&format=csv]`
 * - `GET /settlements?operator=acme&period=2026-11[&format=csv]`
 * - `GET /accounts[?kind=user]`, `GET /accounts/users/:user`
 * - `PUT /accounts/users/:user` `{ "mode": "prepaid", "currency": "EUR", "balance": 2000 }`
 *   or `{ "mode": "postpaid", "currency": "EUR", "creditLimit": 10000 }` (integer minor units)
 * - `POST /accounts/users/:user/topup` `{ "amount": 1000, "currency": "EUR", "note": "…" }`
 */
export function createAccountingAdminRouter(options: AccountingAdminRouterOptions): Router {
  const { store, reports } = options;
  const clock = options.clock ?? systemClock;
  const router = Router();

  const admin: RequestHandler = async function accountingAdminAuth(req, _res, next) {
    const bearer = bearerToken(req);
    if (!bearer) return next(unauthorized('send Authorization: Bearer <admin token or admin API key>'));
    if (await options.verifyAdmin(bearer)) return next();
    next(unauthorized('the token is not the admin token or an admin API key'));
  };
  const json = express.json({ limit: 16 * 1024, type: ['application/json', 'application/*+json'] });

  router.get('/sessions', admin, async (req, res) => {
    const state = req.query.state;
    let states: SessionState[] | undefined;
    if (state !== undefined) {
      const list = typeof state === 'string' ? state.split(',') : undefined;
      if (!list || !list.every((s) => (STATES as readonly string[]).includes(s))) {
        throw validationError('state', `must be one or more of ${STATES.join(', ')}, separated by commas`);
      }
      states = list as SessionState[];
    }
    const live = req.query.live;
    if (live !== undefined && live !== 'true' && live !== 'false') throw validationError('live', 'must be true or false');
    if (live === 'true') states = (states ?? [...OPEN_SESSION_STATES]).filter((s) => OPEN_SESSION_STATES.includes(s));
    const list = await store.sessions.list({
      userId: userQuery(req, 'user'),
      operator: textQuery(req, 'operator'),
      appServer: textQuery(req, 'appServer'),
      service: textQuery(req, 'service'),
      states,
      from: instantQuery(req, 'from'),
      to: instantQuery(req, 'to'),
      before: instantQuery(req, 'before'),
      limit: intQuery(req, 'limit', 1, 10_000) ?? 100,
    });
    res.set('Cache-Control', 'no-store').json({ sessions: list.map((s) => sessionJson(s, { internals: true })) });
  });

  router.get('/sessions/:id', admin, async (req, res) => {
    const session = await store.sessions.get(String(req.params.id));
    if (!session) throw notFound(`no session ${String(req.params.id).slice(0, 64)}`);
    const [segments, charges] = await Promise.all([store.sessions.segments(session.id), store.charges.list({ sessionId: session.id })]);
    res.set('Cache-Control', 'no-store').json({ session: sessionJson(session, { segments, charges, internals: true }) });
  });

  router.get('/sessions/:id/charges', admin, async (req, res) => {
    const charges = await store.charges.list({ sessionId: String(req.params.id) });
    res.set('Cache-Control', 'no-store').json({ charges: charges.map(chargeJson) });
  });

  router.get('/bills', admin, async (req, res) => {
    const userId = userQuery(req, 'user');
    if (!userId) throw validationError('user', 'is required (alice or alice@portal.test)');
    sendBill(req, res, await reports.bill(userId, periodQuery(req, clock.wallNow())));
  });

  router.get('/settlements', admin, async (req, res) => {
    const operator = textQuery(req, 'operator');
    if (!operator) throw validationError('operator', 'is required');
    const settlement = await reports.settlement(operator, periodQuery(req, clock.wallNow()));
    res.set('Cache-Control', 'no-store');
    if (wantsCsv(req)) {
      res
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="settlement-${settlement.period.label}.csv"`)
        .send(settlementToCsv(settlement));
    } else {
      res.type('application/json').send(settlementToJson(settlement));
    }
  });

  router.get('/accounts', admin, async (req, res) => {
    const kind = req.query.kind;
    if (kind !== undefined && kind !== 'user' && kind !== 'operator' && kind !== 'relay') {
      throw validationError('kind', 'must be user, operator or relay');
    }
    const accounts = await store.accounts.list({ kind });
    res.set('Cache-Control', 'no-store').json({ accounts: accounts.map(accountJson) });
  });

  router.get('/accounts/users/:user', admin, async (req, res) => {
    const userId = userParam(req);
    const account = await store.accounts.findUser(userId);
    if (!account) throw notFound(`user ${userId} has no account`);
    res.set('Cache-Control', 'no-store').json({ account: accountJson(account), adjustments: await store.accounts.adjustments(account.account) });
  });

  router.put('/accounts/users/:user', admin, json, async (req, res) => {
    const userId = userParam(req);
    const body = objectBody(req, ['mode', 'currency', 'balance', 'creditLimit', 'note']);
    const mode = body.mode;
    if (mode !== 'prepaid' && mode !== 'postpaid') throw validationError('mode', 'must be prepaid or postpaid');
    const currency = currencyField(body.currency);
    const balance = body.balance === undefined ? undefined : minorUnits(body.balance, 'balance');
    if (mode === 'prepaid' && body.creditLimit !== undefined) throw validationError('creditLimit', 'is only for postpaid accounts');
    const note = noteField(body.note);
    await requireUser(userId);
    const account =
      mode === 'prepaid'
        ? await store.accounts.setUser(userId, { mode, currency, balance }, note)
        : await store.accounts.setUser(
            userId,
            { mode, currency, balance, creditLimit: body.creditLimit === undefined ? missing('creditLimit') : minorUnits(body.creditLimit, 'creditLimit', 0) },
            note,
          );
    options.onAccountChange?.(userId);
    res.set('Cache-Control', 'no-store').json({ account: accountJson(account) });
  });

  router.post('/accounts/users/:user/topup', admin, json, async (req, res) => {
    const userId = userParam(req);
    const body = objectBody(req, ['amount', 'currency', 'note']);
    const amount = minorUnits(body.amount, 'amount', 1);
    const currency = currencyField(body.currency);
    const account = await store.accounts.topUp(userId, { amount, currency }, noteField(body.note));
    options.onAccountChange?.(userId);
    res.set('Cache-Control', 'no-store').json({ account: accountJson(account) });
  });

  router.use(accountingHttpErrors(options.onError));
  return router;

  function userQuery(req: Request, name: string): string | undefined {
    const v = textQuery(req, name);
    return v === undefined ? undefined : qualify(v);
  }

  function userParam(req: Request): string {
    const v = String(req.params.user);
    if (!/^[^@\s]{1,64}(@[^@\s]{1,253})?$/.test(v)) throw validationError('user', 'must be user or user@domain');
    return qualify(v);
  }

  function qualify(user: string): string {
    const at = user.indexOf('@');
    return at < 0 ? billingUserId(user, options.defaultDomain) : billingUserId(user.slice(0, at), user.slice(at + 1));
  }

  async function requireUser(userId: string): Promise<void> {
    const at = userId.lastIndexOf('@');
    if (!(await store.subscribers.find(userId.slice(0, at), userId.slice(at + 1)))) throw notFound(`no user ${userId}`);
  }
}

function textQuery(req: Request, name: string): string | undefined {
  const v = req.query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '' || v.length > 256) throw validationError(name, 'must be one non-empty value');
  return v;
}

function objectBody(req: Request, allowed: readonly string[]): Record<string, unknown> {
  const body: unknown = req.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || Buffer.isBuffer(body)) {
    throw new AccountingHttpError(400, 'HTTP_ERR_VALIDATION', 'the body must be a JSON object');
  }
  for (const k of Object.keys(body)) if (!allowed.includes(k)) throw validationError(k.slice(0, 64), 'is not a known field');
  return body as Record<string, unknown>;
}

function minorUnits(v: unknown, field: string, min = -Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw validationError(field, `must be an integer count of minor units${min > -Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ''}`);
  }
  return v;
}

function currencyField(v: unknown): CurrencyCode {
  if (!isCurrencyCode(v)) throw validationError('currency', 'must be an ISO 4217 code such as EUR');
  return v;
}

function noteField(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length > 500) throw validationError('note', 'must be text of at most 500 characters');
  return v;
}

function missing(field: string): never {
  throw validationError(field, 'is required');
}
