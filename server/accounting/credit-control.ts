import { isBillingError } from '../billing/billing-error.js';
import { canAfford, timeUntilExhausted } from '../billing/credit.js';
import { billingUserId } from '../store/account-repository.js';
import type { Store } from '../store/store.js';
import { pricedSegments } from './close-session.js';
import { creditAccountOf, type AccountlessCredit } from './credit-account-of.js';
import type { SessionRecorder } from './session-recorder.js';
import type { TariffCatalog } from './tariff-catalog.js';

/** The outcome of a credit check the relay answers with. */
export type CreditCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** SIP status: 402 (cannot pay), 488 (a change to another currency). */
      readonly sipStatus: number;
      /** `BILLING_ERR_INSUFFICIENT_CREDIT`, `BILLING_ERR_CURRENCY_MISMATCH`. */
      readonly code: string;
      /** One line of ASCII for the reason phrase. */
      readonly reason: string;
    };

/** The user an INVITE comes from, as authentication gave it. */
export interface CreditParty {
  readonly username: string;
  readonly domain: string;
  readonly plan?: string | null;
}

/**
 * Credit control (issue 4, item 6): whether a user may start a session
 * (402 at INVITE), whether a change of service is possible (488 for a
 * tariff in another currency), and how long a live session may go on
 * before its cost would exceed the credit. The cost of the user's other
 * live sessions on this node counts against the credit.
 */
export class CreditControl {
  private readonly accountless: AccountlessCredit;

  constructor(
    private readonly options: {
      readonly store: Store;
      readonly catalog: TariffCatalog;
      readonly recorder: SessionRecorder;
      /** See {@link AccountlessCredit}. Default `none`. */
      readonly accountless?: AccountlessCredit;
    },
  ) {
    this.accountless = options.accountless ?? 'none';
  }

  /**
   * At INVITE: can the user afford the least a session of `service` costs
   * (setup fee plus minimum billable time, docs/billing.md)? A service whose
   * time is free always passes. Answer a failure with 402 Payment Required.
   */
  async checkInvite(party: CreditParty, service: string): Promise<CreditCheck> {
    const tariff = this.options.catalog.tariff(service, party.plan);
    if (!tariff) return { ok: true };
    const userId = billingUserId(party.username, party.domain);
    const account = await this.options.store.accounts.findUser(userId);
    const credit = creditAccountOf(account, tariff.currency, this.accountless);
    const d = canAfford(credit, tariff, this.options.recorder.runningCosts(userId).filter((m) => m.currency === credit.currency));
    if (d.ok) return { ok: true };
    return {
      ok: false,
      sipStatus: 402,
      code: d.error.code,
      reason: account ? oneLine(`insufficient credit: ${d.error.message}`) : 'insufficient credit: no account',
    };
  }

  /**
   * Before accepting a re-INVITE or UPDATE that changes the session to
   * `service`: the new tariff must be in the currency the session is
   * priced in (docs/billing.md, rule 1). Answer a failure with 488.
   */
  checkChange(sessionId: string, service: string): CreditCheck {
    const live = this.options.recorder.get(sessionId);
    if (!live) return { ok: true };
    const next = this.options.catalog.tariff(service, live.plan);
    const current = live.segments.find((s) => s.tariff !== null)?.tariff;
    if (!next || !current || next.currency === current.currency) return { ok: true };
    return {
      ok: false,
      sipStatus: 488,
      code: 'BILLING_ERR_CURRENCY_MISMATCH',
      reason: `service ${service} is priced in ${next.currency}, this session in ${current.currency}`,
    };
  }

  /**
   * How many ms from now the live session may go on before its time charge
   * would exceed the user's credit (always an increment boundary; 0 = end
   * it now; `Infinity` = free from now on, or the credit outlasts any
   * session). Counts the user's other live sessions. `Infinity` for a
   * session that is not live or not established.
   */
  async timeUntilExhausted(sessionId: string): Promise<number> {
    const recorder = this.options.recorder;
    const live = recorder.get(sessionId);
    if (!live || live.state !== 'established' || live.segments.length === 0) return Infinity;
    const priced = live.segments.find((s) => s.tariff !== null)?.tariff;
    if (!priced) return Infinity;
    const account = await this.options.store.accounts.findUser(live.userId);
    const credit = creditAccountOf(account, priced.currency, this.accountless);
    const elapsed = recorder.elapsedMs(sessionId);
    const p = pricedSegments(live.segments, elapsed)!;
    const others = recorder.runningCosts(live.userId, sessionId).filter((m) => m.currency === credit.currency);
    try {
      return timeUntilExhausted(credit, p.lookup, p.segments, others);
    } catch (e) {
      // A session priced in another currency than the account cannot be paid from it.
      if (isBillingError(e) && e.code === 'BILLING_ERR_CURRENCY_MISMATCH') return 0;
      throw e;
    }
  }
}

function oneLine(text: string): string {
  const s = text.replace(/[^\x20-\x7e]/g, '?');
  return s.length > 200 ? s.slice(0, 199) + '~' : s;
}
