import type { RelayedDialog } from './dialog-registry.js';
import type { SessionTimerTerms } from './session-timer.js';

/** Why the relay forgot a dialog (see {@link DialogSupervision.closed}). */
export type DialogClosedBy =
  /** A final response to a BYE of either side was relayed (RFC 3261 §15.1.1). */
  | 'bye'
  /** The relay sent its own BYEs (`RelayCore.endDialog`). */
  | 'relay'
  /** The answer could not be stored, so the 2xx was not relayed. */
  | 'refused';

/**
 * What watches the relay's `service` dialogs besides accounting: session
 * timers (RFC 4028), the maximum duration, restart recovery
 * (server/sessions/session-supervisor.ts). The relay core tells it when a
 * dialog is answered, started, refreshed, resumed and forgotten; it never
 * sits on the path of any other message. Every method is optional to
 * implement as a no-op and must not throw (a throw is reported and
 * ignored).
 */
export interface DialogSupervision {
  /**
   * The 2xx of a new service dialog is about to be relayed, with the
   * session-timer terms it carries (or the relay's own). A promise delays
   * the 2xx until it settles, beside the SessionObserver's `answered` —
   * the supervisor stores what a restart needs to rebuild the dialog. It
   * should not reject (a rejection is reported and the 2xx relayed).
   */
  answered(dialog: RelayedDialog, terms: SessionTimerTerms): Promise<void> | void;
  /** The ACK of that 2xx was relayed: the session started. */
  started(dialog: RelayedDialog): void;
  /**
   * A 2xx to a re-INVITE or UPDATE in the dialog was relayed: a session
   * refresh (RFC 4028 §10) with the terms it carries, and a target
   * refresh (the dialog's Contacts may have changed).
   */
  refreshed(dialog: RelayedDialog, terms: SessionTimerTerms): void;
  /** A restored dialog got its first in-dialog request since the restart ({@link RelayedDialog.resumePending}): it carries on. */
  resumed(dialog: RelayedDialog): void;
  /** The relay forgot the dialog. */
  closed(dialog: RelayedDialog, by: DialogClosedBy): void;
  /**
   * The caller's connection (TCP, TLS, WS, WSS) closed while the dialog was
   * live: requests toward the caller cannot be delivered until it comes
   * back on a new connection ({@link callerFlowRegained}). The supervisor
   * gives it a grace period, then ends the session.
   */
  callerFlowLost?(dialog: RelayedDialog): void;
  /** The caller sent a request in the dialog over a new connection: the dialog is bound to it. */
  callerFlowRegained?(dialog: RelayedDialog): void;
  /**
   * `by` (an INVITE with Replaces, RFC 3891) has started: end `old`, with a
   * BYE to both sides, recorded as ended by its caller. Without this the
   * relay core sends the BYEs itself and records nothing.
   */
  replaced?(old: RelayedDialog, by: RelayedDialog): void;
}
