import type { SipRequest } from '../message/sip-request.js';
import type { SipResponse } from '../message/sip-response.js';
import { TypedEmitter, type ListenerErrorHandler } from '../util/typed-emitter.js';
import { LazyOutcome } from './lazy-outcome.js';
import { UserAgentError } from './user-agent-error.js';

/** One NOTIFY of the implicit subscription of a REFER we sent (RFC 3515 §2.4.5). */
export interface ReferNotification {
  request: SipRequest;
  /** Status of the sipfrag status line (`SIP/2.0 180 Ringing` → 180); undefined when the body is not one. */
  status: number | undefined;
  reason: string;
  /** True when `Subscription-State` is `terminated`: no NOTIFY follows. */
  final: boolean;
}

export interface OutgoingReferEvents {
  /** A 2xx (normally 202) to the REFER. */
  accepted: SipResponse;
  /** A final non-2xx to the REFER. */
  rejected: SipResponse;
  /** The REFER got no final response (timeout, transport). */
  failed: UserAgentError;
  /** A NOTIFY reporting the progress of the referenced request. */
  notify: ReferNotification;
}

/** `'pending'` until the final response; `'accepted'` until the final NOTIFY; then `'done'`. */
export type OutgoingReferState = 'pending' | 'accepted' | 'done' | 'rejected' | 'failed';

/**
 * A REFER we sent in a session (`session.refer()`), and the NOTIFYs of its
 * implicit subscription, which the session routes here by the `id` of
 * their Event header (RFC 3515 §2.4.6) and answers 200.
 *
 * ```ts
 * const refer = session.refer('sip:beer@portal.test');
 * refer.on('notify', ({ status, final }) => final && console.log('transfer ended with', status));
 * const response = await refer.response; // 202, or the refusal
 * ```
 */
export class OutgoingRefer extends TypedEmitter<OutgoingReferEvents> {
  private _state: OutgoingReferState = 'pending';
  private readonly responseOutcome = new LazyOutcome<SipResponse>();
  private readonly doneOutcome = new LazyOutcome<ReferNotification | undefined>();
  private _id: number;

  constructor(onListenerError: ListenerErrorHandler, id: number) {
    super(onListenerError);
    this._id = id;
  }

  get state(): OutgoingReferState {
    return this._state;
  }

  /** The CSeq number of the REFER, which NOTIFYs name as `Event: refer;id=…`. */
  get id(): number {
    return this._id;
  }

  /** The final response to the REFER; rejects with a UserAgentError on timeout or transport failure. */
  get response(): Promise<SipResponse> {
    return this.responseOutcome.get();
  }

  /**
   * The final NOTIFY, once the subscription ends; undefined when the REFER
   * was accepted without subscription (RFC 4488). Rejects with
   * `SIP_ERR_REJECTED` when the REFER was refused, or the REFER's error.
   */
  get completion(): Promise<ReferNotification | undefined> {
    return this.doneOutcome.get();
  }

  /** @internal The REFER was re-sent with a new CSeq after a challenge. */
  setId(id: number): void {
    this._id = id;
  }

  /** @internal The REFER's final response (a NOTIFY may have overtaken it). */
  receiveResponse(response: SipResponse): void {
    if (this.responseOutcome.settled || this._state === 'failed') return;
    this.responseOutcome.resolve(response);
    if (response.status < 300) {
      const noSubscription = response.header('refer-sub')?.trim().toLowerCase() === 'false';
      if (this._state === 'pending') this._state = noSubscription ? 'done' : 'accepted';
      this.emit('accepted', response);
      if (noSubscription) this.doneOutcome.resolve(undefined);
    } else {
      this._state = 'rejected';
      this.emit('rejected', response);
      this.doneOutcome.reject(new UserAgentError('SIP_ERR_REJECTED', `REFER rejected with ${response.status}`, response));
    }
  }

  /** @internal The REFER failed, or the session ended before the subscription did. */
  fail(error: UserAgentError): void {
    if (this._state === 'pending' || !this.responseOutcome.settled) {
      this._state = 'failed';
      this.responseOutcome.reject(error);
      this.doneOutcome.reject(error);
      this.emit('failed', error);
    } else if (this._state === 'accepted') {
      this._state = 'done';
      this.doneOutcome.reject(error);
    }
  }

  /** @internal A NOTIFY of this subscription; returns the notification passed to listeners. */
  receiveNotify(request: SipRequest): ReferNotification {
    const { status, reason } = parseSipFragStatus(request.bodyText);
    const final = (request.header('subscription-state') ?? '').trim().toLowerCase().startsWith('terminated');
    const notification: ReferNotification = { request, status, reason, final };
    // A NOTIFY may overtake the 202 (RFC 3515 §2.4.4 allows it); it implies acceptance.
    if (this._state === 'pending') this._state = 'accepted';
    if (final && this._state === 'accepted') this._state = 'done';
    this.emit('notify', notification);
    if (final) this.doneOutcome.resolve(notification);
    return notification;
  }
}

/** Reads the status line of a `message/sipfrag` body (RFC 3420): `SIP/2.0 200 OK`. */
export function parseSipFragStatus(text: string): { status: number | undefined; reason: string } {
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  const m = /^SIP\/2\.0[ \t]+([1-6][0-9][0-9])(?:[ \t]+(.*))?$/i.exec(line.trim());
  if (!m) return { status: undefined, reason: '' };
  return { status: Number(m[1]), reason: (m[2] ?? '').trim() };
}
