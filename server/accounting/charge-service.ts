import type { Kysely } from 'kysely';
import { systemClock, type Clock } from '../../sip/util/clock.js';
import { BillingError } from '../billing/billing-error.js';
import { checkRefund, createChargeValidator, type Charge, type ChargeLimits, type ChargeValidation, type ChargeValidator } from '../billing/charge.js';
import { canAcceptCharge } from '../billing/credit.js';
import { postCharge } from '../billing/ledger.js';
import type { Money } from '../billing/money.js';
import type { AccountRepository } from '../store/account-repository.js';
import { ChargeRepository, type ChargeRoute, type StoredCharge } from '../store/charge-repository.js';
import type { Database } from '../store/database.js';
import { LedgerRepository } from '../store/ledger-repository.js';
import { SessionRepository } from '../store/session-repository.js';
import type { Store } from '../store/store.js';
import { AccountingError, accountingError, type AccountingErrorCode } from './accounting-error.js';
import { creditAccountOf, type AccountlessCredit } from './credit-account-of.js';
import type { GroupCommitter } from './group-committer.js';
import type { LiveCosts } from './session-recorder.js';

/** A charge (or refund) an application server sent, by one of the three routes. */
export interface ChargeRequest {
  /** The relay session id the charge is for. */
  readonly sessionId: string;
  /**
   * The application server that sent it, as the relay authenticated it: the
   * application-server side of the dialog (INFO, 2xx to BYE) or the owner
   * of the API key (HTTP).
   */
  readonly appServer: string;
  /**
   * The HTTP `Idempotency-Key`. The charge's `id` is the idempotency key;
   * when given, it must equal the body's `id` (a body without `id` takes
   * it). INFO and BYE charges carry the key in the body only.
   */
  readonly idempotencyKey?: string;
  /** The body `application/vnd.siprelay.charge+json`: text, bytes, or already parsed JSON. */
  readonly body: string | Uint8Array | object;
  readonly route: ChargeRoute;
}

/** The outcome of {@link ChargeService.charge}. */
export type ChargeResult =
  | {
      /** `accepted`: stored now; `duplicate`: stored before under the same key (a retransmission). */
      readonly status: 'accepted' | 'duplicate';
      readonly charge: StoredCharge;
    }
  | ChargeRefusal;

/** Why a charge was refused. Nothing was stored. */
export interface ChargeRefusal {
  readonly status: 'refused';
  /** `ACCT_ERR_*` or `BILLING_ERR_*`. */
  readonly code: string;
  readonly httpStatus: number;
  readonly sipStatus: number;
  /** One line of ASCII that starts with the field at fault, fit for a SIP reason phrase. */
  readonly reason: string;
  /** Path of the field at fault (`items[2].quantity`, `refundOf`, `Idempotency-Key`). */
  readonly field?: string;
}

/** Options of {@link ChargeService}. Every limit has a default. */
export interface ChargeServiceOptions {
  readonly store: Store;
  readonly committer: GroupCommitter;
  /** The running cost of the user's live sessions, counted against their credit. Default: none. */
  readonly liveCosts?: LiveCosts;
  /** Limits on one charge (docs/billing.md). Default the billing core's. */
  readonly limits?: ChargeLimits;
  /** Most charges (and refunds) one session may have. Default 1000. */
  readonly maxChargesPerSession?: number;
  /**
   * How long after a session ended it still takes API and INFO charges, in
   * ms: an application server may post the last order just after the BYE.
   * BYE-route charges are taken whenever they come, since the 2xx to BYE is
   * the end itself. Default 300 000 (5 minutes).
   */
  readonly closedSessionGraceMs?: number;
  /** See {@link AccountlessCredit}. Default `none`. */
  readonly accountless?: AccountlessCredit;
  /** Default the system clock (`wallNow` stamps acceptance). */
  readonly clock?: Pick<Clock, 'wallNow'>;
}

type Decision = { status: 'accepted' | 'duplicate'; charge: StoredCharge } | { status: 'refused'; error: AccountingError | BillingError };

/**
 * Application charges (issue 4, item 5; design brief flow 6) by the three
 * routes — INFO in the dialog, the body of the 2xx to BYE, and the HTTP API —
 * validated by the billing core, checked against the session, the
 * application server, earlier charges and the user's credit, and stored
 * once per idempotency key with their ledger postings in one
 * group-committed transaction. The promise resolves after the commit: a
 * charge is acknowledged only once it is durable.
 *
 * Checks, in order: the body (400/413, naming the field), the session
 * exists (404 / SIP 481), the sender is the session's application server
 * (403), the key was not used before (a repeat with the same body is a
 * `duplicate` returning the first result; with another body 409), the
 * session is established and not closed beyond the grace period (409 /
 * SIP 481), the per-session limit (403), a refund names an earlier charge
 * of the same application server and does not exceed it (400/403), and the
 * user's credit covers it (402).
 */
