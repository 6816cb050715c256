import { createResponse } from '../../sip/message/create-response.js';
import type { SipRequest } from '../../sip/message/sip-request.js';
import type { SipResponse } from '../../sip/message/sip-response.js';
import type { ServerTransaction, ServerTransactionUser } from '../../sip/transaction/transaction-user.js';
import type { Flow } from '../../sip/transport/transport.js';
import { newTag } from '../../sip/util/random.js';
import { isBetterResponse, relayedStatus } from './best-response.js';
import { ProxyBranch } from './proxy-branch.js';
import type { ProxyCore } from './proxy-core.js';
import type { ForkMode, ProxyTarget } from './proxy-target.js';
import { retryAfterSeconds } from './target-backoff.js';
import { pickBalanced, targetKey } from './target-selection.js';

/**
 * What the owner of a response context (the relay core) is told, and
 * where it may act. Implemented on one object for every context, so the
 * proxy makes no closure per request.
 */
export interface ResponseContextOwner {
  /**
   * A branch's copy is ready (Request-URI set, Max-Forwards done) and is
   * about to be resolved and sent: add per-branch header fields here
   * (the relay asserts identity). Throwing fails the branch with 500.
   */
  branchStarting(context: ResponseContext, branch: ProxyBranch): void;
  /** The branch's copy went out (the relay reports the attempt). */
  branchSent?(context: ResponseContext, branch: ProxyBranch): void;
  /**
   * A 2xx, or the final response chosen for the client, is about to be
   * relayed upstream. `true`: relay now. `false`: drop it. A promise:
   * relay (or drop) when it settles — "store first, then relay". Not
   * called for provisional responses. `branch` is undefined for a
   * response the proxy made itself (408, 487, 500...).
   */
  beforeRelay(context: ResponseContext, branch: ProxyBranch | undefined, response: SipResponse): boolean | Promise<boolean>;
  /** A branch ended without a 2xx: its final status (or the one the proxy stood in for it). */
  branchFailed?(context: ResponseContext, branch: ProxyBranch, status: number): void;
  /** Every branch has its outcome and the client has its final response. */
  contextEnded?(context: ResponseContext): void;
}

/** `forwarding` → `accepted` (a 2xx went upstream) or `completed` (a final non-2xx went upstream) → `ended`. */
export type ResponseContextState = 'forwarding' | 'accepted' | 'completed' | 'ended';

const REASON_COMPLETED_ELSEWHERE: ReadonlyArray<readonly [string, string]> = [['Reason', 'SIP;cause=200;text="Call completed elsewhere"']];

/**
 * The response context of a stateful proxy (RFC 3261 §16.7): one per
 * proxied server transaction, holding its branches, choosing the best
 * final response, relaying provisional and 2xx responses as they come,
 * handling CANCEL (§16.10) and timer C (§16.8), and running the fork
 * mode: `race` and `all` fork in parallel, `balance` one target at a
 * time, `single` sends to one target with no failover.
 */
export class ResponseContext implements ServerTransactionUser {
  readonly isInvite: boolean;
  /** What the owner keeps per context (the relay: party, service, dialog). */
  data: unknown;
  readonly branches: ProxyBranch[] = [];
  private _state: ResponseContextState = 'forwarding';
  /** Targets `balance` mode has not tried yet. */
  private remaining: ProxyTarget[] = [];
  private active = 0;
  /** A 2xx was taken for relaying (no non-2xx final may go upstream any more). */
  private answered = false;
  private cancelled = false;
  /** After a 6xx, a 2xx in `race`, a CANCEL or a non-failover answer in `balance`: no new branches (§16.7 step 5). */
  private closedToNewBranches = false;
  private bestStatus: number | undefined;
  private bestResponse: SipResponse | undefined;
  private bestBranch: ProxyBranch | undefined;
  /** A status the owner forced for the final response (an answer it refused to relay). */
  private forcedStatus: number | undefined;
  /** Relays waiting on the owner's promise. */
  private relaysPending = 0;
  private starting = false;
  /** A final response for upstream was decided (a 2xx taken, or the best non-2xx chosen). */
  private finalChosen = false;
  /** 2xx responses actually sent upstream. */
  private sent2xx = 0;

