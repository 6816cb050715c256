import { parseSipUriStrict } from '../../sip/grammar/uri.js';
import type { AuthenticatedParty, ServiceTarget } from '../relay-ports.js';
import { DialogRegistry, type RelayedDialog } from './dialog-registry.js';
import type { SessionTimerTerms } from './session-timer.js';

/** Version of {@link DialogSnapshot}; a snapshot of another version is not restored. */
export const DIALOG_SNAPSHOT_VERSION = 1;

/**
 * What the relay keeps of a live service dialog so that a restarted
 * process can rebuild it (issue 4 item 3): identity, both sides'
 * addresses, Contacts and the route set, the CSeq numbers seen, the
 * flows of the time (dead after a restart, except UDP ones, whose ids
 * name addresses) and the session-timer terms. Plain JSON.
 */
export interface DialogSnapshot {
  readonly v: number;
  readonly sessionId: string;
  readonly forkGroup: string;
  readonly callId: string;
  readonly callerTag: string;
  readonly calleeTag: string;
  readonly party: AuthenticatedParty;
  readonly service: string;
  readonly target: { readonly appServer: string; readonly uri: string; readonly weight: number; readonly source: 'registered' | 'static' } | null;
  readonly linkedFrom: string | null;
  readonly inviteCSeq: number;
  readonly callerFlowId: string;
  readonly calleeFlowId: string | null;
  readonly callerAddress: string;
  readonly calleeAddress: string;
  readonly callerContact: string | null;
  readonly calleeContact: string | null;
  readonly recordRoute: readonly string[];
  readonly callerCSeq: number;
  readonly calleeCSeq: number;
  readonly answeredAt: number;
  readonly startedAt: number;
  readonly sessionTimer: SessionTimerTerms | null;
}

/** The snapshot of a live dialog. */
export function dialogSnapshot(d: RelayedDialog): DialogSnapshot {
  return {
    v: DIALOG_SNAPSHOT_VERSION,
    sessionId: d.sessionId,
    forkGroup: d.forkGroup,
    callId: d.callId,
    callerTag: d.callerTag,
    calleeTag: d.calleeTag,
    party: { ...d.party },
    service: d.service,
    target: d.target ? { appServer: d.target.appServer, uri: d.target.uri.toString(), weight: d.target.weight, source: d.target.source } : null,
    linkedFrom: d.linkedFrom ?? null,
    inviteCSeq: d.inviteCSeq,
    callerFlowId: d.callerFlowId,
    calleeFlowId: d.calleeFlowId ?? null,
    callerAddress: d.callerAddress,
    calleeAddress: d.calleeAddress,
    callerContact: d.callerContact ?? null,
    calleeContact: d.calleeContact ?? null,
    recordRoute: [...d.recordRoute],
    callerCSeq: d.callerCSeq,
    calleeCSeq: d.calleeCSeq,
    answeredAt: d.answeredAt,
    startedAt: d.startedAt,
    sessionTimer: d.sessionTimer ?? null,
  };
}

/**
 * A {@link RelayedDialog} rebuilt from `s`, marked `restored`, in state
 * `confirmed` when its session had started (else `answered`). Undefined
 * when the snapshot is of another version or does not hold together.
 */
export function dialogFromSnapshot(s: DialogSnapshot, started: boolean): RelayedDialog | undefined {
  if (!s || s.v !== DIALOG_SNAPSHOT_VERSION || !s.sessionId || !s.callId || !s.callerTag || !s.calleeTag) return undefined;
  let target: ServiceTarget | undefined;
  try {
    target = s.target
      ? { appServer: s.target.appServer, uri: parseSipUriStrict(s.target.uri), flowId: undefined, weight: s.target.weight, source: s.target.source, load: 0 }
      : undefined;
  } catch {
    return undefined;
  }
  return {
    key: DialogRegistry.key(s.callId, s.callerTag, s.calleeTag),
    kind: 'service',
    sessionId: s.sessionId,
    forkGroup: s.forkGroup,
    callId: s.callId,
    callerTag: s.callerTag,
    calleeTag: s.calleeTag,
    party: s.party,
    service: s.service,
    target,
    linkedFrom: s.linkedFrom ?? undefined,
    state: started ? 'confirmed' : 'answered',
    inviteCSeq: s.inviteCSeq,
    callerFlowId: s.callerFlowId,
    calleeFlowId: s.calleeFlowId ?? undefined,
    callerAddress: s.callerAddress,
    calleeAddress: s.calleeAddress,
    callerContact: s.callerContact ?? undefined,
    calleeContact: s.calleeContact ?? undefined,
    recordRoute: s.recordRoute,
    callerCSeq: s.callerCSeq,
    calleeCSeq: s.calleeCSeq,
    // Both sides may have sent requests the snapshot never saw.
    callerCSeqStale: true,
    calleeCSeqStale: true,
    answeredAt: s.answeredAt,
    startedAt: s.startedAt,
    // The load of a target is counted per process: nothing is held for a recovered dialog.
    countsLoad: false,
    lastChange: undefined,
    sessionTimer: s.sessionTimer ?? undefined,
    addedSessionExpires: undefined,
    restored: true,
    resumePending: true,
  };
}