export class ChargeService {
  private readonly validator: ChargeValidator;
  private readonly maxChargesPerSession: number;
  private readonly graceMs: number;
  private readonly accountless: AccountlessCredit;
  private readonly clock: Pick<Clock, 'wallNow'>;
  private readonly listeners = new Set<(c: StoredCharge) => void>();

  constructor(private readonly options: ChargeServiceOptions) {
    this.validator = createChargeValidator(options.limits);
    this.maxChargesPerSession = options.maxChargesPerSession ?? 1000;
    this.graceMs = options.closedSessionGraceMs ?? 300_000;
    this.accountless = options.accountless ?? 'none';
    this.clock = options.clock ?? systemClock;
    if (!Number.isSafeInteger(this.maxChargesPerSession) || this.maxChargesPerSession < 1) {
      throw new TypeError('maxChargesPerSession must be an integer >= 1');
    }
    if (!Number.isSafeInteger(this.graceMs) || this.graceMs < 0) throw new TypeError('closedSessionGraceMs must be an integer >= 0');
    if (this.accountless !== 'none' && this.accountless !== 'unlimited') throw new TypeError("accountless must be 'none' or 'unlimited'");
  }

  /** The charge limits in force. */
  get limits(): Readonly<Required<ChargeLimits>> {
    return this.validator.limits;
  }

