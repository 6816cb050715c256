import { parseGenericParams, skipWs, trimWs } from '../../sip/grammar/header-scanner.js';
import { Params } from '../../sip/grammar/params.js';
import type { SipMessage } from '../../sip/message/sip-message.js';

/** Which end of the dialog refreshes the session (RFC 4028 §4): the one that sent the INVITE, or the one that answered. */
export type SessionRefresher = 'uac' | 'uas';

/** A `Session-Expires` value (RFC 4028 §4): `delta-seconds *(;se-params)`. */
export interface SessionExpires {
  readonly seconds: number;
  /** Absent in a request that leaves the choice to the UAS. */
  readonly refresher: SessionRefresher | undefined;
}

/**
 * The session-timer terms the relay supervises a dialog with.
 *
 * - `refresher` set: the UAs negotiated a session timer (a `Session-Expires`
 *   in the 2xx); the session is over when no refresh (a 2xx to a re-INVITE
 *   or UPDATE) is seen for `intervalSeconds` (RFC 4028 §10).
 * - `refresher` undefined: neither UA took the timer; the relay supervises
 *   with its own interval and, when it passes without a refresh, asks both
 *   sides whether they still have the dialog (an in-dialog OPTIONS).
 */
export interface SessionTimerTerms {
  readonly intervalSeconds: number;
  readonly refresher: SessionRefresher | undefined;
}

/** The RFC 4028 §4 and §5 floor of any session interval. */
export const MIN_SESSION_INTERVAL_SECONDS = 90;

/** Largest delta-seconds kept (RFC 3261 §25: 2^32-1; a day is plenty for a timer). */
const MAX_SECONDS = 2 ** 31 - 1;

function deltaSeconds(s: string): number | undefined {
  if (!/^[0-9]{1,10}$/.test(s)) return undefined;
  return Math.min(Number(s), MAX_SECONDS);
}

/** Parses a `Session-Expires` value; undefined when malformed. */
export function parseSessionExpires(value: string): SessionExpires | undefined {
  const s = trimWs(value);
  const semi = s.indexOf(';');
  const seconds = deltaSeconds(trimWs(semi < 0 ? s : s.slice(0, semi)));
  if (seconds === undefined) return undefined;
  let refresher: SessionRefresher | undefined;
  if (semi >= 0) {
    const params = new Params();
    try {
      const end = parseGenericParams(s, semi, params, 'session-expires');
      if (skipWs(s, end) !== s.length) return undefined;
    } catch {
      return undefined;
    }
    const r = params.get('refresher');
    if (typeof r === 'string') {
      const lower = r.toLowerCase();
      if (lower !== 'uac' && lower !== 'uas') return undefined;
      refresher = lower;
    }
  }
  return { seconds, refresher };
}

/** Parses a `Min-SE` value (`delta-seconds *(;generic-param)`, RFC 4028 §5); undefined when malformed. */
export function parseMinSe(value: string): number | undefined {
  const s = trimWs(value);
  const semi = s.indexOf(';');
  return deltaSeconds(trimWs(semi < 0 ? s : s.slice(0, semi)));
}

/** The message's Session-Expires: undefined when absent, `'malformed'` when it does not parse or is repeated. */
export function sessionExpiresOf(message: SipMessage): SessionExpires | 'malformed' | undefined {
  const v = message.header('session-expires');
  if (v === undefined) return undefined;
  if (message.countHeader('session-expires') > 1) return 'malformed';
  return parseSessionExpires(v) ?? 'malformed';
}

/** The message's Min-SE; undefined when absent or malformed (a proxy only ever raises it). */
export function minSeOf(message: SipMessage): number | undefined {
  const v = message.header('min-se');
  return v === undefined ? undefined : parseMinSe(v);
}

/** What the relay does with a session refresh request (an INVITE or UPDATE) it is about to forward. */
export type SessionTimerRequestAction =
  | { readonly action: 'forward' }
  /** RFC 4028 §8.1: the interval asked for is below the relay's minimum: 422 with this Min-SE. */
  | { readonly action: 'too-small'; readonly minSe: number }
  | { readonly action: 'malformed' };

