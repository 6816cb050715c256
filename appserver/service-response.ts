import type { HeaderInit } from '../sip/message/sip-message.js';
import { appServerError } from './app-server-error.js';
import type { AppSession } from './app-session.js';
import type { ServiceDescriptor } from './service-answer.js';

/**
 * The refusals an application server typically gives (design brief flow 1):
 * 486 Busy Here or 503 Service Unavailable when full, 404 when it has no
 * such thing, 403 when its own rules say no. Any status 300–699 is allowed.
 *
 * @example
 * ```ts
 * const status: RejectStatus = 486;
 * ```
 */
export type RejectStatus = 486 | 503 | 404 | 403 | 488 | 480 | 600 | 603 | (number & {});

/**
 * Options of {@link ServiceResponse.reject}.
 *
 * @example
 * ```ts
 * res.reject(503, 'Cellar Closed', { retryAfter: 600 });
 * ```
 */
export interface RejectOptions {
  /** Seconds after which the client may try again (Retry-After, RFC 3261 §20.33). */
  retryAfter?: number;
  headers?: HeaderInit;
}

/**
 * Options of {@link ServiceResponse.accept}.
 *
 * @example
 * ```ts
 * res.accept({ url }, { headers: [['X-Shop-Branch', 'north']] });
 * ```
 */
export interface AcceptServiceOptions {
  /** Extra header lines of the 2xx. */
  headers?: HeaderInit;
}

/**
 * @internal How a response reaches the INVITE.
 *
 * @example
 * ```ts
 * new ServiceResponse({ accept: (d) => makeSession(d), reject: (s, r) => invite.reject(s, { reason: r }), cancelled: () => false });
 * ```
 */
export interface ServiceResponseSink {
  accept(descriptor: ServiceDescriptor, options: AcceptServiceOptions): AppSession;
  reject(status: number, reason: string | undefined, options: RejectOptions): void;
  /** True when the client cancelled the INVITE. */
  cancelled(): boolean;
}

/**
 * The `res` of an INVITE handler: answer once, with `accept()` (200 with
 * the service descriptor; returns the {@link AppSession}) or `reject()`.
 * A handler that returns without answering gets 500 on its behalf.
 *
 * @example
 * ```ts
 * app.invite('wine', async (req, res) => {
 *   if (req.details.category === 'spirits') return res.reject(404, 'No Spirits Here');
 *   const session = res.accept({ url: `https://wine.example/?token=${req.token}`, title: 'The Wine Cellar' });
 *   session.on('ended', ({ by }) => log.info({ by }, 'bye'));
 * });
 * ```
 */
export class ServiceResponse {
  private _answered: 'accepted' | 'rejected' | undefined;

  /** @internal Made by the app server. */
  constructor(private readonly sink: ServiceResponseSink) {}

  /** `accepted`, `rejected`, or undefined while unanswered. */
  get answered(): 'accepted' | 'rejected' | undefined {
    return this._answered;
  }

  /**
   * Answers 200 with `descriptor` as `application/vnd.siprelay.service+json`
   * (with an SDP answer too, when the client sent SDP: see `sdpAnswer`), and
   * returns the session. Throws TypeError for a descriptor without an
   * absolute http(s) `url`, `APPSERVER_ERR_CANCELLED` when the client
   * cancelled first, `APPSERVER_ERR_ALREADY_ANSWERED` the second time.
   */
  accept(descriptor: ServiceDescriptor, options: AcceptServiceOptions = {}): AppSession {
    this.assertOpen();
    const session = this.sink.accept(descriptor, options);
    this._answered = 'accepted';
    return session;
  }

  /**
   * Refuses with `status` (300–699; 486, 503, 404, 403 usually) and an
   * optional reason phrase; `retryAfter` adds Retry-After. The refusal
   * reaches the client unchanged. After a CANCEL it does nothing (the
   * client already got 487).
   */
  reject(status: RejectStatus, reason?: string, options: RejectOptions = {}): void {
    if (!Number.isInteger(status) || status < 300 || status > 699) throw new TypeError(`reject needs a status in 300..699, got ${String(status)}`);
    if (reason !== undefined && (typeof reason !== 'string' || /[\r\n]/.test(reason))) throw new TypeError('the reason phrase must be one line of text');
    if (options.retryAfter !== undefined && (!Number.isSafeInteger(options.retryAfter) || options.retryAfter < 0)) {
      throw new TypeError('retryAfter must be a non-negative integer of seconds');
    }
    if (this._answered) throw appServerError('APPSERVER_ERR_ALREADY_ANSWERED', `the INVITE was already ${this._answered}`);
    this._answered = 'rejected';
    if (this.sink.cancelled()) return;
    this.sink.reject(status, reason, options);
  }

  private assertOpen(): void {
    if (this._answered) throw appServerError('APPSERVER_ERR_ALREADY_ANSWERED', `the INVITE was already ${this._answered}`);
    if (this.sink.cancelled()) throw appServerError('APPSERVER_ERR_CANCELLED', 'the client cancelled the request before it was accepted');
  }
}