  constructor(
    readonly proxy: ProxyCore,
    readonly serverTransaction: ServerTransaction,
    /** The request as the proxy forwards it: Route processing done, Max-Forwards decremented. The branches are copies. */
    readonly request: SipRequest,
    /** The flow the request came in on. */
    readonly inFlow: Flow,
    readonly owner: ResponseContextOwner,
    readonly mode: ForkMode,
    /** Loop-detection part of every branch's Via branch (§16.6 step 8). */
    readonly loopToken: string,
    /** Record-route the branches (§16.6 step 4): dialog-creating requests the relay must stay in the path of. */
    readonly recordRoute: boolean,
  ) {
    this.isInvite = request.method === 'INVITE';
    serverTransaction.user = this;
  }

  get state(): ResponseContextState {
    return this._state;
  }

  /** True once a CANCEL (or the owner) cancelled the context. */
  get isCancelled(): boolean {
    return this.cancelled;
  }

  /**
   * Starts forwarding to `targets`: every one at once in `race` and
   * `all`, the best one first in `balance`, the first in `single`.
   * With no target at all the client gets 480.
   */
  start(targets: readonly ProxyTarget[]): void {
    this.starting = true;
    try {
      if (this.mode === 'balance') {
        this.remaining = targets.slice();
        this.startNextBalanced();
      } else if (this.mode === 'single') {
        if (targets.length) this.startBranch(targets[0]);
      } else {
        for (let i = 0; i < targets.length && !this.closedToNewBranches; i++) this.startBranch(targets[i]);
      }
    } finally {
      this.starting = false;
    }
    if (this.branches.length === 0 && this.bestStatus === undefined) this.considerLocal(480);
    this.maybeFinish();
  }

  /**
   * CANCEL from the client (§16.10): no new branches, and every pending
   * branch is cancelled. A branch that has had a provisional response
   * gets a CANCEL and answers 487 itself; one that has had none yet
   * cannot be cancelled now (§9.1), so the proxy stands in a 487 for it at
   * once, and the CANCEL follows if a provisional ever comes.
   */
  cancel(): void {
    if (this.cancelled || this._state === 'ended') return;
    this.cancelled = true;
    this.closedToNewBranches = true;
    this.remaining.length = 0;
    for (const b of this.branches) if (b.isActive) this.cancelBranch(b, undefined);
    this.maybeFinish();
  }

  // ---- branches -------------------------------------------------------------

  private startBranch(target: ProxyTarget): void {
    const branch = new ProxyBranch(this, target, this.branches.length);
    this.branches.push(branch);
    this.active++;
    this.proxy.launchBranch(this, branch);
  }

  /** `balance`: start the best target not yet tried and not held back by Retry-After. */
  private startNextBalanced(): void {
    while (this.remaining.length && !this.closedToNewBranches) {
      const i = pickBalanced(this.remaining, this.proxy.backoff, this.proxy.random);
      if (i < 0) {
        // Every target left asked to be left alone for a while.
        this.remaining.length = 0;
        if (this.bestStatus === undefined) this.considerLocal(480);
        return;
      }
      const target = this.remaining[i];
      this.remaining.splice(i, 1);
      this.startBranch(target);
      // A branch that failed at once (unreachable) lets the loop go on.
      if (this.branches[this.branches.length - 1].isActive) return;
    }
  }

  /** A response arrived on a branch's client transaction. */
  branchResponse(branch: ProxyBranch, response: SipResponse): void {
    const status = response.status;
    if (status < 200) {
      if (branch.state === 'calling') branch.state = 'proceeding';
      if (branch.state !== 'proceeding') return;
      // §16.7 step 2: 101-199 resets timer C; any response ends the no-answer wait.
      if (this.isInvite && (status > 100 || branch.timerKind === 'no-answer')) this.proxy.armTimerC(branch);
      else if (branch.timerKind === 'no-answer') this.proxy.stopBranchTimer(branch);
      // §16.7 step 5 forwards provisionals, but never 100 (the proxy sent its own, §16.2).
      if (status === 100 || this._state !== 'forwarding' || branch.cancelRequested) return;
      this.proxy.popOwnVia(response);
      this.serverTransaction.respond(response);
      return;
    }
    if (status < 300) {
      this.branch2xx(branch, response);
      return;
    }
    this.branchOutcome(branch, status, response);
  }

