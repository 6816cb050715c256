/**
 * Why the relay itself ends a session (issue 4 item 1, "ended by"), as
 * recorded. `shutdown` is recorded as `operator` (the operator stopped the
 * relay: docs/sessions.md) but told to the UAs as a shutdown.
 */
export type RelayEndCause = 'session-timer' | 'max-duration' | 'credit-exhausted' | 'operator' | 'shutdown' | 'interrupted' | 'replaced';

/** What goes on the wire and into the record when the relay ends a session. */
export interface RelayEndReason {
  /**
   * The `Reason` header of the relay's BYEs (RFC 3326). Its text starts
   * with the cause's name, which the SDK and the portal look for
   * (`SIP;cause=408;text="session-timer: …"`).
   */
  readonly header: string;
  /** The record's `end_reason`: one line for people. */
  readonly text: string;
}

const CAUSES: Record<RelayEndCause, { code: number; text: string }> = {
  'session-timer': { code: 408, text: 'the session was not refreshed in time' },
  'max-duration': { code: 200, text: "the service's maximum duration was reached" },
  'credit-exhausted': { code: 402, text: "the user's credit ran out" },
  operator: { code: 200, text: 'ended by the operator' },
  shutdown: { code: 503, text: 'the relay is shutting down' },
  interrupted: { code: 500, text: 'the relay restarted and the session sent nothing since' },
  replaced: { code: 200, text: 'replaced by a new session of the same user' },
};

/** Longest detail kept (an operator's `--reason`). */
const MAX_DETAIL = 200;

/**
 * The Reason header and record text for ending a session because of
 * `cause`, with an optional `detail` (the operator's reason, which side
 * did not answer a probe) in place of the default text. The detail is cut
 * to printable ASCII so that it fits a quoted-string (RFC 3261 §25.1).
 */
export function relayEndReason(cause: RelayEndCause, detail?: string): RelayEndReason {
  const c = CAUSES[cause];
  const text = detail !== undefined && detail.trim() !== '' ? printable(detail) : c.text;
  const quoted = `${cause}: ${text}`.replace(/["\\]/g, (ch) => '\\' + ch);
  return { header: `SIP;cause=${c.code};text="${quoted}"`, text };
}

function printable(s: string): string {
  const t = s.replace(/[^\x20-\x7e]+/g, ' ').trim();
  return t.length > MAX_DETAIL ? t.slice(0, MAX_DETAIL - 1) + '~' : t;
}
