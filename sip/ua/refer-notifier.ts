import type { SipResponse } from '../message/sip-response.js';
import { reasonPhrase } from '../message/reason-phrases.js';
import type { Session } from './session.js';

/** How long the implicit subscription of a REFER is announced to last, in seconds (RFC 3515 §2.4.4 leaves it to the notifier). */
export const DEFAULT_REFER_SUBSCRIPTION_EXPIRES = 60;

/**
 * The notifier side of the implicit subscription a REFER creates (RFC 3515
 * §2.4.4–2.4.6): after the 202, NOTIFY requests in the session carry the
 * progress of the referenced request as a `message/sipfrag` status line,
 * with `Event: refer;id=<CSeq of the REFER>`. The first one (100 Trying)
 * is sent on acceptance; a final status (≥ 200) ends the subscription
 * (`Subscription-State: terminated;reason=noresource`).
 *
 * When the REFER carried `Refer-Sub: false` (RFC 4488) there is no
 * subscription, and {@link notify} sends nothing.
 */
export class ReferNotifier {
  private _done: boolean;

  constructor(
    private readonly session: Session,
    /** CSeq number of the REFER, the `id` of the Event header (§2.4.6). */
    readonly id: number,
    /** False when the REFER asked for no subscription (RFC 4488). */
    readonly subscribed: boolean,
    private readonly expires = DEFAULT_REFER_SUBSCRIPTION_EXPIRES,
  ) {
    this._done = !subscribed;
  }

  /** True after the final NOTIFY was sent (or when there is no subscription). */
  get done(): boolean {
    return this._done;
  }

  /**
   * Reports the status of the referenced request: `SIP/2.0 <status> <reason>`.
   * Resolves with the response to the NOTIFY, or undefined when nothing was
   * sent (no subscription, or already final). Rejects like any request in
   * the session (`SIP_ERR_SESSION_TERMINATED`, timeouts...).
   */
  notify(status: number, reason?: string): Promise<SipResponse | undefined> {
    if (!Number.isInteger(status) || status < 100 || status > 699) throw new TypeError(`${status} is not a SIP status code`);
    if (this._done) return Promise.resolve(undefined);
    const final = status >= 200;
    if (final) this._done = true;
    return this.session.notify({
      event: 'refer;id=' + this.id,
      subscriptionState: final ? 'terminated;reason=noresource' : 'active;expires=' + this.expires,
      body: `SIP/2.0 ${status} ${reason ?? reasonPhrase(status)}\r\n`,
      contentType: 'message/sipfrag;version=2.0',
    });
  }
}
