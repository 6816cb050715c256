import type { AuthenticatedParty, DialogMilestone, ServiceTarget } from '../relay-ports.js';
import type { SessionTimerTerms } from './session-timer.js';

/**
 * `answering` (the 2xx is being stored, not relayed yet) → `answered`
 * (2xx relayed, waiting for the ACK) → `starting` (the ACK's `started` is
 * being stored) → `confirmed` (ACK relayed) → gone (a final response to
 * BYE relayed). `refused`: the relay could not store the answer and did
 * not relay the 2xx; kept only to drop its retransmissions.
 */
export type RelayedDialogState = 'answering' | 'answered' | 'starting' | 'confirmed' | 'refused';

/** What the relay knows of one dialog it record-routed and relayed a 2xx for. */
export interface RelayedDialog {
  /** Registry key (Call-ID and both tags). */
  readonly key: string;
  /**
   * `service`: a user's session with an application server (milestones go
   * to the SessionObserver). `location`: a request an application server
   * sent to a user through the location service (no session record).
   */
  readonly kind: 'service' | 'location';
  readonly sessionId: string;
  readonly forkGroup: string;
  readonly callId: string;
  /** From tag of the dialog-creating request (the side that sent it). */
  readonly callerTag: string;
  /** To tag of the 2xx (the side that answered). */
  readonly calleeTag: string;
  /** Who the caller authenticated as. */
  readonly party: AuthenticatedParty;
  /** The service, for `service` dialogs. */
  readonly service: string;
  /** The application server that answered, for `service` dialogs. */
  readonly target: ServiceTarget | undefined;
  /** Session this one was linked from (REFER, Replaces, Target-Dialog). */
  readonly linkedFrom: string | undefined;
  /** Session this one replaces (INVITE with Replaces, RFC 3891): ended by the relay once this one starts. */
  readonly replaces?: string | undefined;
  state: RelayedDialogState;
  /** CSeq number of the dialog-creating INVITE: its ACK carries it (§13.2.2.4). */
  readonly inviteCSeq: number;
  /**
   * The caller's flow (its requests arrive on it; requests toward it go
   * over it). A recovered dialog re-binds it to the flow the caller's next
   * request comes over (the old one died with the previous process).
   */
  callerFlowId: string;
  /** The callee's flow, when it is reached over one (re-bound like the caller's after a restart). */
  calleeFlowId: string | undefined;
  /** From of the dialog-creating request, with the caller's tag, as written. */
  readonly callerAddress: string;
  /** To of the 2xx, with the callee's tag, as written. */
  readonly calleeAddress: string;
  /** The caller's Contact (remote target for requests toward the caller), as written; target refreshes update it. */
  callerContact: string | undefined;
  /** The callee's Contact from its 2xx, as written. */
  calleeContact: string | undefined;
  /** Record-Route values of the 2xx, top first: the dialog's route set as the callee sees it (§12.1.1). */
  readonly recordRoute: readonly string[];
  /** Highest CSeq number seen on requests from each side (for requests the relay itself may send, §12.2.1.1). */
  callerCSeq: number;
  calleeCSeq: number;
  /**
   * The side's CSeq number may be higher than the relay knows: it was
   * rebuilt after a restart and that side has sent nothing since. A BYE
   * the relay sends as that side then jumps well ahead (relayRequest).
   */
  callerCSeqStale: boolean;
  calleeCSeqStale: boolean;
  /** Wall-clock ms when the 2xx was relayed and when the ACK was (0 before). */
  readonly answeredAt: number;
  startedAt: number;
  /** True while this dialog holds one unit of its target's load (ServiceDirectory.adjustLoad). */
  countsLoad: boolean;
  /** `<direction> <cseq>` of the last re-INVITE/UPDATE whose change was reported. */
  lastChange: string | undefined;
  /**
   * The session-timer terms in force (RFC 4028): what the 2xx of the
   * INVITE, then of each refresh, said; undefined before the 2xx and for
   * dialogs the relay does not supervise.
   */
  sessionTimer: SessionTimerTerms | undefined;
  /**
   * The `Session-Expires` the relay inserted into the 2xx (RFC 4028 §8.2:
   * a UAS without timers, a UAC with them), put into its retransmissions too.
   */
  addedSessionExpires: string | undefined;
  /**
   * Rebuilt from the store after a restart (for the rest of its life): the
   * flows its Record-Route token names are those of the previous process,
   * so its requests are told apart by their From tag rather than by flow,
   * and each side's flow is re-bound to the one its requests come over.
   */
  readonly restored: boolean;
  /** Restored and not heard from since: its next in-dialog request resumes it (DialogSupervision.resumed). */
  resumePending: boolean;
}

