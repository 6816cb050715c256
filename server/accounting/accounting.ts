import { systemClock, type Clock } from '../../sip/util/clock.js';
import type { ChargeLimits } from '../billing/charge.js';
import type { RelayFee } from '../billing/ledger.js';
import type { Store } from '../store/store.js';
import { BillingReports } from './billing-reports.js';
import { ChargeService } from './charge-service.js';
import type { AccountlessCredit } from './credit-account-of.js';
import { CreditControl } from './credit-control.js';
import { CreditWatch } from './credit-watch.js';
import { GroupCommitter, type GroupCommitOptions } from './group-committer.js';
import { InDialogCharges } from './in-dialog-charges.js';
import { SessionRecorder, type LiveSession } from './session-recorder.js';
import { SessionRecovery } from './session-recovery.js';
import { TariffCatalog, type ServiceTariffConfig } from './tariff-catalog.js';

/** Options of {@link Accounting}. Only `nodeId` and `services` are required. */
export interface AccountingOptions {
  /** This relay node's id; sessions are stored with it and recovered by it after a restart. */
  readonly nodeId: string;
  /** The configured services (`config.services`): their `tariff` mappings are read here. */
  readonly services: readonly ServiceTariffConfig[];
  /** Monotonic time for durations, wall time for instants, timers. Default the system clock. */
  readonly clock?: Clock;
  /** Group commit of every durable write (default: batches of up to 256, 2 ms window). */
  readonly groupCommit?: Omit<GroupCommitOptions, 'onError'>;
  /** Limits on one charge; default the billing core's (docs/billing.md). */
  readonly chargeLimits?: ChargeLimits;
  /** Default 1000. */
  readonly maxChargesPerSession?: number;
  /** How long an ended session still takes API/INFO charges. Default 300 000 ms. */
  readonly closedSessionGraceMs?: number;
  /** Credit of users without an account. Default `none` (an empty prepaid account). */
  readonly accountless?: AccountlessCredit;
  /** Relay fee of services whose tariff names none. Default 0. */
  readonly defaultRelayFee?: RelayFee;
  /** How often liveness touches are written. Default 5000 ms. */
  readonly aliveFlushMs?: number;
  /**
   * When given, credit cut-offs are watched: called once per live session
   * whose credit ran out. The relay sends BYE to both sides and calls
   * `recorder.end(session.id, 'credit-exhausted')`.
   */
  readonly onCreditExhausted?: (session: LiveSession) => void;
  /** See {@link CreditWatchOptions.cutoffMarginMs}. Default 250 ms. */
  readonly creditCutoffMarginMs?: number;
  /** Failures nobody waits for (attempt inserts, liveness, listener faults). Default: ignored. */
  readonly onError?: (error: unknown, context: string) => void;
}

/**
 * The relay's accounting, assembled: one group committer shared by every
 * durable write, the session recorder (the relay core's
 * {@link SessionObserver}), the charge service, credit control (and, with
 * `onCreditExhausted`, the credit watch), restart recovery, and bills.
 *
 * @throws ConfigError naming the bad key when a service's tariff is wrong,
 *   so start-up stops (`services[3].tariff.pricePerMinute: is required`).
 * @example
 * ```ts
 * const accounting = new Accounting(store, { nodeId: 'relay-1', services: config.services,
 *   onCreditExhausted: (s) => relay.endSession(s.id, 'credit-exhausted') });
 * relayCore.observe(accounting.recorder);
 * ```
 */
export class Accounting {
  readonly catalog: TariffCatalog;
  readonly committer: GroupCommitter;
  readonly recorder: SessionRecorder;
  readonly charges: ChargeService;
  readonly credit: CreditControl;
  readonly recovery: SessionRecovery;
  readonly reports: BillingReports;
  readonly watch: CreditWatch | undefined;

  constructor(
    readonly store: Store,
    options: AccountingOptions,
  ) {
    const clock = options.clock ?? systemClock;
    const report = (context: string) => (e: unknown) => options.onError?.(e, context);
    this.catalog = TariffCatalog.fromConfig(options.services, { defaultRelayFee: options.defaultRelayFee });
    this.committer = new GroupCommitter(store.db, store.dialect, {
      walSync: store.walSync,
      ...options.groupCommit,
      onError: report('background write'),
    });
    this.recorder = new SessionRecorder({
      store,
      committer: this.committer,
      catalog: this.catalog,
      nodeId: options.nodeId,
      clock,
      aliveFlushMs: options.aliveFlushMs,
      onError: options.onError,
    });
    this.charges = new ChargeService({
      store,
      committer: this.committer,
      liveCosts: this.recorder,
      limits: options.chargeLimits,
      maxChargesPerSession: options.maxChargesPerSession,
      closedSessionGraceMs: options.closedSessionGraceMs,
      accountless: options.accountless,
      clock,
    });
    this.recorder.handleCharges(
      new InDialogCharges(this.charges, (r, sessionId) =>
        options.onError?.(Object.assign(new Error(`charge in a 2xx to BYE refused: ${r.code} ${r.reason}`), { code: r.code }), `session ${sessionId}`),
      ),
    );
    this.credit = new CreditControl({ store, catalog: this.catalog, recorder: this.recorder, accountless: options.accountless });
    this.recovery = new SessionRecovery({ store, committer: this.committer, recorder: this.recorder });
    this.reports = new BillingReports(store);
    this.watch = options.onCreditExhausted
      ? new CreditWatch({
          recorder: this.recorder,
          credit: this.credit,
          charges: this.charges,
          clock,
          onExhausted: options.onCreditExhausted,
          onError: report('credit watch'),
          cutoffMarginMs: options.creditCutoffMarginMs,
        })
      : undefined;
  }

  /** Stops the credit watch, writes what is pending and refuses further writes. The store stays open. */
  async close(): Promise<void> {
    this.watch?.stop();
    await this.recorder.close();
    await this.committer.close();
  }
}
