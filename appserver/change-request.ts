import type { SipRequest } from '../sip/message/sip-request.js';
import { appServerError } from './app-server-error.js';
import type { ServiceDescriptor } from './service-answer.js';
import type { ServiceDetails } from './siprelay-media-types.js';

/**
 * How a {@link ChangeRequest} was answered.
 *
 * @example
 * ```ts
 * if (change.answer?.accepted === false) log.info({ status: change.answer.status }, 'change refused');
 * ```
 */
export type ChangeAnswer = { accepted: true; descriptor: ServiceDescriptor | undefined } | { accepted: false; status: number; reason: string | undefined };

/**
 * The client asked to change the service details of a live session (a
 * re-INVITE or an UPDATE with new `application/vnd.siprelay.request+json`,
 * design brief flow 7: wine → beer). The app answers once: `accept()` (2xx,
 * with a new descriptor or the current one) or `refuse()`. Unanswered after
 * the app server's `changeTimeoutMs`, it is refused with 500.
 *
 * @example
 * ```ts
 * session.on('changed', (change) => {
 *   if (change.details.category !== 'wine' && change.details.category !== 'beer') return change.refuse(488, 'No Such Category');
 *   shop.category = change.details.category;
 *   change.accept({ url: pageUrl, title: `Shop — ${shop.category}` });
 * });
 * ```
 */
export class ChangeRequest {
  private _answer: ChangeAnswer | undefined;

  /** @internal Made by the session. */
  constructor(
    /** `INVITE` (a re-INVITE) or `UPDATE`. */
    readonly method: 'INVITE' | 'UPDATE',
    /** The new service details the client sent. */
    readonly details: ServiceDetails,
    /** The details in force until now. */
    readonly previous: ServiceDetails,
    /** The re-INVITE or UPDATE itself. */
    readonly sip: SipRequest,
    private readonly onAnswer: (answer: ChangeAnswer) => void,
  ) {}

  /** True once answered. */
  get answered(): boolean {
    return this._answer !== undefined;
  }

  /** The answer given, once answered. */
  get answer(): ChangeAnswer | undefined {
    return this._answer;
  }

  /**
   * Accepts the change: 200 with `descriptor` (which becomes the session's
   * descriptor) or, without one, the current descriptor. The session's
   * `details` become the new ones. Throws `APPSERVER_ERR_ALREADY_ANSWERED`
   * when answered before; TypeError for a descriptor without a valid url.
   */
  accept(descriptor?: ServiceDescriptor): void {
    this.settle({ accepted: true, descriptor });
  }

  /**
   * Refuses the change with a final status (default 488 Not Acceptable
   * Here); the session goes on with its details as they were.
   */
  refuse(status = 488, reason?: string): void {
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new TypeError(`refuse needs a status in 300..699, got ${status}`);
    this.settle({ accepted: false, status, reason });
  }

  private settle(answer: ChangeAnswer): void {
    if (this._answer) throw appServerError('APPSERVER_ERR_ALREADY_ANSWERED', `the change was already ${this._answer.accepted ? 'accepted' : 'refused'}`);
    this.onAnswer(answer);
    this._answer = answer;
  }
}
