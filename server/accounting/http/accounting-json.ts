import { moneyToDecimalString, type Money } from '../../billing/money.js';
import type { Account } from '../../store/account-repository.js';
import type { StoredCharge } from '../../store/charge-repository.js';
import type { SessionRecord, SessionSegmentRecord } from '../../store/session-repository.js';

/** Money on the wire: integer minor units and the code, plus the exact decimal for people. */
export interface MoneyJson {
  readonly amount: number;
  readonly currency: string;
  readonly decimal: string;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function moneyJson(m: Money): MoneyJson {
  return { amount: m.amount, currency: m.currency, decimal: moneyToDecimalString(m) };
}

/** A stored charge as the API shows it (the same body for a first answer and a retried key). */
export function chargeJson(c: StoredCharge) {
  return {
    ref: c.ref,
    id: c.idempotencyKey,
    sessionId: c.sessionId,
    appServer: c.appServer,
    service: c.service,
    route: c.route,
    refundOf: c.refundOf,
    items: c.charge.items,
    total: moneyJson(c.total),
    acceptedAt: iso(c.acceptedAt),
  };
}

/**
 * A session record as the API shows it. `internals` (the operator's view)
 * adds the SIP identifiers and the owning node.
 */
export function sessionJson(
  s: SessionRecord,
  extra: { segments?: readonly SessionSegmentRecord[]; charges?: readonly StoredCharge[]; internals?: boolean } = {},
) {
  return {
    id: s.id,
    state: s.state,
    user: s.userId,
    service: s.service,
    appServer: s.appServer,
    operator: s.operator,
    forkGroup: s.forkGroup,
    linkedFrom: s.linkedFrom,
    requestedAt: iso(s.requestedAt),
    answeredAt: iso(s.answeredAt),
    startedAt: iso(s.startedAt),
    endedAt: iso(s.endedAt),
    durationMs: s.durationMs,
    endedBy: s.endedBy,
    endReason: s.endReason,
    sipStatus: s.sipStatus,
    tariffId: s.rating?.tariffId ?? s.tariff?.id ?? null,
    billableSeconds: s.rating?.billableSeconds ?? null,
    amount: s.amount ? moneyJson(s.amount) : null,
    ...(extra.segments
      ? {
          segments: extra.segments.map((g) => ({
            seq: g.seq,
            service: g.service,
            startedAt: iso(g.startedAt),
            offsetMs: g.offsetMs,
            details: g.details,
            tariffId: g.tariff?.id ?? null,
          })),
        }
      : {}),
    ...(extra.charges ? { charges: extra.charges.map(chargeJson) } : {}),
    ...(extra.internals
      ? {
          callId: s.callId,
          callerTag: s.callerTag,
          calleeTag: s.calleeTag,
          nodeId: s.nodeId,
          lastAliveAt: iso(s.lastAliveAt),
          ratingError: s.ratingError,
          plan: s.plan,
        }
      : {}),
  };
}

/** An account as the admin API shows it. */
export function accountJson(a: Account) {
  const m = (amount: number | null) => (amount === null ? null : moneyJson({ amount, currency: a.currency }));
  return {
    account: a.account,
    kind: a.kind,
    owner: a.owner,
    mode: a.creditMode,
    currency: a.currency,
    balance: a.kind === 'user' ? m(a.balance) : null,
    creditLimit: m(a.creditLimit),
    /** What the user may still spend (before live sessions): balance, or limit less what is owed. */
    available: a.creditMode === 'prepaid' ? m(a.balance) : a.creditMode === 'postpaid' ? m((a.creditLimit ?? 0) + a.balance) : null,
    createdAt: iso(a.createdAt),
    updatedAt: iso(a.updatedAt),
  };
}
