import type { NameAddress } from '../grammar/name-address.js';
import type { SipRequest } from '../message/sip-request.js';
import type { ServerTransaction } from '../transaction/transaction-user.js';
import type { Flow } from '../transport/transport.js';
import type { ReplacesValue } from '../dialog/replaces.js';
import { IncomingRequest } from './incoming-request.js';
import type { ResponseOptions } from './message-options.js';
import { ReferNotifier } from './refer-notifier.js';
import type { Session } from './session.js';

/**
 * A REFER in a session (RFC 3515): the peer asks us to send a request
 * (usually INVITE) to `referTo`. Accepting answers 202 Accepted and starts
 * the implicit subscription: the returned {@link ReferNotifier} sends the
 * 100 Trying NOTIFY at once and later ones as the application reports the
 * referenced request's progress. Rejecting answers the status given (603
 * Declined is usual). With no `refer` listener the core declines with 603.
 *
 * The core does not send the referenced request itself: the application
 * does (`core.invite(refer.referTo.uri, { replaces: refer.replaces })`),
 * since only it knows what the new session is for.
 */
export class IncomingRefer extends IncomingRequest {
  /** The Refer-To value (§2.1); its URI may carry headers such as Replaces. */
  readonly referTo: NameAddress;
  /** The Referred-By value (RFC 3892), if any. */
  readonly referredBy: NameAddress | undefined;
  /** The dialog to replace, from the Refer-To URI's `Replaces` header (RFC 3891 §7). */
  readonly replaces: ReplacesValue | undefined;
  /** False when the REFER carries `Refer-Sub: false` (RFC 4488): no NOTIFY will be sent. */
  readonly subscribe: boolean;
  private readonly session: Session;

  constructor(
    session: Session,
    request: SipRequest,
    transaction: ServerTransaction,
    flow: Flow,
    parsed: { referTo: NameAddress; referredBy: NameAddress | undefined; replaces: ReplacesValue | undefined; subscribe: boolean },
  ) {
    super(session, request, transaction, flow);
    this.session = session;
    this.referTo = parsed.referTo;
    this.referredBy = parsed.referredBy;
    this.replaces = parsed.replaces;
    this.subscribe = parsed.subscribe;
  }

  /**
   * Answers 202 Accepted (RFC 3515 §2.4.2) and, unless the REFER asked for
   * no subscription, sends the first NOTIFY (100 Trying, §2.4.4). Returns
   * the notifier for the later ones.
   */
  override accept(options?: ResponseOptions): ReferNotifier {
    const headers = this.subscribe ? options?.headers : [...(options?.headers ?? []), ['Refer-Sub', 'false'] as const];
    this.respond(202, { ...options, headers });
    const notifier = new ReferNotifier(this.session, this.request.cseq.seq, this.subscribe);
    if (this.subscribe) notifier.notify(100).catch((e: unknown) => this.session.reportError(e, 'first NOTIFY of a REFER failed'));
    return notifier;
  }
}
