import type { SipUri } from '../../sip/grammar/uri.js';
import type { ClientTransaction } from '../../sip/transaction/transaction-user.js';
import type { TimerHandle } from '../../sip/util/clock.js';
import type { ServiceTarget } from '../relay-ports.js';

/**
 * One target of the directory: the {@link ServiceTarget} the relay core
 * sees, plus the directory's own health and probing state. The core gets
 * these objects from `lookup()` and hands them back to `adjustLoad()`; it
 * must treat them as read-only.
 */
export class DirectoryTarget implements ServiceTarget {
  load = 0;
  /** Routable: answering its probes (or not probed yet). */
  up = true;
  /** Status of the last final answer to a probe; 0 before any, -1 after a timeout or transport error. */
  lastStatus = 0;
  /** For a registered target: it is reachable only over `flowId`. */
  flowBound = false;
  /** For a registered target: wall-clock ms when its registration runs out. */
  expiresAt: number | undefined;
  /** Set once the target left the directory; late probe answers are then ignored. */
  removed = false;
  /** Monotonic ms of the next probe, or undefined when none is scheduled. */
  nextProbeAt: number | undefined;
  probeTimer: TimerHandle | undefined;
  /** The OPTIONS transaction in flight: never more than one per target. */
  inFlight: ClientTransaction | undefined;
  /** When the probe in flight counts as unanswered (before the transaction's own timeout). */
  deadline: TimerHandle | undefined;
  expiryTimer: TimerHandle | undefined;

  constructor(
    readonly service: string,
    readonly appServer: string,
    readonly uri: SipUri,
    public flowId: string | undefined,
    public weight: number,
    readonly source: 'registered' | 'static',
    /** Identity within the directory: source, application server and URI. */
    readonly key: string,
  ) {}
}
