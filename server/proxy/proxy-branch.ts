import type { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import type { ClientTransaction, ClientTransactionUser } from '../../sip/transaction/transaction-user.js';
import type { Flow, TransportError } from '../../sip/transport/transport.js';
import type { TimerHandle } from '../../sip/util/clock.js';
import type { ProxyTarget } from './proxy-target.js';
import type { ResponseContext } from './response-context.js';

/**
 * `pending` (being prepared: its next hop may still be resolving) →
 * `calling` (sent, no response yet) → `proceeding` (a provisional came) →
 * `done` (a final response came, or the proxy decided the outcome:
 * timeout, transport error, cancelled before any provisional).
 */
export type ProxyBranchState = 'pending' | 'calling' | 'proceeding' | 'done';

/** Which timer of the branch is running. */
export type ProxyBranchTimer = 'no-answer' | 'C' | 'cancel-wait';

/**
 * One forwarded copy of a request and its client transaction (RFC 3261
 * §16.6 "for each target"). It is the transaction's user, so no closure
 * is made per request: every callback goes to its response context.
 */
export class ProxyBranch implements ClientTransactionUser {
  state: ProxyBranchState = 'pending';
  /** The copy sent to the target (after Via was added, the request as sent). */
  request!: SipRequest;
  tx: ClientTransaction | undefined;
  /** The flow the copy went out on. */
  flow: Flow | undefined;
  /** Final status of this branch (a real or a synthesized one), 0 before. */
  finalStatus = 0;
  /** True once a 2xx came on this branch (RFC 6026: more may follow). */
  answered = false;
  /** True when the proxy asked to cancel this branch. */
  cancelRequested = false;
  /** What the context's owner keeps per branch (the relay: session id, milestones). */
  data: unknown;
  /** @internal */
  timer: TimerHandle | undefined;
  /** @internal */
  timerKind: ProxyBranchTimer | undefined;
  /** One bound function per branch for every timer it starts. */
  /** @internal */
  readonly fire = (): void => this.context.branchTimer(this);

  constructor(
    readonly context: ResponseContext,
    readonly target: ProxyTarget,
    /** Position among the context's branches, from 0. */
    readonly index: number,
  ) {
    this.data = target.data;
  }

  /** True until the branch has its outcome. */
  get isActive(): boolean {
    return this.state !== 'done';
  }

  onResponse(response: SipResponse, _tx: ClientTransaction): void {
    this.context.branchResponse(this, response);
  }

  onTimeout(_tx: ClientTransaction): void {
    // §16.7 / §8.1.3.1: a timeout counts as a 408 from the branch.
    this.context.branchOutcome(this, 408, undefined);
  }

  onTransportError(_tx: ClientTransaction, _error: TransportError): void {
    // §16.9: a transport error counts as a 503 from the branch.
    this.context.branchOutcome(this, 503, undefined);
  }

  onTerminated(_tx: ClientTransaction): void {
    this.context.branchTerminated(this);
  }
}
