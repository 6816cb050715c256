import type { Session } from '../../../sip/ua/session.js';
import type { TimeTariff } from '../billing/time-tariff.js';
import type { PortalProblem } from './portal-problem.js';
import type { ReceivedCharge } from './received-charge.js';
import type { ServiceDescriptor } from './service-descriptor.js';
import type { SessionEnd } from './session-end.js';

/**
 * One service session as the portal shows it in a pane: the SIP session
 * (one dialog through the relay), the application server's descriptor, the
 * clock and the charges. Fields change as the session goes on; the portal
 * client notifies its subscribers after each change.
 */
export class ServiceSession {
  readonly kind = 'session' as const;
  /** The descriptor in force: from the 2xx, replaced by the 2xx of each accepted change. */
  descriptor: ServiceDescriptor | undefined;
  /** The details in force (the INVITE's, then each accepted change's). */
  details: Readonly<Record<string, unknown>> | undefined;
  /** Application charges in arrival order. */
  readonly charges: ReceivedCharge[] = [];
  /** Set once the session is over. */
  end: SessionEnd | undefined;
  /** A change (re-INVITE/UPDATE) is in flight. */
  changing = false;
  /** Why the last change was refused. */
  changeProblem: PortalProblem | undefined;
  /** Bumped to reload the pane's page (after an accepted change). */
  frameRevision = 0;
  /** Sessions this one handed the user over to (REFER or transfer). */
  readonly linkedTo: ServiceSession[] = [];
  /** A line about a hand-over in progress or done. */
  transferNote: string | undefined;
  /** After a reconnect: what the portal found out about this session. */
  recoveryNote: string | undefined;
  /** True while the WebSocket is down: the session may be unreachable. */
  connectionLost = false;
  /**
   * The user opened it just now: its pane takes focus (and scrolls into
   * view) when it first shows — not for a pane that appears by itself, such
   * as after a hand-over, which would pull focus from where the user is.
   */
  takeFocus = false;

  constructor(
    /** Local id, unique in the page. */
    readonly key: string,
    readonly service: string,
    readonly sip: Session,
    /** `Date.now()` when the 2xx came and the portal ACKed it: the pane's clock starts here. */
    readonly startedAt: number,
    /** `performance.now()` of the click that opened it. */
    readonly clickedAt: number,
    /** The time tariff of the service (catalogue), if its time is charged. */
    readonly tariff: TimeTariff | undefined,
    /** The compare group (the bookstore comparison): the sessions of one forked INVITE. */
    readonly group: string | undefined,
    /** The session this one continues (transfer). */
    readonly linkedFrom: ServiceSession | undefined,
    descriptor: ServiceDescriptor | undefined,
    details: Readonly<Record<string, unknown>> | undefined,
  ) {
    this.descriptor = descriptor;
    this.details = details;
  }

  get live(): boolean {
    return this.end === undefined;
  }

  /** What to call the service in sentences: the descriptor's title, else its name. */
  get displayName(): string {
    return this.descriptor?.title ?? this.service;
  }

  /** Milliseconds of session time at `now` (`Date.now()`), frozen at the end. */
  elapsedMs(now: number): number {
    return Math.max(0, (this.end?.at ?? now) - this.startedAt);
  }
}