/** The key a party's live sessions are counted under (`limits.maxSessionsPerUser`). */
export function partyKey(party: AuthenticatedParty): string {
  return party.kind + ':' + party.id;
}

/** The milestone record of a dialog, as the SessionObserver takes it. */
export function dialogMilestone(d: RelayedDialog): DialogMilestone {
  const m: DialogMilestone = {
    sessionId: d.sessionId,
    forkGroup: d.forkGroup,
    callId: d.callId,
    callerTag: d.callerTag,
    calleeTag: d.calleeTag,
    party: d.party,
    service: d.service,
    target: d.target as ServiceTarget,
  };
  if (d.linkedFrom !== undefined) m.linkedFrom = d.linkedFrom;
  return m;
}

/**
 * The live dialogs the relay relayed a 2xx for, found by Call-ID and the
 * two tags in either order (a request from either side, a Replaces or
 * Target-Dialog naming them from either end). Bounded by `maxDialogs`:
 * when full, the relay refuses new sessions rather than forget live ones.
 */
export class DialogRegistry {
  private readonly dialogs = new Map<string, RelayedDialog>();
  private readonly bySession = new Map<string, RelayedDialog>();
  /** Live `service` dialogs per service and per party, for the session limits. */
  private readonly perService = new Map<string, number>();
  private readonly perParty = new Map<string, number>();

  constructor(
    /** Most dialogs held at once. Default 200 000. */
    readonly maxDialogs = 200_000,
  ) {
    if (!Number.isInteger(maxDialogs) || maxDialogs < 1) throw new TypeError('DialogRegistry maxDialogs must be a positive integer');
  }

  /** The key of a dialog: Call-ID and the two tags, sorted so that either end's view finds it. */
  static key(callId: string, tagA: string, tagB: string): string {
    return tagA < tagB ? callId + '\n' + tagA + '\n' + tagB : callId + '\n' + tagB + '\n' + tagA;
  }

  get size(): number {
    return this.dialogs.size;
  }

  get isFull(): boolean {
    return this.dialogs.size >= this.maxDialogs;
  }

  find(callId: string, tagA: string | undefined, tagB: string | undefined): RelayedDialog | undefined {
    if (tagA === undefined || tagB === undefined || this.dialogs.size === 0) return undefined;
    return this.dialogs.get(DialogRegistry.key(callId, tagA, tagB));
  }

  bySessionId(sessionId: string): RelayedDialog | undefined {
    return this.bySession.get(sessionId);
  }

  /** Adds `d`; false when the registry is full or the key is taken. */
  add(d: RelayedDialog): boolean {
    if (this.dialogs.size >= this.maxDialogs || this.dialogs.has(d.key)) return false;
    this.dialogs.set(d.key, d);
    this.bySession.set(d.sessionId, d);
    if (d.kind === 'service') {
      bump(this.perService, d.service, 1);
      bump(this.perParty, partyKey(d.party), 1);
    }
    return true;
  }

  remove(d: RelayedDialog): boolean {
    if (this.dialogs.get(d.key) !== d) return false;
    this.dialogs.delete(d.key);
    if (this.bySession.get(d.sessionId) === d) this.bySession.delete(d.sessionId);
    if (d.kind === 'service') {
      bump(this.perService, d.service, -1);
      bump(this.perParty, partyKey(d.party), -1);
    }
    return true;
  }

  /** Live service dialogs of `service`. */
  countOfService(service: string): number {
    return this.perService.get(service) ?? 0;
  }

  /** Live service dialogs whose caller is the party with key `key` ({@link partyKey}). */
  countOfParty(key: string): number {
    return this.perParty.get(key) ?? 0;
  }

  /** A snapshot of every dialog, safe to iterate while they end. */
  snapshot(): RelayedDialog[] {
    return [...this.dialogs.values()];
  }
}

function bump(counts: Map<string, number>, key: string, delta: 1 | -1): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}