  /**
   * Validates, checks and stores a charge. Resolves once the outcome is
   * durable; refusals store nothing. Rejects only when the store fails
   * (`ACCT_ERR_STORE`) or accounting is shut down (`ACCT_ERR_CLOSED`).
   */
  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const validation = this.validate(request);
    if (!validation.ok) return refusal(validation.error);
    const charge = validation.charge;
    const total = validation.total;
    let decision: Decision;
    try {
      decision = await this.options.committer.run((trx) => this.decide(trx, request, charge, total));
    } catch (e) {
      if (e instanceof AccountingError) throw e;
      throw accountingError('ACCT_ERR_STORE', 'the charge could not be stored; nothing was charged', undefined, e);
    }
    if (decision.status === 'refused') return refusal(decision.error);
    if (decision.status === 'accepted') {
      for (const l of this.listeners) {
        try {
          l(decision.charge);
        } catch {
          // A listener's fault must not turn a stored charge into a failure.
        }
      }
    }
    return decision;
  }

  /** Listens to accepted charges (after commit), e.g. to recompute credit cut-offs. */
  onAccepted(listener: (charge: StoredCharge) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private validate(r: ChargeRequest): ChargeValidation | { ok: false; error: AccountingError } {
    const key = r.idempotencyKey;
    if (key !== undefined && (typeof key !== 'string' || key.length === 0)) {
      return { ok: false, error: accountingError('ACCT_ERR_IDEMPOTENCY_KEY', 'Idempotency-Key: must not be empty', 'Idempotency-Key') };
    }
    let validation: ChargeValidation;
    if (typeof r.body === 'string' || r.body instanceof Uint8Array) {
      if (key === undefined) {
        validation = this.validator.parse(r.body);
      } else {
        // The header's key fills in a body without `id`: parse first, then validate.
        const size = typeof r.body === 'string' ? new TextEncoder().encode(r.body).length : r.body.length;
        if (size > this.validator.limits.maxBodyBytes) return this.validator.parse(r.body);
        let value: unknown;
        try {
          value = JSON.parse(typeof r.body === 'string' ? r.body : new TextDecoder('utf-8', { fatal: true }).decode(r.body));
        } catch {
          return this.validator.parse(r.body);
        }
        validation = this.validator.validate(withKey(value, key));
      }
    } else {
      validation = this.validator.validate(key === undefined ? r.body : withKey(r.body, key));
    }
    if (validation.ok && key !== undefined && validation.charge.id !== key) {
      return {
        ok: false,
        error: accountingError('ACCT_ERR_IDEMPOTENCY_KEY', `id: must equal the Idempotency-Key header (${JSON.stringify(key).slice(0, 140)})`, 'id'),
      };
    }
    return validation;
  }

  private async decide(trx: Kysely<Database>, r: ChargeRequest, charge: Charge, total: Money): Promise<Decision> {
    const sessions = new SessionRepository(trx);
    const charges = new ChargeRepository(trx);
    const session = await sessions.get(r.sessionId);
    const refuse = (code: AccountingErrorCode, message: string, field?: string): Decision => ({
      status: 'refused',
      error: accountingError(code, message, field),
    });
    if (!session) return refuse('ACCT_ERR_SESSION_UNKNOWN', `no session ${r.sessionId.slice(0, 64)}`);
    if (session.appServer !== r.appServer) {
      return refuse('ACCT_ERR_FORBIDDEN', `only the application server of session ${session.id} may charge it`);
    }

    const earlier = await charges.findByKey(r.appServer, charge.id);
    if (earlier) return this.repeat(earlier, r, charge);

    if (session.state === 'attempt' || session.state === 'failed' || session.state === 'cancelled') {
      return refuse('ACCT_ERR_SESSION_NOT_ESTABLISHED', `session ${session.id} is not established`);
    }
    const now = this.clock.wallNow();
    if (session.state === 'ended' && r.route !== 'bye' && session.endedAt !== null && now - session.endedAt > this.graceMs) {
      return refuse('ACCT_ERR_SESSION_CLOSED', `session ${session.id} ended more than ${Math.round(this.graceMs / 1000)} s ago`);
    }
    if ((await charges.countForSession(session.id)) >= this.maxChargesPerSession) {
      return refuse('ACCT_ERR_TOO_MANY_CHARGES', `session ${session.id} has reached ${this.maxChargesPerSession} charges`);
    }

    if (charge.refundOf !== undefined) {
      const check = checkRefund(charge, await charges.refundContext(charge.refundOf), r.appServer);
      if (!check.ok) return { status: 'refused', error: check.error };
    }

    const accounts: AccountRepository = this.options.store.accounts.withExecutor(trx);
    if (total.amount > 0) {
      const account = await accounts.lockUser(session.userId);
      const credit = creditAccountOf(account, total.currency, this.accountless);
      const pending = this.options.liveCosts?.runningCosts(session.userId) ?? [];
      let decision;
      try {
        decision = canAcceptCharge(credit, total, pending.filter((p) => p.currency === credit.currency));
      } catch (e) {
        if (e instanceof BillingError) return { status: 'refused', error: e };
        throw e;
      }
      if (!decision.ok) {
        const e = decision.error;
        if (e.code === 'BILLING_ERR_CURRENCY_MISMATCH') {
          return { status: 'refused', error: new BillingError(e.code, `items[0].currency: must be ${credit.currency}, the currency of the user's account`, 'items[0].currency') };
        }
        return {
          status: 'refused',
          error: new BillingError(e.code, account ? `insufficient credit: ${e.message}` : 'insufficient credit: the user has no account', undefined),
        };
      }
    }

    const stored = await charges.insert({
      sessionId: session.id,
      appServer: r.appServer,
      operator: session.operator,
      userId: session.userId,
      service: session.service,
      idempotencyKey: charge.id,
      refundOf: charge.refundOf ?? null,
      route: r.route,
      charge,
      total,
      acceptedAt: now,
    });
    if (!stored) {
      // Another relay stored the same key between our read and our insert.
      const first = await charges.findByKey(r.appServer, charge.id);
      if (!first) throw new Error(`charge ${charge.id} was neither inserted nor found`);
      return this.repeat(first, r, charge);
    }
    const entries = postCharge({
      chargeRef: stored.ref,
      charge,
      userId: session.userId,
      operatorId: session.operator,
      fee: session.relayFee,
      at: now,
    });
    await new LedgerRepository(trx).insert(entries);
    await accounts.applyPostings(entries);
    return { status: 'accepted', charge: stored };
  }

  /** A key seen before: the same charge again is a duplicate; anything else is a conflict. */
  private repeat(first: StoredCharge, r: ChargeRequest, charge: Charge): Decision {
    if (first.sessionId === r.sessionId && JSON.stringify(first.charge) === JSON.stringify(charge)) {
      return { status: 'duplicate', charge: first };
    }
    return {
      status: 'refused',
      error: accountingError(
        'ACCT_ERR_IDEMPOTENCY_CONFLICT',
        `id: ${JSON.stringify(charge.id).slice(0, 140)} was already used for another charge${first.sessionId === r.sessionId ? '' : ' of another session'}`,
        'id',
      ),
    };
  }
}

function withKey(value: unknown, key: string): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !('id' in value)) return { id: key, ...value };
  return value;
}

function oneLine(text: string): string {
  // A SIP reason phrase and a log line: printable ASCII only, bounded.
  const s = text.replace(/[^\x20-\x7e]/g, '?');
  return s.length > 200 ? s.slice(0, 199) + '~' : s;
}

function refusal(e: AccountingError | BillingError): ChargeRefusal {
  if (e instanceof AccountingError) {
    return {
      status: 'refused',
      code: e.code,
      httpStatus: e.httpStatus,
      sipStatus: e.sipStatus,
      reason: oneLine(e.message),
      ...(e.field !== undefined ? { field: e.field } : {}),
    };
  }
  return {
    status: 'refused',
    code: e.code,
    httpStatus: e.status,
    sipStatus: e.status,
    reason: oneLine(e.message),
    ...(e.field !== undefined && e.field !== '' ? { field: e.field } : {}),
  };
}
