import type { SipResponse } from '../../../sip/message/sip-response.js';
import type { PortalProblem } from './portal-problem.js';

function retryAfterOf(response: SipResponse): number | undefined {
  const v = response.header('retry-after');
  const m = v === undefined ? null : /^\s*(\d+)/.exec(v);
  return m ? Number(m[1]) : undefined;
}

const later = (s: number | undefined) => (s === undefined ? 'Try again in a little while.' : `Try again in ${s} s.`);

/**
 * Says why opening a service failed, from the final non-2xx the relay
 * relayed or answered (docs/protocol.md, flow 1): 404 no such service (the
 * relay's "No Such Service") or nothing found (an application server's own
 * 404, e.g. "No Such Book"); 486 busy; 480 no application server reachable;
 * 402 no credit; a 503 from an application server reaches the client
 * unchanged (docs/proxy.md), and a 500 with Retry-After is read as "busy" too.
 *
 * @example
 * ```ts
 * call.on('rejected', (r) => show(describeInviteFailure('wine', r)));
 * ```
 */
export function describeInviteFailure(service: string, response: SipResponse): PortalProblem {
  const status = response.status;
  const reason = response.reason;
  const retryAfterSeconds = retryAfterOf(response);
  const facts = { status, reason, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
  const name = `“${service}”`;
  switch (true) {
    case status === 402:
      return { code: 'no-credit', title: 'Not enough credit', detail: `Your account cannot pay for ${name}. Top up your account or choose a free service.`, ...facts };
    case status === 404 && /no such service/i.test(reason):
      return { code: 'no-such-service', title: 'No such service', detail: `The portal has no service called ${name}.`, ...facts };
    case status === 404:
      return { code: 'nothing-found', title: 'Nothing found', detail: `${name} found nothing for what you asked (${reason}).`, ...facts };
    case status === 486 || status === 600:
      return { code: 'service-busy', title: 'Service busy', detail: `${name} is busy. ${later(retryAfterSeconds)}`, ...facts };
    case status === 503 || (status === 500 && retryAfterSeconds !== undefined):
      return { code: 'service-busy', title: 'Service busy', detail: `${name} cannot take more visitors right now. ${later(retryAfterSeconds)}`, ...facts };
    case status === 480:
      return { code: 'service-unavailable', title: 'Service unavailable', detail: `No server of ${name} can be reached right now. ${later(retryAfterSeconds)}`, ...facts };
    case status === 408:
      return { code: 'timeout', title: 'No answer', detail: `${name} did not answer in time. Try again.`, ...facts };
    case status === 401 || status === 407 || status === 403:
      return { code: 'refused', title: 'Not allowed', detail: `You may not open ${name} (${status} ${reason}).`, ...facts };
    case status >= 500:
      return { code: 'relay-error', title: 'Something went wrong', detail: `${name} could not be opened because of a fault on the way (${status} ${reason}). Try again.`, ...facts };
    default:
      return { code: 'refused', title: 'Refused', detail: `${name} refused the request: ${status} ${reason}.`, ...facts };
  }
}

/**
 * Says why signing in failed, from the REGISTER's final answer: the relay
 * answers a wrong password (and an unknown user, which it does not tell
 * apart) with another 401, and too many failures with 403 and Retry-After.
 *
 * @example
 * ```ts
 * registration.on('failed', ({ response }) => response && show(describeRegistrationFailure(response)));
 * ```
 */
export function describeRegistrationFailure(response: SipResponse): PortalProblem {
  const status = response.status;
  const reason = response.reason;
  const retryAfterSeconds = retryAfterOf(response);
  if (status === 401 || status === 407) {
    return { code: 'wrong-credentials', title: 'Wrong username or password', detail: 'The relay did not accept this username and password. Check them and try again.', status, reason };
  }
  if (status === 403 && retryAfterSeconds !== undefined) {
    return {
      code: 'sign-in-blocked',
      title: 'Too many failed sign-ins',
      detail: `Signing in as this user from here is blocked for a while after several wrong passwords. Try again in ${retryAfterSeconds} s.`,
      status,
      reason,
      retryAfterSeconds,
    };
  }
  if (status === 403) {
    return { code: 'wrong-credentials', title: 'Sign-in refused', detail: `The relay refused this account (${status} ${reason}).`, status, reason };
  }
  if (status === 404) {
    return { code: 'refused', title: 'Unknown domain', detail: `The relay does not serve this domain (${reason}).`, status, reason };
  }
  return { code: 'relay-error', title: 'Sign-in failed', detail: `The relay answered ${status} ${reason}. Try again.`, status, reason };
}

/**
 * The relay's WebSocket could not be opened (or closed before signing in).
 *
 * @example
 * ```ts
 * show(relayUnreachable('ws://localhost:8080/sip'));
 * ```
 */
export function relayUnreachable(url: string): PortalProblem {
  return {
    code: 'relay-unreachable',
    title: 'Relay unreachable',
    detail: `The portal cannot reach the relay at ${url}. Check your network connection, or whether the relay is running, and try again.`,
  };
}

/**
 * A request got no final answer: a transaction timeout or a transport
 * failure (the core's `failed`).
 *
 * @example
 * ```ts
 * call.on('failed', (e) => show(noAnswer('wine', e.code)));
 * ```
 */
export function noAnswer(service: string, code: string): PortalProblem {
  if (code === 'SIP_ERR_TRANSPORT') {
    return { code: 'connection-lost', title: 'Connection lost', detail: `The request for “${service}” could not be sent: the connection to the relay is down. It will be retried when you try again after reconnecting.` };
  }
  return { code: 'timeout', title: 'No answer', detail: `Nobody answered the request for “${service}” in time. Try again.` };
}