  private branch2xx(branch: ProxyBranch, response: SipResponse): void {
    const first = !branch.answered;
    branch.answered = true;
    if (branch.state !== 'done') {
      branch.state = 'done';
      branch.finalStatus = response.status;
      this.proxy.stopBranchTimer(branch);
      this.active--;
    } else if (first && !this.isInvite) {
      // A non-INVITE branch the proxy already gave up on: too late.
      return;
    }
    if (!this.isInvite) {
      // One final response per non-INVITE transaction (§16.7 step 5 forwards the first 2xx).
      if (this.finalChosen) return this.maybeFinish();
      this.finalChosen = true;
      this.answered = true;
      this.relay(branch, response, true);
      this.closeAfterAnswer();
      return this.maybeFinish();
    }
    const firstOfContext = !this.answered;
    this.answered = true;
    this.finalChosen = true;
    // §16.7 step 5: every 2xx to INVITE goes upstream at once, retransmissions and further forks included.
    // Relayed before the others are cancelled, so that their outcomes never overtake it.
    this.relay(branch, response, true);
    if (firstOfContext) this.closeAfterAnswer();
    this.maybeFinish();
  }

  /** After the first 2xx: `race` cancels the others (§16.7 step 10); `balance` and `single` try nothing more; `all` keeps going. */
  private closeAfterAnswer(): void {
    if (this.mode === 'all') return;
    this.closedToNewBranches = true;
    this.remaining.length = 0;
    if (this.isInvite) for (const b of this.branches) if (b.isActive) this.cancelBranch(b, REASON_COMPLETED_ELSEWHERE);
  }

  /**
   * A branch has its outcome without a 2xx: a final response, or a status
   * the proxy stands in (408 timeout, 503 transport error, 430 flow gone,
   * 487 cancelled before any provisional). Later responses of that
   * transaction are ignored, except a 2xx.
   */
  branchOutcome(branch: ProxyBranch, status: number, response: SipResponse | undefined): void {
    if (branch.state === 'done') return;
    branch.state = 'done';
    branch.finalStatus = status;
    this.proxy.stopBranchTimer(branch);
    this.active--;
    this.owner.branchFailed?.(this, branch, status);
    if (!this.answered && isBetterResponse(status, this.bestStatus)) {
      this.bestStatus = status;
      this.bestResponse = response;
      this.bestBranch = response ? branch : undefined;
    }
    if (status >= 600 && this.isInvite) {
      // §16.7 step 5: a 6xx cancels every pending branch and allows no new one.
      this.closedToNewBranches = true;
      this.remaining.length = 0;
      for (const b of this.branches) if (b.isActive) this.cancelBranch(b, undefined);
    }
    if (this.mode === 'balance' && !this.closedToNewBranches && !this.answered) {
      if (isFailover(status)) {
        if (status === 503 && response) {
          const seconds = retryAfterSeconds(response.header('retry-after'));
          if (seconds !== undefined) this.proxy.backoff.hold(targetKey(branch.target), seconds);
        }
        this.startNextBalanced();
      } else {
        // A real answer (486, 404, 6xx…) is the service's answer: no other target is asked.
        this.closedToNewBranches = true;
        this.remaining.length = 0;
      }
    }
    this.maybeFinish();
  }

  /** A branch timer fired (no answer, timer C, or the wait after timer C's CANCEL). */
  branchTimer(branch: ProxyBranch): void {
    const kind = branch.timerKind;
    branch.timer = undefined;
    branch.timerKind = undefined;
    if (branch.state === 'done') return;
    if (kind === 'C' && branch.state === 'proceeding' && branch.tx !== undefined && branch.tx.isInvite) {
      // §16.8: timer C with a provisional received: CANCEL, and wait a while for the 487.
      branch.cancelRequested = true;
      branch.tx.cancel();
      this.proxy.armCancelWait(branch);
      return;
    }
    // §16.8: no provisional (or the CANCEL went unanswered): as if the branch answered 408.
    if (branch.tx !== undefined && branch.tx.isInvite) branch.tx.cancel();
    branch.cancelRequested = true;
    this.branchOutcome(branch, 408, undefined);
  }

  /** The branch's client transaction ended. */
  branchTerminated(branch: ProxyBranch): void {
    // A transaction that ends without an outcome (the layer closed) counts as a timeout.
    if (branch.state !== 'done') this.branchOutcome(branch, 408, undefined);
    branch.tx = undefined;
  }

  private cancelBranch(branch: ProxyBranch, headers: ReadonlyArray<readonly [string, string]> | undefined): void {
    branch.cancelRequested = true;
    const tx = branch.tx;
    if (branch.state === 'pending' || tx === undefined || !tx.isInvite) {
      // Not sent yet (still resolving), or a non-INVITE: nothing to CANCEL (§9.1 cancels INVITE only).
      if (branch.state === 'pending' || !tx) this.branchOutcome(branch, 487, undefined);
      return;
    }
    const outcome = tx.cancel(headers ? { headers } : undefined);
    if (outcome === 'pending') this.branchOutcome(branch, 487, undefined);
    else if (outcome === 'sent') this.proxy.armCancelWait(branch);
  }

