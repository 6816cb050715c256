import type { OutgoingInvite } from '../../../sip/ua/outgoing-invite.js';
import type { PortalProblem } from './portal-problem.js';

/**
 * A service being opened: the INVITE is out and no 2xx has come yet, or it
 * failed. Once a 2xx comes it gives way to a {@link ServiceSession} (to
 * several, for a compared fork).
 */
export class OpeningRequest {
  readonly kind = 'opening' as const;
  state: 'calling' | 'failed' = 'calling';
  problem: PortalProblem | undefined;
  /** Answers received so far (1xx), for the card. */
  progress: string | undefined;

  constructor(
    /** Local id, unique in the page. */
    readonly key: string,
    readonly service: string,
    readonly details: Readonly<Record<string, unknown>> | undefined,
    /** `performance.now()` of the click that opened it (the budget's start). */
    readonly clickedAt: number,
    /** The compare group this request opens (the request's key), or undefined for a single session. */
    readonly group: string | undefined,
    /** What it continues: a transfer from another session. */
    readonly transferFrom: string | undefined,
    readonly invite: OutgoingInvite,
  ) {}
}