/**
 * RFC 4028 §8.1, a proxy receiving a session refresh request: a
 * `Session-Expires` below the proxy's minimum is refused with 422 and a
 * `Min-SE` naming that minimum. Nothing is changed here; see
 * {@link applySessionTimerToRequest} for what the relay adds.
 */
export function checkSessionTimerRequest(request: SipMessage, minSeconds: number): SessionTimerRequestAction {
  const se = sessionExpiresOf(request);
  if (se === 'malformed') return { action: 'malformed' };
  if (se !== undefined && se.seconds < minSeconds) return { action: 'too-small', minSe: Math.max(minSeconds, minSeOf(request) ?? 0) };
  return { action: 'forward' };
}

/**
 * RFC 4028 §8.1, what the relay adds to a dialog-creating INVITE it
 * forwards, so that the UAs refresh the session at least as often as the
 * service wants: without a `Session-Expires`, one of
 * `max(serviceSeconds, Min-SE)` is inserted; a larger one is lowered to
 * that value (never below the request's `Min-SE`). `Min-SE` is raised to
 * the relay's minimum (inserted when absent): a UAS must not pick an
 * interval the relay would refuse. Returns the interval the request now
 * asks for. Call {@link checkSessionTimerRequest} first.
 */
export function applySessionTimerToRequest(request: SipMessage, serviceSeconds: number, minSeconds: number): number {
  const requestMinSe = minSeOf(request);
  const floor = Math.max(minSeconds, requestMinSe ?? 0);
  if (requestMinSe === undefined || requestMinSe < minSeconds) request.setHeader('Min-SE', String(floor));
  const wanted = Math.max(serviceSeconds, floor);
  const se = sessionExpiresOf(request);
  if (se === undefined || se === 'malformed') {
    request.setHeader('Session-Expires', String(wanted));
    return wanted;
  }
  if (se.seconds > wanted) {
    request.setHeader('Session-Expires', se.refresher ? `${wanted};refresher=${se.refresher}` : String(wanted));
    return wanted;
  }
  return se.seconds;
}

/** Whether the UAC said it supports session timers (`Supported: timer`, RFC 4028 §7.1). */
export function supportsTimer(request: SipMessage): boolean {
  return request.optionTags('supported').includes('timer') || request.optionTags('require').includes('timer');
}

/**
 * RFC 4028 §8.2, a proxy relaying the 2xx of a session refresh request:
 *
 * - a `Session-Expires` in the 2xx is what the UAs agreed on (a missing
 *   refresher counts as `uas`, the UAS having taken the job);
 * - none, but the UAC supports the timer: the relay inserts
 *   `Session-Expires: <interval>;refresher=uac` and `Require: timer`, so
 *   the UAC refreshes (the UAS did not understand the extension);
 * - none, and the UAC does not support it either: no session timer is in
 *   force between the UAs; the relay supervises with `requestedSeconds`
 *   itself (its own interval, `refresher` undefined).
 *
 * `minSeconds` is a floor on whatever interval results, so that a UAS
 * cannot make the relay end a session sooner than its Min-SE allows.
 */
export function sessionTimerTermsOf2xx(request: SipMessage, response: SipMessage, requestedSeconds: number, minSeconds: number): SessionTimerTerms {
  const se = sessionExpiresOf(response);
  if (se !== undefined && se !== 'malformed') {
    return { intervalSeconds: Math.max(se.seconds, minSeconds), refresher: se.refresher ?? 'uas' };
  }
  if (supportsTimer(request)) {
    response.setHeader('Session-Expires', `${requestedSeconds};refresher=uac`);
    if (!response.optionTags('require').includes('timer')) response.addHeader('Require', 'timer');
    return { intervalSeconds: Math.max(requestedSeconds, minSeconds), refresher: 'uac' };
  }
  return { intervalSeconds: Math.max(requestedSeconds, minSeconds), refresher: undefined };
}