  // ---- upstream ---------------------------------------------------------------

  private considerLocal(status: number): void {
    if (isBetterResponse(status, this.bestStatus)) {
      this.bestStatus = status;
      this.bestResponse = undefined;
      this.bestBranch = undefined;
    }
  }

  /**
   * The owner refused to relay a 2xx it was handed (it could not store the
   * session): if no other 2xx went upstream, the client gets `status`
   * (500) once every branch is done.
   */
  refuseAnswer(status = 500): void {
    this.forcedStatus = status;
  }

  private maybeFinish(): void {
    if (this.starting || this.active > 0 || this._state === 'ended') return;
    if (!this.finalChosen) this.sendBest();
    else if (this._state === 'forwarding' && this.relaysPending === 0) {
      // A 2xx was taken but none went upstream (the owner refused it): the client still needs a final response.
      this.forcedStatus ??= 500;
      this.sendBest();
    }
    if (this.relaysPending === 0 && this._state !== 'forwarding') this.end();
  }

  /** §16.7 step 6: the best final response goes upstream, once every branch is done. */
  private sendBest(): void {
    this.finalChosen = true;
    const forced = this.forcedStatus;
    let response: SipResponse;
    let branch: ProxyBranch | undefined;
    if (forced !== undefined || this.bestResponse === undefined) {
      // A 503 the proxy stood in for (transport errors, §16.9) is no more the client's business than a real one.
      response = createResponse(this.request, relayedStatus(forced ?? this.bestStatus ?? 500), { toTag: newTag() });
      branch = undefined;
    } else {
      // An application server's own refusal, 503 included, reaches the
      // client unchanged with its Retry-After (design brief, flow 1; see
      // relayedStatus for why this departs from §16.7's SHOULD).
      response = this.bestResponse;
      branch = this.bestBranch;
      this.proxy.popOwnVia(response);
    }
    this.forcedStatus = undefined;
    this.relay(branch, response, false);
  }

  /** Hands `response` to the owner, then sends it upstream unless the owner says no. */
  private relay(branch: ProxyBranch | undefined, response: SipResponse, fromBranch2xx: boolean): void {
    if (fromBranch2xx) this.proxy.popOwnVia(response);
    else this._state = 'completed';
    let decision: boolean | Promise<boolean>;
    try {
      decision = this.owner.beforeRelay(this, branch, response);
    } catch (e) {
      this.proxy.reportError(e);
      decision = true;
    }
    if (decision === true) this.sendUpstream(response);
    else if (decision !== false) {
      this.relaysPending++;
      decision.then(
        (ok) => this.relaySettled(ok, response),
        (e: unknown) => {
          this.proxy.reportError(e);
          this.relaySettled(false, response);
        },
      );
    }
  }

  private relaySettled(ok: boolean, response: SipResponse): void {
    this.relaysPending--;
    if (ok) this.sendUpstream(response);
    this.maybeFinish();
  }

  private sendUpstream(response: SipResponse): void {
    const tx = this.serverTransaction;
    const status = response.status;
    if (status >= 300) {
      if (tx.lastStatus < 200) tx.respond(response);
      return;
    }
    this.sent2xx++;
    if (this._state === 'forwarding') this._state = 'accepted';
    if (!tx.isInvite) {
      if (tx.lastStatus < 200) tx.respond(response);
      return;
    }
    const txState = tx.state;
    if (txState === 'Proceeding' || txState === 'Accepted') tx.respond(response);
    // After the transaction ended or sent a non-2xx final, a 2xx goes statelessly (RFC 6026 §8.4).
    else this.proxy.sendStatelessResponse(response, tx.request, this.inFlow);
  }

  private end(): void {
    if (this._state === 'ended') return;
    this._state = 'ended';
    this.owner.contextEnded?.(this);
  }

  // ---- server transaction user ---------------------------------------------------

  onTerminated(_tx: ServerTransaction): void {
    // Nothing to free: branches end on their own (timer C bounds them).
  }
}

/** `balance` mode tries the next target on these (issue 3 item 6: 408, 5xx, no answer, transport error; 430 flow gone). */
function isFailover(status: number): boolean {
  return status === 408 || status === 430 || (status >= 500 && status < 600);
}
