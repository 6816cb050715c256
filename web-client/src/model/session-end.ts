import type { SipRequest } from '../../../sip/message/sip-request.js';
import type { SessionTermination } from '../../../sip/ua/session.js';
import { parseReason, type ReasonValue } from './reason-header.js';

/** Who ended a session, as the pane says it. */
export type SessionEndedBy = 'you' | 'service' | 'relay' | 'connection';

/** How a session ended, for the pane and the history. */
export interface SessionEnd {
  readonly by: SessionEndedBy;
  /** One sentence for people. */
  readonly text: string;
  /** `Date.now()` of the end. */
  readonly at: number;
  /** The Reason header of the BYE that ended it (RFC 3326), if any. */
  readonly reason?: ReasonValue;
}

/**
 * The causes the relay names when it ends a session itself: its Reason text
 * starts with one (`SIP;cause=402;text="credit-exhausted: the user's credit
 * ran out"`, server/sessions/relay-end-reason.ts), said here to the user.
 */
const RELAY_CAUSES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^credit[- ]exhausted\b/i, 'your credit ran out'],
  [/^max(imum)?[- ]duration\b/i, "the service's maximum duration was reached"],
  [/^session[- ]timer\b/i, 'the session was not refreshed in time'],
  [/^operator\b/i, 'the operator ended it'],
  [/^(shutdown|relay shutting down)\b/i, 'the relay is shutting down'],
  [/^interrupted\b/i, 'the connection was lost or the relay restarted'],
  [/^replaced\b/i, 'replaced by your new session'],
];

/** The relay's own end, from its Reason text; undefined for any other text. */
function relayCause(text: string): string | undefined {
  for (const [re, phrase] of RELAY_CAUSES) {
    const m = re.exec(text);
    if (!m) continue;
    // "operator: <the operator's own words>" keeps the words.
    const detail = text.slice(m[0].length).replace(/^\s*:\s*/, '').trim();
    return /^operator/i.test(text) && detail && detail !== 'ended by the operator' ? `${phrase}: ${detail}` : phrase;
  }
  return undefined;
}

/**
 * Says who ended a session and why, from the core's termination: our own
 * BYE; a BYE from the far end — the relay's own BYE carries a `Reason`
 * header naming why (`SIP;cause=402;text="credit exhausted"`), an
 * application server's usually none; or a broken path (481, timeouts,
 * transport).
 *
 * @example
 * ```ts
 * session.on('terminated', (t) => { pane.end = describeTermination(t, 'The Wine Cellar', Date.now()); });
 * ```
 */
export function describeTermination(t: SessionTermination, serviceName: string, at: number): SessionEnd {
  if (t.by === 'local') {
    switch (t.reason) {
      case 'bye':
        return { by: 'you', text: 'You hung up.', at };
      case 'closed':
        return { by: 'you', text: 'You signed out.', at };
      case 'request-timeout':
        return { by: 'connection', text: 'A request in this session got no answer, so the portal hung up.', at };
      default:
        return { by: 'connection', text: `The session ended (${t.reason}).`, at };
    }
  }
  if (t.reason === 'bye') {
    const reason = reasonOf(t.message as SipRequest | undefined);
    const why = reason?.text ?? (reason?.cause !== undefined ? `cause ${reason.cause}` : undefined);
    const relay = why !== undefined ? relayCause(why) : undefined;
    if (reason && relay !== undefined) return { by: 'relay', text: `The relay ended the session: ${relay}.`, at, reason };
    if (why !== undefined) return { by: 'service', text: `${serviceName} ended the session: ${why}.`, at, ...(reason ? { reason } : {}) };
    return { by: 'service', text: `${serviceName} ended the session.`, at };
  }
  switch (t.reason) {
    case 'dialog-gone':
      return { by: 'connection', text: 'The relay no longer knows this session (481).', at };
    case 'request-timeout':
      return { by: 'connection', text: 'A request in this session got no answer, so the portal hung up.', at };
    case 'transport-error':
      return { by: 'connection', text: 'The connection to the relay dropped.', at };
    default:
      return { by: 'connection', text: `The session ended (${t.reason}).`, at };
  }
}

function reasonOf(message: SipRequest | undefined): ReasonValue | undefined {
  if (!message || typeof message.headerList !== 'function') return undefined;
  for (const v of message.headerList('reason')) {
    const r = parseReason(v);
    if (r) return r;
  }
  return undefined;
}
